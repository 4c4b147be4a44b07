/* The compiler's front end (lib/compile): source in, ESTree-shaped AST or a positioned SyntaxError out.
 * Tables of source -> expected JSON fragment (the dump without positions) and source -> "line:col message". */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/internal.h"

typedef struct parsed {
    ew__arena_t arena;
    ew__diag_t diag;
    ew__node_t *prog;
} parsed_t;

static void parse(parsed_t *r, const char *src, bool module)
{
    ew__arena_init(&r->arena);
    ew__diag_init(&r->diag);
    ew__parse_opts_t opts = {src, strlen(src), "app.js", module};
    r->prog = ew__parse(&r->arena, &opts, &r->diag);
}

static void dispose(parsed_t *r)
{
    ew__diag_dispose(&r->diag);
    ew__arena_dispose(&r->arena);
}

/* JSON of the parse (no positions, no raw), or "ERROR line:col message". Caller frees. */
static char *json_of(const char *src, bool module)
{
    parsed_t r;
    parse(&r, src, module);
    char *out = NULL;
    if (r.prog) {
        cr_assert(ew__ast_dump(r.prog, NULL, false, &out, NULL));
    } else {
        size_t n = strlen(r.diag.message) + 64;
        out = malloc(n);
        snprintf(out, n, "ERROR %u:%u %s", r.diag.line, r.diag.column, r.diag.message);
    }
    dispose(&r);
    return out;
}

typedef struct ast_case {
    const char *src;
    bool module;
    const char *fragment;
} ast_case_t;

typedef struct err_case {
    const char *src;
    bool module;
    const char *expected; /* "line:col message" */
} err_case_t;

static void check_ast_table(const ast_case_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *json = json_of(t[i].src, t[i].module);
        cr_expect(strstr(json, t[i].fragment) != NULL, "source: %s\nexpected fragment: %s\ngot: %s", t[i].src,
                  t[i].fragment, json);
        free(json);
    }
}

static void check_error_table(const err_case_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        parsed_t r;
        parse(&r, t[i].src, t[i].module);
        char got[300] = "parsed without error";
        if (!r.prog)
            snprintf(got, sizeof got, "%u:%u %s", r.diag.line, r.diag.column, r.diag.message);
        cr_expect_str_eq(got, t[i].expected, "source: %s\nexpected: %s\ngot:      %s", t[i].src, t[i].expected, got);
        dispose(&r);
    }
}

#define TABLE_SIZE(t) (sizeof(t) / sizeof((t)[0]))

/* ---------------------------------------------------------------------------------------------------------
 * ESTree shapes
 */

Test(compile_parser, declarations_and_patterns)
{
    static const ast_case_t t[] = {
        {"var a = 1, b;", false,
         "{\"type\":\"VariableDeclaration\",\"declarations\":[{\"type\":\"VariableDeclarator\",\"id\":{\"type\":"
         "\"Identifier\",\"name\":\"a\"},\"init\":{\"type\":\"Literal\",\"value\":1}},{\"type\":"
         "\"VariableDeclarator\",\"id\":{\"type\":\"Identifier\",\"name\":\"b\"},\"init\":null}],\"kind\":\"var\"}"},
        {"let {a, b: [c = 1, ...d], ...e} = o;", false,
         "{\"type\":\"ObjectPattern\",\"properties\":[{\"type\":\"Property\",\"key\":{\"type\":\"Identifier\","
         "\"name\":\"a\"},\"value\":{\"type\":\"Identifier\",\"name\":\"a\"},\"kind\":\"init\",\"computed\":false,"
         "\"shorthand\":true,\"method\":false},{\"type\":\"Property\",\"key\":{\"type\":\"Identifier\",\"name\":\"b\"},"
         "\"value\":{\"type\":\"ArrayPattern\",\"elements\":[{\"type\":\"AssignmentPattern\",\"left\":{\"type\":"
         "\"Identifier\",\"name\":\"c\"},\"right\":{\"type\":\"Literal\",\"value\":1}},{\"type\":\"RestElement\","
         "\"argument\":{\"type\":\"Identifier\",\"name\":\"d\"}}]}"},
        {"const [, x] = y;", false, "\"id\":{\"type\":\"ArrayPattern\",\"elements\":[null,{\"type\":\"Identifier\""},
        {"[a, {b}] = c;", false,
         "{\"type\":\"AssignmentExpression\",\"left\":{\"type\":\"ArrayPattern\",\"elements\":[{\"type\":"
         "\"Identifier\",\"name\":\"a\"},{\"type\":\"ObjectPattern\""},
        {"({a = 1} = o);", false,
         "\"value\":{\"type\":\"AssignmentPattern\",\"left\":{\"type\":\"Identifier\",\"name\":\"a\"},\"right\":"},
        {"for ([a, b] of c);", false, "{\"type\":\"ForOfStatement\",\"await\":false,\"left\":{\"type\":\"ArrayPattern\""},
        {"for (const k in o);", false, "{\"type\":\"ForInStatement\",\"left\":{\"type\":\"VariableDeclaration\""},
        {"let\nx = 1", false, "\"kind\":\"let\""},
        {"var let = 1; let;", false, "\"id\":{\"type\":\"Identifier\",\"name\":\"let\"}"},
        {"try {} catch {}", false, "{\"type\":\"CatchClause\",\"param\":null,"},
        {"a: for (;;) { continue a; }", false,
         "{\"type\":\"LabeledStatement\",\"label\":{\"type\":\"Identifier\",\"name\":\"a\"},\"body\":{\"type\":"
         "\"ForStatement\""},
        {"with (o) x;", false, "{\"type\":\"WithStatement\""},
    };
    check_ast_table(t, TABLE_SIZE(t));
}

