/*
 * lib/compile/ast.h — the syntax tree the parser builds and the lowering passes rewrite.
 *
 * Node types and field names follow ESTree (the shape Acorn, Babel and ESLint share), so every later pass maps
 * onto well-known semantics. One struct, ew__node_t, with a common header (type, flags, position) and a union of
 * per-shape structs; several ESTree types share a shape when their fields are named alike (BinaryExpression,
 * LogicalExpression and AssignmentExpression all use `binary`). Which union member a type uses is listed in
 * EW__NODE_TYPES below, and ast.c holds a table of every type's fields (name, kind, offset) that drives the JSON
 * dump and the generic child visitor, so a new node type (TypeScript later) is one line here and one table row.
 *
 * Lifetime: every node, list and string lives in the arena of the compilation (arena.c) and dies with it.
 * Positions: start/end are byte offsets into the UTF-8 source; line and col are 1-based, col counted in UTF-16
 * code units like JavaScript engines report it (a line of ASCII: col = byte offset in the line + 1).
 */
#ifndef EW_COMPILE_AST_H
#define EW_COMPILE_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ew__node ew__node_t;

/* A byte string in the arena, not NUL-terminated unless said. Decoded literal values are WTF-8: UTF-8 in which a
 * lone surrogate (from a \uD800 escape) is kept as its 3-byte sequence; a pair written as two escapes is joined. */
typedef struct ew__str {
    const char *s;
    uint32_t len;
} ew__str_t;

/* An interned identifier name: within one parse, equal names are the same pointer. Passes that make new names
 * use ew__atom_new (not interned) and compare with ew__atom_eq. The last fields are parser scratch state. */
typedef struct ew__atom {
    const char *s;            /* NUL-terminated UTF-8 */
    uint32_t len;
    uint32_t hash;
    uint8_t keyword;          /* token type if a reserved word, else 0 (internal.h) */
    uint8_t flags;            /* parser scratch: EW__ATOM_EXPORTED ... */
    struct ew__atom *chain;   /* hash chain */
    struct ew__binding *bindings; /* parser scratch: declarations of this name in open scopes */
} ew__atom_t;

/* A list of nodes; an item is NULL for an array hole (`[a, , b]`). */
typedef struct ew__nodes {
    ew__node_t **items;
    uint32_t len;
} ew__nodes_t;

/* X(type, union member) for every node type. */
#define EW__NODE_TYPES(X)                                                                                          \
    X(Program, program)                                                                                            \
    X(Identifier, ident)                                                                                           \
    X(PrivateIdentifier, ident)                                                                                    \
    X(Literal, literal)                                                                                            \
    X(TemplateLiteral, template)                                                                                   \
    X(TemplateElement, template_element)                                                                           \
    X(TaggedTemplateExpression, tagged)                                                                            \
    X(ThisExpression, none)                                                                                        \
    X(Super, none)                                                                                                 \
    X(ArrayExpression, array)                                                                                      \
    X(ArrayPattern, array)                                                                                         \
    X(ObjectExpression, object)                                                                                    \
    X(ObjectPattern, object)                                                                                       \
    X(Property, property)                                                                                          \
    X(FunctionExpression, function)                                                                                \
    X(FunctionDeclaration, function)                                                                               \
    X(ArrowFunctionExpression, function)                                                                           \
    X(ClassExpression, class_)                                                                                     \
    X(ClassDeclaration, class_)                                                                                    \
    X(ClassBody, body)                                                                                             \
    X(MethodDefinition, method)                                                                                    \
    X(PropertyDefinition, field)                                                                                   \
    X(StaticBlock, body)                                                                                           \
    X(UnaryExpression, unary)                                                                                      \
    X(UpdateExpression, unary)                                                                                     \
    X(BinaryExpression, binary)                                                                                    \
    X(LogicalExpression, binary)                                                                                   \
    X(AssignmentExpression, binary)                                                                                \
    X(AssignmentPattern, assign_pattern)                                                                           \
    X(ConditionalExpression, conditional)                                                                          \
    X(CallExpression, call)                                                                                        \
    X(NewExpression, call)                                                                                         \
    X(MemberExpression, member)                                                                                    \
    X(ChainExpression, chain)                                                                                      \
    X(SequenceExpression, sequence)                                                                                \
    X(YieldExpression, yield)                                                                                      \
    X(AwaitExpression, argument)                                                                                   \
    X(SpreadElement, argument)                                                                                     \
    X(RestElement, argument)                                                                                       \
    X(ImportExpression, import_expr)                                                                               \
    X(MetaProperty, meta_property)                                                                                 \
    X(ExpressionStatement, expr_stmt)                                                                              \
    X(BlockStatement, body)                                                                                        \
    X(EmptyStatement, none)                                                                                        \
    X(DebuggerStatement, none)                                                                                     \
    X(WithStatement, with)                                                                                         \
    X(ReturnStatement, argument)                                                                                   \
    X(ThrowStatement, argument)                                                                                    \
    X(LabeledStatement, labeled)                                                                                   \
    X(BreakStatement, jump)                                                                                        \
    X(ContinueStatement, jump)                                                                                     \
    X(IfStatement, conditional)                                                                                    \
    X(SwitchStatement, switch_)                                                                                    \
    X(SwitchCase, switch_case)                                                                                     \
    X(TryStatement, try_)                                                                                          \
    X(CatchClause, catch_)                                                                                         \
    X(WhileStatement, while_)                                                                                      \
    X(DoWhileStatement, while_)                                                                                    \
    X(ForStatement, for_)                                                                                          \
    X(ForInStatement, for_in)                                                                                      \
    X(ForOfStatement, for_in)                                                                                      \
    X(VariableDeclaration, var_decl)                                                                               \
    X(VariableDeclarator, declarator)                                                                              \
    X(ImportDeclaration, import_decl)                                                                              \
    X(ImportSpecifier, import_spec)                                                                                \
    X(ImportDefaultSpecifier, import_spec)                                                                         \
    X(ImportNamespaceSpecifier, import_spec)                                                                       \
    X(ExportNamedDeclaration, export_named)                                                                        \
    X(ExportSpecifier, export_spec)                                                                                \
    X(ExportDefaultDeclaration, export_default)                                                                    \
    X(ExportAllDeclaration, export_all)