Test(compile_parser, functions_arrows_classes)
{
    static const ast_case_t t[] = {
        {"(a, b = 1, ...c) => a", false,
         "{\"type\":\"ArrowFunctionExpression\",\"id\":null,\"params\":[{\"type\":\"Identifier\",\"name\":\"a\"},"
         "{\"type\":\"AssignmentPattern\""},
        {"x => { return x }", false, "\"generator\":false,\"async\":false,\"expression\":false"},
        {"async x => x", false, "\"async\":true,\"expression\":true"},
        {"async (x) => await x", false, "\"body\":{\"type\":\"AwaitExpression\""},
        {"async(x)", false, "{\"type\":\"CallExpression\",\"callee\":{\"type\":\"Identifier\",\"name\":\"async\"}"},
        {"async function* g() { yield* h(); for await (const x of y); }", false,
         "{\"type\":\"ForOfStatement\",\"await\":true"},
        {"function* g() { yield\nx }", false, "{\"type\":\"YieldExpression\",\"argument\":null,\"delegate\":false}"},
        {"class A extends B { #x = 1; static y; static { this.z = 1 } get g() { return this.#x } set g(v) {} "
         "static async *m() {} constructor() { super(); } has(o) { return #x in o } }",
         false, "{\"type\":\"PropertyDefinition\",\"key\":{\"type\":\"PrivateIdentifier\",\"name\":\"x\"}"},
        {"class A { static { } }", false, "{\"type\":\"StaticBlock\",\"body\":[]}"},
        {"class A { static async *m() {} }", false,
         "\"kind\":\"method\",\"computed\":false,\"static\":true"},
        {"class A { constructor() {} }", false, "\"kind\":\"constructor\""},
        {"class A { get\nx() {} }", false, "\"kind\":\"get\""},
        {"class A { async\nx(){} }", false, "{\"type\":\"PropertyDefinition\",\"key\":{\"type\":\"Identifier\","
                                            "\"name\":\"async\"}"},
        {"class A { #p; m(o) { return #p in o } }", false,
         "{\"type\":\"BinaryExpression\",\"left\":{\"type\":\"PrivateIdentifier\",\"name\":\"p\"},\"operator\":\"in\""},
        {"o = { get a() {}, set a(v) {}, m() {}, async *n() {}, [k]: 1, 'q': 2, __proto__: null }", false,
         "\"kind\":\"get\",\"computed\":false,\"shorthand\":false,\"method\":false"},
        {"function f() { return new.target }", false,
         "{\"type\":\"MetaProperty\",\"meta\":{\"type\":\"Identifier\",\"name\":\"new\"},\"property\":{\"type\":"
         "\"Identifier\",\"name\":\"target\"}}"},
        {"function f() { 'use strict'; }", false, "\"directive\":\"use strict\""},
    };
    check_ast_table(t, TABLE_SIZE(t));
}

Test(compile_parser, expressions)
{
    static const ast_case_t t[] = {
        {"a?.b.c()", false,
         "{\"type\":\"ChainExpression\",\"expression\":{\"type\":\"CallExpression\",\"callee\":{\"type\":"
         "\"MemberExpression\",\"object\":{\"type\":\"MemberExpression\",\"object\":{\"type\":\"Identifier\","
         "\"name\":\"a\"},\"property\":{\"type\":\"Identifier\",\"name\":\"b\"},\"computed\":false,\"optional\":true}"},
        {"a?.[0]?.()", false, "\"arguments\":[],\"optional\":true"},
        {"(a?.b).c", false, "{\"type\":\"MemberExpression\",\"object\":{\"type\":\"ChainExpression\""},
        {"a ?? b", false, "{\"type\":\"LogicalExpression\",\"left\":{\"type\":\"Identifier\",\"name\":\"a\"},"
                          "\"operator\":\"??\""},
        {"(a || b) ?? c", false, "\"operator\":\"??\""},
        {"a ||= b; c &&= d; e ?\?= f; g **= 2", false,
         "\"operator\":\"?\?=\""},
        {"2 ** -1", false, "{\"type\":\"BinaryExpression\",\"left\":{\"type\":\"Literal\",\"value\":2},\"operator\":"
                           "\"**\",\"right\":{\"type\":\"UnaryExpression\",\"operator\":\"-\""},
        {"a ** b ** c", false, "\"operator\":\"**\",\"right\":{\"type\":\"BinaryExpression\",\"left\":{\"type\":"
                               "\"Identifier\",\"name\":\"b\"}"},
        {"(-a) ** b", false, "\"left\":{\"type\":\"UnaryExpression\",\"operator\":\"-\""},
        {"++a ** 2", false, "\"left\":{\"type\":\"UpdateExpression\",\"operator\":\"++\",\"prefix\":true"},
        {"a = b ? c : d, e", false, "{\"type\":\"SequenceExpression\""},
        {"new A.b(c)", false, "{\"type\":\"NewExpression\",\"callee\":{\"type\":\"MemberExpression\""},
        {"new new A()()", false, "{\"type\":\"NewExpression\",\"callee\":{\"type\":\"NewExpression\""},
        {"import('m')", false, "{\"type\":\"ImportExpression\",\"source\":{\"type\":\"Literal\",\"value\":\"m\"}}"},
        {"x = a\n++b", false, "{\"type\":\"UpdateExpression\",\"operator\":\"++\",\"prefix\":true,\"argument\":"
                              "{\"type\":\"Identifier\",\"name\":\"b\"}}"},
        {"x = y\n(z)", false, "{\"type\":\"CallExpression\",\"callee\":{\"type\":\"Identifier\",\"name\":\"y\"}"},
        {"a = b / c / d", false, "\"operator\":\"/\""},
        {"a = /=x/g", false, "\"value\":{\"pattern\":\"=x\",\"flags\":\"g\"}"},
        {"x = {} / 1", false, "\"operator\":\"/\""},
        {"x = /(?<year>\\d{4})-\\k<year>/su", false, "\"flags\":\"su\""},
        {"yield = 1", false, "\"name\":\"yield\""},
        {"await = 1", false, "\"name\":\"await\""},
        {"async = 1; of = 2; get = 3; set = 4; static = 5", false, "\"name\":\"static\""},
    };
    check_ast_table(t, TABLE_SIZE(t));
}

Test(compile_parser, templates)
{
    static const ast_case_t t[] = {
        {"`a${b}c`", false,
         "{\"type\":\"TemplateLiteral\",\"quasis\":[{\"type\":\"TemplateElement\",\"raw\":\"a\",\"cooked\":\"a\","
         "\"tail\":false},{\"type\":\"TemplateElement\",\"raw\":\"c\",\"cooked\":\"c\",\"tail\":true}],"
         "\"expressions\":[{\"type\":\"Identifier\",\"name\":\"b\"}]}"},
        {"`${`${x}`}`", false, "\"expressions\":[{\"type\":\"TemplateLiteral\""},
        {"tag`\\u{` + `\\n`", false,
         "{\"type\":\"TemplateElement\",\"raw\":\"\\\\u{\",\"cooked\":null,\"tail\":true}"},
        {"`a\r\nb`", false, "\"raw\":\"a\\nb\",\"cooked\":\"a\\nb\""},
        {"`\\x41${1}`", false, "\"raw\":\"\\\\x41\",\"cooked\":\"A\""},
        {"a.b`x`", false, "{\"type\":\"TaggedTemplateExpression\",\"tag\":{\"type\":\"MemberExpression\""},
    };
    check_ast_table(t, TABLE_SIZE(t));
}

Test(compile_parser, literal_values)
{
    static const ast_case_t t[] = {
        {"1_000_000", false, "\"value\":1000000"},
        {"0xFF_FF", false, "\"value\":65535"},
        {"0o17 + 0b101 + 0B1_1", false, "\"value\":3"},
        {"017", false, "\"value\":15"},
        {"019", false, "\"value\":19"},
        {".5e1", false, "\"value\":5"},
        {"1.5", false, "\"value\":1.5"},
        {"1e400", false, "\"value\":Infinity"},
        {"'\\x41\\u0042\\u{43}\\n'", false, "\"value\":\"ABC\\n\""},
        {"'\\uD83D\\uDE00'", false, "\"value\":\"\xF0\x9F\x98\x80\""},
        {"'\\uD800'", false, "\"value\":\"\\ud800\""},
        {"'a\\\nb'", false, "\"value\":\"ab\""},
        {"'\\101'", false, "\"value\":\"A\""},
        {"null; true; false", false, "\"value\":false"},
        {"'\xE2\x80\xA8'", false, "\"value\":\"\xE2\x80\xA8\""},
    };
    check_ast_table(t, TABLE_SIZE(t));
}