typedef enum ew__node_type {
#define EW__X_ENUM(t, m) EW__N_##t,
    EW__NODE_TYPES(EW__X_ENUM)
#undef EW__X_ENUM
    EW__N_COUNT
} ew__node_type_t;

/* Literal.kind */
enum { EW__LIT_NULL, EW__LIT_BOOL, EW__LIT_NUMBER, EW__LIT_STRING, EW__LIT_REGEX };

/* VariableDeclaration.kind */
enum { EW__VAR_VAR, EW__VAR_LET, EW__VAR_CONST };

/* Property.kind and MethodDefinition.kind */
enum { EW__PROP_INIT, EW__PROP_GET, EW__PROP_SET, EW__PROP_METHOD, EW__PROP_CONSTRUCTOR };

/* ew__node_t.flags */
enum {
    EW__NF_PAREN = 1,        /* the expression was written in parentheses: `(a)`; ESTree drops the parens */
    EW__NF_STRICT = 2,       /* on functions and Program: the body is strict code */
    EW__NF_SIMPLE_PARAMS = 4 /* on functions: no defaults, no patterns, no rest */
};

struct ew__node {
    uint8_t type;    /* ew__node_type_t */
    uint8_t flags;   /* EW__NF_* */
    uint16_t spare;
    uint32_t start;  /* byte offset of the first character */
    uint32_t end;    /* byte offset just past the last character */
    uint32_t line;   /* 1-based line of start */
    uint32_t col;    /* 1-based column of start, UTF-16 code units */
    uint32_t feat;   /* lower.c: what the subtree holds for the lowering passes (EW__FEAT_* | EW__FEAT_VALID, set by
                      * each walk; 0 = unknown, e.g. a node a pass built), so a pass skips subtrees with nothing for
                      * it; fits the padding before the union */
    union {
        struct { ew__nodes_t body; bool module; } program;
        struct { ew__atom_t *name; } ident;      /* PrivateIdentifier: name without the '#' */
        struct {
            uint8_t kind;        /* EW__LIT_*; the source text ("raw") is src[start, end) */
            bool boolean;
            double number;
            ew__str_t string;    /* decoded string value (WTF-8); for a regex, its body */
            ew__str_t flags;     /* regex flags */
        } literal;
        struct { ew__nodes_t quasis, expressions; } template;
        struct {
            ew__str_t raw;       /* source text between the delimiters, line endings normalised to \n */
            ew__str_t cooked;    /* decoded; cooked.s == NULL when an escape is invalid (tagged templates only) */
            bool tail;
        } template_element;
        struct { ew__node_t *tag, *quasi; } tagged;
        struct { ew__nodes_t elements; } array;
        struct { ew__nodes_t properties; } object;
        struct { ew__node_t *key, *value; uint8_t kind; bool computed, shorthand, method; } property;
        struct {
            ew__node_t *id;      /* NULL for anonymous functions and arrows */
            ew__nodes_t params;
            ew__node_t *body;    /* BlockStatement, or an expression for `expression` arrows */
            bool generator, async, expression;
        } function;
        struct { ew__node_t *id, *super_class, *body; } class_;
        struct { ew__nodes_t body; } body;
        struct { ew__node_t *key, *value; uint8_t kind; bool computed, is_static; } method;
        struct { ew__node_t *key, *value; bool computed, is_static; } field;
        struct { ew__node_t *argument; uint8_t op; bool prefix; } unary;   /* op: token type */
        struct { ew__node_t *left, *right; uint8_t op; } binary;           /* op: token type */
        struct { ew__node_t *left, *right; } assign_pattern;
        struct { ew__node_t *test, *consequent, *alternate; } conditional;
        struct { ew__node_t *callee; ew__nodes_t arguments; bool optional; } call;
        struct { ew__node_t *object, *property; bool computed, optional; } member;
        struct { ew__node_t *expression; } chain;
        struct { ew__nodes_t expressions; } sequence;
        struct { ew__node_t *argument; bool delegate; } yield;
        struct { ew__node_t *argument; } argument;
        struct { ew__node_t *source; } import_expr;
        struct { ew__node_t *meta, *property; } meta_property;
        struct { ew__node_t *expression; ew__str_t directive; } expr_stmt; /* directive.s != NULL in a prologue */
        struct { ew__node_t *object, *body; } with;
        struct { ew__node_t *label, *body; } labeled;
        struct { ew__node_t *label; } jump;
        struct { ew__node_t *discriminant; ew__nodes_t cases; } switch_;
        struct { ew__node_t *test; ew__nodes_t consequent; } switch_case;
        struct { ew__node_t *block, *handler, *finalizer; } try_;
        struct { ew__node_t *param, *body; } catch_;
        struct { ew__node_t *test, *body; } while_;
        struct { ew__node_t *init, *test, *update, *body; } for_;
        struct { ew__node_t *left, *right, *body; bool await; } for_in;
        struct { ew__nodes_t declarations; uint8_t kind; } var_decl;
        struct { ew__node_t *id, *init; } declarator;
        struct { ew__nodes_t specifiers; ew__node_t *source; } import_decl;
        struct { ew__node_t *imported, *local; } import_spec;
        struct { ew__node_t *declaration; ew__nodes_t specifiers; ew__node_t *source; } export_named;
        struct { ew__node_t *local, *exported; } export_spec;
        struct { ew__node_t *declaration; } export_default;
        struct { ew__node_t *exported, *source; } export_all;
    } as;
};