Test(compile_parser, modules)
{
    static const ast_case_t t[] = {
        {"import a, {b as c, d} from 'm';", true,
         "{\"type\":\"ImportDeclaration\",\"specifiers\":[{\"type\":\"ImportDefaultSpecifier\",\"local\":{\"type\":"
         "\"Identifier\",\"name\":\"a\"}},{\"type\":\"ImportSpecifier\",\"imported\":{\"type\":\"Identifier\","
         "\"name\":\"b\"},\"local\":{\"type\":\"Identifier\",\"name\":\"c\"}}"},
        {"import * as ns from 'm';", true, "{\"type\":\"ImportNamespaceSpecifier\",\"local\":{\"type\":\"Identifier\","
                                          "\"name\":\"ns\"}}"},
        {"import 'side';", true, "{\"type\":\"ImportDeclaration\",\"specifiers\":[],\"source\":"},
        {"export default function () {}", true,
         "{\"type\":\"ExportDefaultDeclaration\",\"declaration\":{\"type\":\"FunctionDeclaration\",\"id\":null"},
        {"export default class {}", true, "\"declaration\":{\"type\":\"ClassDeclaration\",\"id\":null"},
        {"export default 1 + 2;", true, "\"declaration\":{\"type\":\"BinaryExpression\""},
        {"let x; export { x as y, x as 'a b' };", true,
         "{\"type\":\"ExportSpecifier\",\"local\":{\"type\":\"Identifier\",\"name\":\"x\"},\"exported\":{\"type\":"
         "\"Literal\",\"value\":\"a b\"}}"},
        {"export * from 'm'; export * as n from 'm';", true,
         "{\"type\":\"ExportAllDeclaration\",\"exported\":null,\"source\""},
        {"export { default } from 'm';", true, "\"source\":{\"type\":\"Literal\",\"value\":\"m\"}"},
        {"export const a = 1, b = 2;", true, "{\"type\":\"ExportNamedDeclaration\",\"declaration\":{\"type\":"
                                             "\"VariableDeclaration\""},
        {"await x; for await (const y of z);", true, "{\"type\":\"AwaitExpression\""},
        {"import.meta.url", true, "{\"type\":\"MetaProperty\",\"meta\":{\"type\":\"Identifier\",\"name\":\"import\"}"},
        {"x", true, "\"sourceType\":\"module\""},
    };
    check_ast_table(t, TABLE_SIZE(t));
}

/* ---------------------------------------------------------------------------------------------------------
 * Early errors
 */

Test(compile_parser, redeclarations)
{
    static const err_case_t t[] = {
        {"let x; let x;", false, "1:12 Identifier 'x' has already been declared"},
        {"let x; var x;", false, "1:12 Identifier 'x' has already been declared"},
        {"var x; let x;", false, "1:12 Identifier 'x' has already been declared"},
        {"const a = 1; class a {}", false, "1:20 Identifier 'a' has already been declared"},
        {"function f(a) { let a; }", false, "1:21 Identifier 'a' has already been declared"},
        {"{ function f() {} let f; }", false, "1:23 Identifier 'f' has already been declared"},
        {"{ let y; { var y; } }", false, "1:16 Identifier 'y' has already been declared"},
        {"try {} catch (e) { let e; }", false, "1:24 Identifier 'e' has already been declared"},
        {"let let = 1;", false, "1:5 let is disallowed as a lexically bound name"},
        {"function f() {} function f() {}", true, "1:26 Identifier 'f' has already been declared"},
        {"'use strict'; { function f() {} function f() {} }", false, "1:42 Identifier 'f' has already been declared"},
        {"switch (x) { case 1: let a; case 2: let a; }", false, "1:41 Identifier 'a' has already been declared"},
        {"import {a} from 'm'; let a;", true, "1:26 Identifier 'a' has already been declared"},
    };
    check_error_table(t, TABLE_SIZE(t));
    /* what Annex B and the catch rules allow */
    static const ast_case_t ok[] = {
        {"var x; var x; function x() {}", false, "\"type\":\"FunctionDeclaration\""},
        {"{ function f() {} function f() {} }", false, "\"type\":\"FunctionDeclaration\""},
        {"try {} catch (e) { var e; }", false, "\"type\":\"TryStatement\""},
        {"function f(a) { var a; }", false, "\"type\":\"FunctionDeclaration\""},
        {"{ let a; } let a;", false, "\"kind\":\"let\""},
    };
    check_ast_table(ok, TABLE_SIZE(ok));
}

Test(compile_parser, assignment_targets_and_covers)
{
    static const err_case_t t[] = {
        {"1 = 2", false, "1:1 Invalid left-hand side in assignment"},
        {"a + b = c", false, "1:1 Invalid left-hand side in assignment"},
        {"({a}) = 1", false, "1:2 Invalid left-hand side in assignment"},
        {"[(a = 1)] = 2", false, "1:3 Invalid destructuring assignment target"},
        {"x = {a = 1}", false, "1:8 Invalid shorthand property initializer"},
        {"x = {__proto__: 1, __proto__: 2}", false,
         "1:20 Duplicate __proto__ fields are not allowed in object literals"},
        {"a?.b = 1", false, "1:1 Invalid left-hand side in assignment"},
        {"'use strict'; ++a()", false, "1:17 Invalid left-hand side expression in prefix operation"},
        {"f() &&= 1", false, "1:1 Invalid left-hand side in assignment"},
        {"a++\n++", false, "2:3 Unexpected end of input"},
        {"[...a, b] = c", false, "1:6 Comma is not permitted after the rest element"},
        {"((a)) => 1", false, "1:3 Invalid destructuring assignment target"},
        {"(a, ...b,) => 1", false, "1:9 Rest parameter must be last formal parameter"},
        {"for (let x = 1 of y);", false, "1:10 for-of loop variable declaration may not have an initializer."},
        {"for (let of x);", false, "1:13 Unexpected identifier 'x'"},
        {"for (async of x);", false, "1:6 The left-hand side of a for-of loop may not be 'async'."},
        {"const a;", false, "1:8 Missing initializer in const declaration"},
        {"let [a];", false, "1:8 Missing initializer in destructuring declaration"},
        {"-a ** 2", false,
         "1:4 Unary operator used immediately before exponentiation expression. Parenthesis must be used to "
         "disambiguate operator precedence"},
        {"a ?? b || c", false, "1:8 Unexpected token '||'"},
        {"a && b ?? c", false, "1:8 Unexpected token '?\?'"},
        {"new a?.b()", false, "1:6 Invalid optional chain from new expression"},
        {"a?.b`c`", false, "1:5 Invalid tagged template on optional chain"},
    };
    check_error_table(t, TABLE_SIZE(t));
    static const ast_case_t ok[] = {
        {"(a) = 1; [(a)] = 1; ({a: (b.c)} = 1); [a.b] = c;", false, "\"type\":\"ArrayPattern\""},
        {"({__proto__: a, __proto__: b} = c)", false, "\"type\":\"ObjectPattern\""},
        {"for (let in x);", false, "\"type\":\"ForInStatement\""},
        {"f() = 1; f()++; for (f() in o);", false, "\"type\":\"ForInStatement\""}, /* Annex B: runtime error */
    };
    check_ast_table(ok, TABLE_SIZE(ok));
}

Test(compile_parser, strict_mode)
{
    static const err_case_t t[] = {
        {"'use strict'; with (a) {}", false, "1:15 Strict mode code may not include a with statement"},
        {"with (a) {}", true, "1:1 Strict mode code may not include a with statement"},
        {"'use strict'; 010", false, "1:15 Octal literals are not allowed in strict mode."},
        {"'use strict'; 08", false, "1:15 Decimals with leading zeros are not allowed in strict mode."},
        {"'use strict'; '\\07'", false, "1:16 Octal escape sequences are not allowed in strict mode."},
        {"function f() { '\\07'; 'use strict'; }", false, "1:17 Octal escape sequences are not allowed in strict mode."},
        {"'use strict'; var eval;", false, "1:19 Unexpected eval or arguments in strict mode"},
        {"'use strict'; arguments = 1;", false, "1:15 Unexpected eval or arguments in strict mode"},
        {"'use strict'; delete x;", false, "1:15 Delete of an unqualified identifier in strict mode."},
        {"'use strict'; var public;", false, "1:19 Unexpected strict mode reserved word"},
        {"function f(a, a) { 'use strict'; }", false, "1:15 Duplicate parameter name not allowed in this context"},
        {"function f(a = 1) { 'use strict'; }", false,
         "1:21 Illegal 'use strict' directive in function with non-simple parameter list"},
        {"function eval() { 'use strict'; }", false, "1:1 Unexpected eval or arguments in strict mode"},
        {"class A { m() { with (a); } }", false, "1:17 Strict mode code may not include a with statement"},
        {"'use strict'; if (1) function f() {}", false,
         "1:22 In strict mode code, functions can only be declared at top level or inside a block."},
        {"`\\07`", false, "1:2 Octal escape sequences are not allowed in template strings"},
    };
    check_error_table(t, TABLE_SIZE(t));
    static const ast_case_t ok[] = {
        {"function f(a, a) {}", false, "\"type\":\"FunctionDeclaration\""},
        {"if (1) function f() {}", false, "\"type\":\"IfStatement\""},
        {"var eval; 010; '\\07'; delete x; with (a);", false, "\"type\":\"WithStatement\""},
        {"lbl: function f() {}", false, "\"type\":\"LabeledStatement\""},
    };
    check_ast_table(ok, TABLE_SIZE(ok));
}