/* ---------------------------------------------------------------------------------------------------------
 * Reflection (ast.c): the field table behind the dump and the visitor.
 */

typedef enum ew__field_kind {
    EW__F_NODE,   /* ew__node_t * (may be NULL) */
    EW__F_LIST,   /* ew__nodes_t */
    EW__F_BOOL,   /* bool */
    EW__F_OP,     /* uint8_t token type, printed as its text */
    EW__F_VKIND,  /* uint8_t EW__VAR_* */
    EW__F_PKIND,  /* uint8_t EW__PROP_* */
    EW__F_ATOM,   /* ew__atom_t * */
    EW__F_STR     /* ew__str_t (NULL .s printed as null) */
} ew__field_kind_t;

typedef struct ew__field {
    const char *name;   /* ESTree field name */
    uint8_t kind;       /* ew__field_kind_t */
    uint16_t offset;    /* offsetof(ew__node_t, ...) */
} ew__field_t;

/* ESTree type name of a node type ("Identifier"). */
const char *ew__node_type_name(ew__node_type_t type);
/* The fields of a node type, ending with a NULL name. Literal's value is special-cased by its users. */
const ew__field_t *ew__node_fields(ew__node_type_t type);

/* Calls fn(slot, ud) for every child node slot of n in source order (holes and NULL children skipped). A pass may
 * replace *slot. Returns early with fn's non-zero result. */
typedef int (*ew__visit_fn)(ew__node_t **slot, void *ud);
int ew__node_children(ew__node_t *n, ew__visit_fn fn, void *ud);

/* Text of an operator token stored in unary/binary.op ("+", "instanceof", "??="). */
const char *ew__op_text(uint8_t op);

/* True if two atoms name the same identifier. */
bool ew__atom_eq(const ew__atom_t *a, const ew__atom_t *b);

#endif /* EW_COMPILE_AST_H */