Test(compile_parser, control_flow_rules)
{
    static const err_case_t t[] = {
        {"break;", false, "1:1 Illegal break statement"},
        {"continue;", false, "1:1 Illegal continue statement: no surrounding iteration statement"},
        {"a: { continue a; }", false, "1:6 Illegal continue statement: 'a' does not denote an iteration statement"},
        {"while (1) { break b; }", false, "1:19 Undefined label 'b'"},
        {"a: a: ;", false, "1:4 Label 'a' has already been declared"},
        {"return;", false, "1:1 Illegal return statement"},
        {"while (1) function f() {}", false,
         "1:11 In non-strict mode code, functions can only be declared at top level, inside a block, or as the body "
         "of an if statement."},
        {"if (1) let x = 1;", false, "1:8 Lexical declaration cannot appear in a single-statement context"},
        {"while (1) { function f() { break; } }", false, "1:28 Illegal break statement"},
        {"throw\nx", false, "1:6 Illegal newline after throw"},
        {"switch (x) { default: default: }", false, "1:23 More than one default clause in switch statement"},
        {"try {}", false, "1:7 Missing catch or finally after try"},
    };
    check_error_table(t, TABLE_SIZE(t));
    static const ast_case_t ok[] = {
        {"a: b: while (1) { continue a; }", false, "\"type\":\"ContinueStatement\""},
        {"do x; while (0) y", false, "\"type\":\"DoWhileStatement\""},
        {"function f() { return\n1 }", false, "{\"type\":\"ReturnStatement\",\"argument\":null}"},
    };
    check_ast_table(ok, TABLE_SIZE(ok));
}

Test(compile_parser, functions_and_classes_rules)
{
    static const err_case_t t[] = {
        {"(a, a) => 1", false, "1:5 Duplicate parameter name not allowed in this context"},
        {"function* g() { function* yield() {} }", false, "1:27 Unexpected identifier 'yield' in a generator"},
        {"function* g(a = yield) {}", false, "1:17 Yield expression not allowed in formal parameter"},
        {"async function f(a = await 1) {}", false,
         "1:22 Illegal await-expression in formal parameters of async function"},
        {"async function f() { var await; }", false, "1:26 Unexpected reserved word 'await'"},
        {"async (await) => 1", false, "1:8 Unexpected reserved word 'await'"},
        {"function f() { super.x; }", false, "1:16 'super' keyword unexpected here"},
        {"class A { constructor() { super(); } }", false, "1:27 'super' keyword unexpected here"},
        {"new.target", false, "1:1 new.target expression is not allowed here"},
        {"class A { m() { this.#x; } }", false, "1:22 Private field '#x' must be declared in an enclosing class"},
        {"class A { #x; #x; }", false, "1:15 Identifier '#x' has already been declared"},
        {"class A { #constructor; }", false, "1:11 Classes may not have a private field named '#constructor'"},
        {"class A { constructor() {} constructor() {} }", false, "1:28 A class may only have one constructor"},
        {"class A { get constructor() {} }", false, "1:15 Class constructor may not be a getter"},
        {"class A { static prototype() {} }", false,
         "1:18 Classes may not have a static property named 'prototype'"},
        {"class A { constructor = 1 }", false, "1:11 Classes may not have a field named 'constructor'"},
        {"class A { x = arguments; }", false,
         "1:15 'arguments' is not allowed in class field initializer or static initialization block"},
        {"class A { static { await; } }", false, "1:20 'await' is not allowed in a class static block"},
        {"class A { #x; m() { delete this.#x; } }", false, "1:21 Private fields can not be deleted"},
        {"class A { m() { super.#x; } }", false, "1:23 Unexpected private field"},
        {"o = { get a(x) {} }", false, "1:12 Getter must not have any formal parameters."},
        {"o = { set a() {} }", false, "1:12 Setter must have exactly one formal parameter."},
        {"class let {}", false, "1:7 Unexpected strict mode reserved word"},
        {"function f(...a = 1) {}", false, "1:17 Rest parameter may not have a default initializer"},
    };
    check_error_table(t, TABLE_SIZE(t));
    static const ast_case_t ok[] = {
        {"class A { #x; static m(o) { class B { n() { return o.#x; } } } }", false, "\"type\":\"ClassDeclaration\""},
        {"class A { get #a() {} set #a(v) {} }", false, "\"kind\":\"set\""},
        {"class A extends B { constructor() { (() => super())(); } m() { return () => super.m(); } }", false,
         "\"type\":\"Super\""},
        {"function* g() { (function yield() {}); }", false, "\"name\":\"yield\""},
        {"class A { m() { this.#x; } #x; }", false, "\"type\":\"PrivateIdentifier\""},
    };
    check_ast_table(ok, TABLE_SIZE(ok));
}

Test(compile_parser, module_rules)
{
    static const err_case_t t[] = {
        {"export { x };", true, "1:10 Export 'x' is not defined in module"},
        {"let a, b; export { a as c, b as c };", true, "1:33 Duplicate export of 'c'"},
        {"export default 1; export default 2;", true, "1:26 Duplicate export of 'default'"},
        {"import x from 'm';", false, "1:1 Cannot use import statement outside a module"},
        {"import.meta", false, "1:1 Cannot use 'import.meta' outside a module"},
        {"{ import x from 'm'; }", true, "1:3 Unexpected token 'import'"},
        {"var await;", true, "1:5 Unexpected reserved word 'await'"},
        {"export { if };", true, "1:10 Unexpected reserved word 'if'"},
        {"function f() { await x; }", true, "1:16 Unexpected reserved word 'await'"},
        {"new import('x')", false, "1:5 Cannot use new with import"},
    };
    check_error_table(t, TABLE_SIZE(t));
    static const ast_case_t ok[] = {
        {"export { x }; var x;", true, "\"type\":\"ExportSpecifier\""},
        {"export function f() {} f();", true, "\"type\":\"FunctionDeclaration\""},
    };
    check_ast_table(ok, TABLE_SIZE(ok));
}

Test(compile_parser, lexical_errors_and_unsupported)
{
    static const err_case_t t[] = {
        {"x = 1n;", false, "1:5 BigInt literals are not supported"},
        {"x = 0x1Fn;", false, "1:5 BigInt literals are not supported"},
        {"x = /(?<=a)b/;", false, "1:6 Lookbehind assertions in regular expressions are not supported"},
        {"x = /(?<!a)b/;", false, "1:6 Lookbehind assertions in regular expressions are not supported"},
        {"x = /\\p{L}/u;", false, "1:6 Unicode property escapes (\\p{...}) are not supported"},
        {"x = /a/gg;", false, "1:9 Invalid regular expression flags"},
        {"x = /a/x;", false, "1:8 Invalid regular expression flags"},
        {"x = /(/;", false, "1:6 Invalid regular expression: unterminated group"},
        {"x = /a**/;", false, "1:8 Invalid regular expression: nothing to repeat"},
        {"x = /[b-a]/;", false, "1:7 Invalid regular expression: range out of order in character class"},
        {"x = /(?<n>a)(?<n>b)/;", false, "1:13 Invalid regular expression: duplicate capture group name"},
        {"x = /\\k<n>/u;", false, "1:6 Invalid regular expression: invalid named capture referenced"},
        {"x = /a\n/;", false, "1:5 Invalid regular expression: missing /"},
        {"x = 1_;", false, "1:6 Numeric separators are not allowed at the end of numeric literals"},
        {"x = 1__0;", false, "1:7 Numeric separators are not allowed here"},
        {"x = 0_1;", false, "1:6 Numeric separators are not allowed here"},
        {"x = 3in [];", false, "1:6 Invalid or unexpected token"},
        {"x = 'abc", false, "1:5 Invalid or unexpected token"},
        {"x = '\\x4';", false, "1:6 Invalid hexadecimal escape sequence"},
        {"/* never closed", false, "1:1 Unterminated comment"},
        {"x = `abc", false, "1:5 Unterminated template literal"},
        {"\\u0076ar x;", false, "1:1 Keyword must not contain escaped characters"},
        {"x = @;", false, "1:5 Invalid or unexpected token"},
    };
    check_error_table(t, TABLE_SIZE(t));
    static const ast_case_t ok[] = {
        {"#!/usr/bin/env node\nx", false, "\"name\":\"x\""},
        {"x = 1 <!-- comment\n-->also comment\n;", false, "\"value\":1"},
        {"var \\u0061b\\u{63} = 1;", false, "\"name\":\"abc\""},
        {"var \xC3\xA9t\xC3\xA9 = 1;", false, "\"name\":\"\xC3\xA9t\xC3\xA9\""},
        {"x = /(?<y>a)\\k<y>/dgimsuy;", false, "\"flags\":\"dgimsuy\""},
        {"x = /[/]/;", false, "\"pattern\":\"[/]\""},
        {"x = /]{/;", false, "\"pattern\":\"]{\""},
    };
    check_ast_table(ok, TABLE_SIZE(ok));
}

/* ---------------------------------------------------------------------------------------------------------
 * Positions and diagnostics
 */

Test(compile_parser, node_positions_are_utf16_columns)
{
    parsed_t r;
    const char *src = "x = '\xF0\x9F\x98\x80';\n  y\r\n\tz";
    parse(&r, src, false);
    cr_assert_not_null(r.prog);
    ew__nodes_t body = r.prog->as.program.body;
    cr_assert_eq(body.len, 3);
    ew__node_t *assign = body.items[0]->as.expr_stmt.expression;
    ew__node_t *lit = assign->as.binary.right;
    cr_expect_eq(lit->line, 1);
    cr_expect_eq(lit->col, 5);
    cr_expect_eq(lit->start, 4);
    cr_expect_eq(lit->end, 10);
    cr_expect_eq(body.items[0]->end, 11);
    ew__node_t *y = body.items[1]->as.expr_stmt.expression;
    cr_expect_eq(y->line, 2);
    cr_expect_eq(y->col, 3);
    ew__node_t *z = body.items[2]->as.expr_stmt.expression;
    cr_expect_eq(z->line, 3);
    cr_expect_eq(z->col, 2);
    dispose(&r);

    /* the column after an astral character on the same line counts 2 UTF-16 units for it */
    parse(&r, "'\xF0\x9F\x98\x80'; )", false);
    cr_assert_null(r.prog);
    cr_expect_eq(r.diag.line, 1);
    cr_expect_eq(r.diag.column, 7);
    dispose(&r);
}

Test(compile_parser, diagnostic_text_has_code_frame)
{
    parsed_t r;
    parse(&r, "let a = 1;\nlet b = {c: };\n", false);
    cr_assert_null(r.prog);
    cr_expect_str_eq(r.diag.message, "Unexpected token '}'");
    cr_expect_eq(r.diag.line, 2);
    cr_expect_eq(r.diag.column, 13);
    cr_expect_str_eq(r.diag.text, "app.js:2:13: SyntaxError: Unexpected token '}'\n"
                                  "let b = {c: };\n"
                                  "            ^\n");
    dispose(&r);

    /* an error reported at an earlier line (the first declaration is not the culprit, the second is) */
    parse(&r, "let x;\n\n  let x;", false);
    cr_expect_str_eq(r.diag.text, "app.js:3:7: SyntaxError: Identifier 'x' has already been declared\n"
                                  "  let x;\n"
                                  "      ^\n");
    dispose(&r);
}

Test(compile_parser, deep_nesting_is_a_syntax_error)
{
    size_t n = 100000;
    char *src = malloc(2 * n + 1);
    memset(src, '[', n);
    memset(src + n, ']', n);
    src[2 * n] = 0;
    parsed_t r;
    parse(&r, src, false);
    cr_expect_null(r.prog);
    cr_expect_str_eq(r.diag.message, "Too much nesting");
    dispose(&r);
    for (size_t i = 0; i < n; i++)
        memcpy(src + 2 * i, "{", 1), src[2 * i + 1] = ' ';
    parse(&r, src, false);
    cr_expect_null(r.prog);
    cr_expect_str_eq(r.diag.message, "Too much nesting");
    dispose(&r);
    free(src);
}

typedef struct kids {
    ew__node_t *items[16];
    int n;
} kids_t;

static int collect_child(ew__node_t **slot, void *ud)
{
    kids_t *k = ud;
    k->items[k->n++] = *slot;
    return 0;
}

Test(compile_parser, visitor_walks_children_in_source_order)
{
    parsed_t r;
    parse(&r, "do a; while (b); f(c, ...d);", false);
    cr_assert_not_null(r.prog);
    char names[16] = {0};
    int nnames = 0;
    ew__node_t *stack[64];
    int sp = 0;
    stack[sp++] = r.prog;
    /* pre-order: children pushed in reverse so the leftmost is visited first */
    while (sp) {
        ew__node_t *n = stack[--sp];
        if (n->type == EW__N_Identifier && nnames < 15)
            names[nnames++] = n->as.ident.name->s[0];
        kids_t k = {{0}, 0};
        ew__node_children(n, collect_child, &k);
        while (k.n)
            stack[sp++] = k.items[--k.n];
    }
    cr_expect_str_eq(names, "abfcd");
    dispose(&r);
}

Test(compile_parser, arena_reset_keeps_one_chunk)
{
    ew__arena_t a;
    ew__arena_init(&a);
    for (int i = 0; i < 1000; i++)
        cr_assert_not_null(ew__arena_alloc(&a, 1000));
    ew__arena_reset(&a);
    void *p = ew__arena_alloc(&a, 16);
    cr_expect_not_null(p);
    cr_expect_eq((uintptr_t) p % 8, 0);
    ew__arena_dispose(&a);
}
