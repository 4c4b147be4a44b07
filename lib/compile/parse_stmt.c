/*
 * parse_stmt.c — statements and declarations (ECMAScript 2022, 14), directive prologues, labels.
 *
 * ew__parse_statement takes the context the statement appears in (EW__CTX_*): a statement-list item may be a
 * declaration; a single-statement position (loop or if body, label body) may not, except the Annex B sloppy-mode
 * allowances (a plain function as an if branch or a label body). Loops and switches count themselves in the
 * function context for break/continue; labels form a stack reset at function boundaries. Block scopes are entered
 * here (blocks, for heads, switch bodies, catch clauses) so that ew__declare sees the right nesting.
 */
#include <string.h>

#include "internal.h"

static ew__node_t *parse_expression_statement(ew__parser_t *p, int ctx);

ew__node_t *ew__parse_block(ew__parser_t *p, bool new_scope)
{
    ew__node_t *n = ew__node(p, EW__N_BlockStatement, ew__here(p));
    ew__expect(p, EW__T_LBRACE);
    ew__scope_t scope;
    if (new_scope)
        ew__scope_enter(p, &scope, 0);
    n->as.body.body = ew__parse_body(p, false, NULL, NULL);
    ew__expect(p, EW__T_RBRACE);
    if (new_scope)
        ew__scope_exit(p);
    return ew__finish(p, n);
}

/* Raw text of a string token is exactly `use strict` (no escapes, either quote). */
static bool is_use_strict(const ew__parser_t *p, const ew__token_t *t)
{
    return t->end - t->start == 12 && memcmp(p->src + t->start + 1, "use strict", 10) == 0;
}

ew__nodes_t ew__parse_body(ew__parser_t *p, bool top, ew__prologue_fn after_prologue, void *ud)
{
    uint32_t mark = ew__list_mark(p);
    bool prologue = after_prologue != NULL || top;
    uint32_t octal_at = 0, use_strict_at = 0;
    ew__tok_t end = top ? EW__T_EOF : EW__T_RBRACE;
    while (p->tok.type != end) {
        if (prologue && p->tok.type == EW__T_STRING) {
            ew__token_t t = p->tok;
            ew__node_t *s = ew__parse_statement(p, EW__CTX_DECL);
            ew__node_t *e = s->type == EW__N_ExpressionStatement ? s->as.expr_stmt.expression : NULL;
            if (e && e->type == EW__N_Literal && e->start == t.start && e->end == t.end && !(e->flags & EW__NF_PAREN)) {
                s->as.expr_stmt.directive.s = p->src + t.start + 1;
                s->as.expr_stmt.directive.len = t.end - t.start - 2;
                if ((t.flags & EW__TF_OCTAL) && !octal_at)
                    octal_at = t.bad_pos + 1;
                if (is_use_strict(p, &t)) {
                    if (!use_strict_at)
                        use_strict_at = t.start + 1;
                    p->fn->strict = true;
                    if (octal_at)
                        ew__perror(p, octal_at - 1, "Octal escape sequences are not allowed in strict mode.");
                }
                ew__list_push(p, s);
                continue;
            }
            prologue = false;
            if (after_prologue)
                after_prologue(p, ud, use_strict_at);
            ew__list_push(p, s);
            continue;
        }
        if (prologue) {
            prologue = false;
            if (after_prologue)
                after_prologue(p, ud, use_strict_at);
        }
        ew__list_push(p, ew__parse_statement(p, EW__CTX_DECL));
    }
    if (prologue && after_prologue)
        after_prologue(p, ud, use_strict_at);
    return ew__list_pop(p, mark);
}

/* ---------------------------------------------------------------------------------------------------------
 * Variable declarations
 */

ew__node_t *ew__parse_var(ew__parser_t *p, uint8_t kind, bool for_init, ew__pos_t at)
{
    ew__node_t *n = ew__node(p, EW__N_VariableDeclaration, at);
    n->as.var_decl.kind = kind;
    ew__lex_next(p); /* var / let / const */
    uint32_t mark = ew__list_mark(p);
    do {
        ew__node_t *d = ew__node(p, EW__N_VariableDeclarator, ew__here(p));
        ew__node_t *id = ew__parse_binding_target(p);
        if (kind != EW__VAR_VAR && id->type == EW__N_Identifier && id->as.ident.name == p->n.let)
            ew__perror(p, id->start, "let is disallowed as a lexically bound name");
        ew__declare_pattern(p, id, kind == EW__VAR_VAR ? EW__B_VAR : EW__B_LEXICAL);
        d->as.declarator.id = id;
        if (ew__eat(p, EW__T_ASSIGN)) {
            d->as.declarator.init = ew__parse_assign(p, for_init, NULL);
        } else if (!for_init || !(p->tok.type == EW__T_K_IN || ew__is_name(p, p->n.of))) {
            if (kind == EW__VAR_CONST)
                ew__perror(p, p->tok.start, "Missing initializer in const declaration");
            if (id->type != EW__N_Identifier)
                ew__perror(p, p->tok.start, "Missing initializer in destructuring declaration");
        }
        ew__list_push(p, ew__finish(p, d));
    } while (ew__eat(p, EW__T_COMMA));
    n->as.var_decl.declarations = ew__list_pop(p, mark);
    return ew__finish(p, n);
}

/* `let` starts a declaration here (rather than being an identifier)? */
static bool let_declaration(ew__parser_t *p, int ctx)
{
    if (!ew__is_name(p, p->n.let))
        return false;
    bool nl;
    ew__atom_t *a;
    ew__tok_t t = ew__peek(p, &nl, &a);
    if (t == EW__T_LBRACK)
        return true;
    if (ctx != EW__CTX_DECL)
        return false;
    if (t == EW__T_LBRACE)
        return true;
    /* `let` followed by a name (yield, await and let included); an escaped keyword is an error later. */
    return t == EW__T_NAME;
}

/* ---------------------------------------------------------------------------------------------------------
 * Loops
 */

static ew__node_t *parse_loop_body(ew__parser_t *p)
{
    p->fn->iter_depth++;
    p->fn->break_depth++;
    ew__node_t *body = ew__parse_statement(p, EW__CTX_STMT);
    p->fn->iter_depth--;
    p->fn->break_depth--;
    return body;
}

static ew__node_t *parse_while(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_WhileStatement, ew__here(p));
    ew__lex_next(p);
    ew__expect(p, EW__T_LPAREN);
    n->as.while_.test = ew__parse_expression(p, false, NULL);
    ew__expect(p, EW__T_RPAREN);
    n->as.while_.body = parse_loop_body(p);
    return ew__finish(p, n);
}

static ew__node_t *parse_do(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_DoWhileStatement, ew__here(p));
    ew__lex_next(p);
    n->as.while_.body = parse_loop_body(p);
    if (p->tok.type != EW__T_K_WHILE)
        ew__unexpected(p);
    ew__lex_next(p);
    ew__expect(p, EW__T_LPAREN);
    n->as.while_.test = ew__parse_expression(p, false, NULL);
    ew__expect(p, EW__T_RPAREN);
    ew__eat(p, EW__T_SEMI); /* always optional after do-while (ASI rule 3 of 12.10.1) */
    return ew__finish(p, n);
}

/* for (left in/of right) body, left already parsed. */
static ew__node_t *parse_for_in_of(ew__parser_t *p, ew__node_t *n, ew__node_t *left, bool is_await)
{
    bool of = ew__is_name(p, p->n.of);
    if (!of && is_await)
        ew__unexpected(p);
    n->type = of ? EW__N_ForOfStatement : EW__N_ForInStatement;
    n->as.for_in.left = left;
    n->as.for_in.await = is_await;
    ew__lex_next(p);
    n->as.for_in.right = of ? ew__parse_assign(p, false, NULL) : ew__parse_expression(p, false, NULL);
    ew__expect(p, EW__T_RPAREN);
    n->as.for_in.body = parse_loop_body(p);
    return ew__finish(p, n);
}

static ew__node_t *parse_for_rest(ew__parser_t *p, ew__node_t *n, ew__node_t *init, bool is_await)
{
    if (is_await)
        ew__unexpected(p);
    n->as.for_.init = init;
    ew__expect(p, EW__T_SEMI);
    if (p->tok.type != EW__T_SEMI)
        n->as.for_.test = ew__parse_expression(p, false, NULL);
    ew__expect(p, EW__T_SEMI);
    if (p->tok.type != EW__T_RPAREN)
        n->as.for_.update = ew__parse_expression(p, false, NULL);
    ew__expect(p, EW__T_RPAREN);
    n->as.for_.body = parse_loop_body(p);
    return ew__finish(p, n);
}

/* `for (var/let/const ...` */
static ew__node_t *parse_for_decl(ew__parser_t *p, ew__node_t *n, uint8_t kind, bool is_await)
{
    ew__node_t *decl = ew__parse_var(p, kind, true, ew__here(p));
    bool in = p->tok.type == EW__T_K_IN, of = ew__is_name(p, p->n.of);
    if (!in && !of) {
        /* A plain for: the initializer rules skipped for the head apply now. */
        for (uint32_t i = 0; i < decl->as.var_decl.declarations.len; i++) {
            ew__node_t *d = decl->as.var_decl.declarations.items[i];
            if (d->as.declarator.init)
                continue;
            if (kind == EW__VAR_CONST)
                ew__perror(p, d->end, "Missing initializer in const declaration");
            if (d->as.declarator.id->type != EW__N_Identifier)
                ew__perror(p, d->end, "Missing initializer in destructuring declaration");
        }
        return parse_for_rest(p, n, decl, is_await);
    }
    if (decl->as.var_decl.declarations.len != 1)
        ew__perror(p, decl->start, "Invalid left-hand side in %s loop: Must have a single binding.",
                   in ? "for-in" : "for-of");
    ew__node_t *d = decl->as.var_decl.declarations.items[0];
    if (d->as.declarator.init) {
        /* Annex B.3.5: `for (var x = 1 in o)` in sloppy code with a simple name */
        bool annex_b = in && kind == EW__VAR_VAR && !p->fn->strict && d->as.declarator.id->type == EW__N_Identifier;
        if (!annex_b)
            ew__perror(p, d->start, "%s loop variable declaration may not have an initializer.",
                       in ? "for-in" : "for-of");
    }
    return parse_for_in_of(p, n, decl, is_await);
}

static ew__node_t *parse_for(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_ForStatement, ew__here(p));
    ew__lex_next(p);
    bool is_await = false;
    if (ew__is_name(p, p->n.await)) {
        if (!(p->fn->flags & EW__FN_ASYNC))
            ew__unexpected(p);
        is_await = true;
        if (!p->await_pos)
            p->await_pos = p->tok.start + 1;
        ew__lex_next(p);
    }
    ew__expect(p, EW__T_LPAREN);
    ew__scope_t scope;
    ew__scope_enter(p, &scope, 0);
    ew__node_t *r;
    if (p->tok.type == EW__T_SEMI) {
        r = parse_for_rest(p, n, NULL, is_await);
    } else if (p->tok.type == EW__T_K_VAR) {
        r = parse_for_decl(p, n, EW__VAR_VAR, is_await);
    } else if (p->tok.type == EW__T_K_CONST) {
        r = parse_for_decl(p, n, EW__VAR_CONST, is_await);
    } else if (let_declaration(p, EW__CTX_DECL)) {
        r = parse_for_decl(p, n, EW__VAR_LET, is_await);
    } else {
        bool starts_let = ew__is_name(p, p->n.let);
        bool starts_async = ew__is_name(p, p->n.async);
        ew__cover_t c = {0};
        ew__node_t *init = ew__parse_expression(p, true, &c);
        if (p->tok.type == EW__T_K_IN || ew__is_name(p, p->n.of)) {
            bool of = p->tok.type != EW__T_K_IN;
            if (of && starts_let)
                ew__perror(p, init->start, "The left-hand side of a for-of loop may not be 'let'.");
            if (of && starts_async && !is_await && init->type == EW__N_Identifier && !(init->flags & EW__NF_PAREN))
                ew__perror(p, init->start, "The left-hand side of a for-of loop may not be 'async'.");
            if (init->type == EW__N_ObjectExpression || init->type == EW__N_ArrayExpression)
                init = ew__to_pattern(p, init, false, &c);
            else
                ew__check_simple_target(p, init);
            r = parse_for_in_of(p, n, init, is_await);
        } else {
            ew__check_cover(p, &c);
            r = parse_for_rest(p, n, init, is_await);
        }
    }
    ew__scope_exit(p);
    return r;
}

/* ---------------------------------------------------------------------------------------------------------
 * Other statements
 */

static ew__node_t *parse_if(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_IfStatement, ew__here(p));
    ew__lex_next(p);
    ew__expect(p, EW__T_LPAREN);
    n->as.conditional.test = ew__parse_expression(p, false, NULL);
    ew__expect(p, EW__T_RPAREN);
    n->as.conditional.consequent = ew__parse_statement(p, EW__CTX_IF_BODY);
    if (ew__eat(p, EW__T_K_ELSE))
        n->as.conditional.alternate = ew__parse_statement(p, EW__CTX_IF_BODY);
    return ew__finish(p, n);
}

static ew__node_t *parse_jump(ew__parser_t *p, bool is_break)
{
    ew__node_t *n = ew__node(p, is_break ? EW__N_BreakStatement : EW__N_ContinueStatement, ew__here(p));
    ew__lex_next(p);
    if (p->tok.type == EW__T_NAME && !ew__nl_before(p)) {
        ew__node_t *label = ew__parse_ident(p, false);
        ew__label_t *l = p->labels;
        while (l && l->atom != label->as.ident.name)
            l = l->parent;
        if (!l)
            ew__perror(p, label->start, "Undefined label '%.80s'", label->as.ident.name->s);
        if (!is_break && !l->loop)
            ew__perror(p, n->start, "Illegal continue statement: '%.80s' does not denote an iteration statement",
                       label->as.ident.name->s);
        n->as.jump.label = label;
    } else if (is_break && !p->fn->break_depth) {
        ew__perror(p, n->start, "Illegal break statement");
    }
    if (!is_break && !p->fn->iter_depth)
        ew__perror(p, n->start, "Illegal continue statement: no surrounding iteration statement");
    ew__semicolon(p);
    return ew__finish(p, n);
}

static ew__node_t *parse_return(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_ReturnStatement, ew__here(p));
    if (p->fn->flags & (EW__FN_TOP | EW__FN_STATIC_BLOCK))
        ew__perror(p, n->start, "Illegal return statement");
    ew__lex_next(p);
    ew__tok_t t = p->tok.type;
    if (t != EW__T_SEMI && t != EW__T_RBRACE && t != EW__T_EOF && !ew__nl_before(p))
        n->as.argument.argument = ew__parse_expression(p, false, NULL);
    ew__semicolon(p);
    return ew__finish(p, n);
}

static ew__node_t *parse_throw(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_ThrowStatement, ew__here(p));
    ew__lex_next(p);
    if (ew__nl_before(p))
        ew__perror(p, p->prev_end, "Illegal newline after throw");
    n->as.argument.argument = ew__parse_expression(p, false, NULL);
    ew__semicolon(p);
    return ew__finish(p, n);
}

static ew__node_t *parse_switch(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_SwitchStatement, ew__here(p));
    ew__lex_next(p);
    ew__expect(p, EW__T_LPAREN);
    n->as.switch_.discriminant = ew__parse_expression(p, false, NULL);
    ew__expect(p, EW__T_RPAREN);
    ew__expect(p, EW__T_LBRACE);
    ew__scope_t scope;
    ew__scope_enter(p, &scope, 0);
    p->fn->break_depth++;
    uint32_t mark = ew__list_mark(p);
    bool has_default = false;
    while (!ew__eat(p, EW__T_RBRACE)) {
        ew__node_t *c = ew__node(p, EW__N_SwitchCase, ew__here(p));
        if (ew__eat(p, EW__T_K_CASE)) {
            c->as.switch_case.test = ew__parse_expression(p, false, NULL);
        } else if (p->tok.type == EW__T_K_DEFAULT) {
            if (has_default)
                ew__perror(p, p->tok.start, "More than one default clause in switch statement");
            has_default = true;
            ew__lex_next(p);
        } else {
            ew__unexpected(p);
        }
        ew__expect(p, EW__T_COLON);
        uint32_t cmark = ew__list_mark(p);
        while (p->tok.type != EW__T_K_CASE && p->tok.type != EW__T_K_DEFAULT && p->tok.type != EW__T_RBRACE)
            ew__list_push(p, ew__parse_statement(p, EW__CTX_DECL));
        c->as.switch_case.consequent = ew__list_pop(p, cmark);
        ew__list_push(p, ew__finish(p, c));
    }
    n->as.switch_.cases = ew__list_pop(p, mark);
    p->fn->break_depth--;
    ew__scope_exit(p);
    return ew__finish(p, n);
}

static ew__node_t *parse_catch(ew__parser_t *p)
{
    ew__node_t *c = ew__node(p, EW__N_CatchClause, ew__here(p));
    ew__lex_next(p);
    ew__scope_t scope;
    if (ew__eat(p, EW__T_LPAREN)) {
        ew__node_t *param = ew__parse_binding_target(p);
        bool simple = param->type == EW__N_Identifier;
        ew__scope_enter(p, &scope, simple ? EW__SC_SIMPLE_CATCH : 0);
        if (simple)
            ew__declare(p, param->as.ident.name, EW__B_CATCH, param->start);
        else
            ew__declare_pattern(p, param, EW__B_LEXICAL);
        c->as.catch_.param = param;
        ew__expect(p, EW__T_RPAREN);
    } else {
        ew__scope_enter(p, &scope, 0);
    }
    /* The block shares the catch parameter's scope: `catch (e) { let e; }` is a redeclaration. */
    c->as.catch_.body = ew__parse_block(p, false);
    ew__scope_exit(p);
    return ew__finish(p, c);
}

static ew__node_t *parse_try(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_TryStatement, ew__here(p));
    ew__lex_next(p);
    n->as.try_.block = ew__parse_block(p, true);
    if (p->tok.type == EW__T_K_CATCH)
        n->as.try_.handler = parse_catch(p);
    if (ew__eat(p, EW__T_K_FINALLY))
        n->as.try_.finalizer = ew__parse_block(p, true);
    if (!n->as.try_.handler && !n->as.try_.finalizer)
        ew__perror(p, p->tok.start, "Missing catch or finally after try");
    return ew__finish(p, n);
}

static ew__node_t *parse_with(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_WithStatement, ew__here(p));
    if (p->fn->strict)
        ew__perror(p, n->start, "Strict mode code may not include a with statement");
    ew__lex_next(p);
    ew__expect(p, EW__T_LPAREN);
    n->as.with.object = ew__parse_expression(p, false, NULL);
    ew__expect(p, EW__T_RPAREN);
    n->as.with.body = ew__parse_statement(p, EW__CTX_STMT);
    return ew__finish(p, n);
}

static ew__node_t *parse_simple(ew__parser_t *p, ew__node_type_t type)
{
    ew__node_t *n = ew__node(p, type, ew__here(p));
    ew__lex_next(p);
    if (type == EW__N_DebuggerStatement)
        ew__semicolon(p);
    return ew__finish(p, n);
}

/* A function declaration where the grammar allows one, or the Annex B sloppy exceptions. */
static ew__node_t *parse_function_statement(ew__parser_t *p, int ctx, bool is_async, ew__pos_t at)
{
    if (ctx != EW__CTX_DECL) {
        if (p->fn->strict || is_async || ctx == EW__CTX_STMT)
            ew__perror(p, at.start, p->fn->strict
                                        ? "In strict mode code, functions can only be declared at top level or "
                                          "inside a block."
                                        : "In non-strict mode code, functions can only be declared at top level, "
                                          "inside a block, or as the body of an if statement.");
        if (ew__peek(p, NULL, NULL) == EW__T_STAR)
            ew__perror(p, at.start, "Generators can only be declared at the top level or inside a block.");
        if (ctx == EW__CTX_IF_BODY) {
            /* B.3.3: as if wrapped in a block of its own */
            ew__scope_t scope;
            ew__scope_enter(p, &scope, 0);
            ew__node_t *f = ew__parse_function(p, at, false, EW__FK_DECL);
            ew__scope_exit(p);
            return f;
        }
    }
    return ew__parse_function(p, at, is_async, EW__FK_DECL);
}

static ew__node_t *parse_labeled(ew__parser_t *p, ew__node_t *label, int ctx)
{
    ew__atom_t *a = label->as.ident.name;
    for (ew__label_t *l = p->labels; l; l = l->parent)
        if (l->atom == a)
            ew__perror(p, label->start, "Label '%.80s' has already been declared", a->s);
    ew__lex_next(p); /* : */
    ew__label_t l = {p->labels, a, false, true};
    p->labels = &l;
    ew__node_t *n = ew__node(p, EW__N_LabeledStatement, ew__pos_of(label));
    n->as.labeled.label = label;
    n->as.labeled.body = ew__parse_statement(p, ctx == EW__CTX_DECL || ctx == EW__CTX_LABELED ? EW__CTX_LABELED
                                                                                              : EW__CTX_STMT);
    p->labels = l.parent;
    return ew__finish(p, n);
}

static ew__node_t *parse_expression_statement(ew__parser_t *p, int ctx)
{
    ew__pos_t at = ew__here(p);
    ew__node_t *e = ew__parse_expression(p, false, NULL);
    if (e->type == EW__N_Identifier && !(e->flags & EW__NF_PAREN) && p->tok.type == EW__T_COLON)
        return parse_labeled(p, e, ctx);
    ew__node_t *n = ew__node(p, EW__N_ExpressionStatement, at);
    n->as.expr_stmt.expression = e;
    ew__semicolon(p);
    return ew__finish(p, n);
}

/* Labels waiting for their statement learn whether it is a loop (continue L needs one). */
static void settle_labels(ew__parser_t *p)
{
    if (!p->labels || !p->labels->pending)
        return;
    ew__tok_t t = p->tok.type;
    if (t == EW__T_NAME && ew__peek(p, NULL, NULL) == EW__T_COLON)
        return; /* another label: decided by the statement after it */
    bool loop = t == EW__T_K_FOR || t == EW__T_K_WHILE || t == EW__T_K_DO;
    for (ew__label_t *l = p->labels; l && l->pending; l = l->parent) {
        l->loop = loop;
        l->pending = false;
    }
}

static ew__node_t *parse_declaration_keyword(ew__parser_t *p, int ctx, ew__pos_t at, bool *handled)
{
    *handled = true;
    switch (p->tok.type) {
    case EW__T_K_CONST: {
        if (ctx != EW__CTX_DECL)
            ew__perror(p, at.start, "Lexical declaration cannot appear in a single-statement context");
        ew__node_t *d = ew__parse_var(p, EW__VAR_CONST, false, at);
        ew__semicolon(p);
        return ew__finish(p, d);
    }
    case EW__T_K_FUNCTION:
        return parse_function_statement(p, ctx, false, at);
    case EW__T_K_CLASS:
        if (ctx != EW__CTX_DECL)
            ew__unexpected(p);
        return ew__parse_class(p, true, false);
    case EW__T_K_IMPORT: {
        ew__tok_t next = ew__peek(p, NULL, NULL);
        if (next == EW__T_LPAREN || next == EW__T_DOT)
            break;
        if (!p->module)
            ew__perror(p, at.start, "Cannot use import statement outside a module");
        if (!(p->fn->flags & EW__FN_TOP) || !(p->scope->flags & EW__SC_TOP) || ctx != EW__CTX_DECL)
            ew__unexpected(p);
        return ew__parse_import(p);
    }
    case EW__T_K_EXPORT:
        if (!p->module || !(p->fn->flags & EW__FN_TOP) || !(p->scope->flags & EW__SC_TOP) || ctx != EW__CTX_DECL)
            ew__unexpected(p);
        return ew__parse_export(p);
    default:
        break;
    }
    if (ctx != EW__CTX_DECL && ew__is_name(p, p->n.let)) {
        /* `if (x) let y` cannot be the expression `let` (no line break for ASI): say what is wrong */
        bool nl;
        ew__tok_t next = ew__peek(p, &nl, NULL);
        if (!nl && (next == EW__T_NAME || next == EW__T_LBRACE))
            ew__perror(p, at.start, "Lexical declaration cannot appear in a single-statement context");
    }
    if (let_declaration(p, ctx)) {
        if (ctx != EW__CTX_DECL)
            ew__perror(p, at.start, "Lexical declaration cannot appear in a single-statement context");
        ew__node_t *d = ew__parse_var(p, EW__VAR_LET, false, at);
        ew__semicolon(p);
        return ew__finish(p, d);
    }
    if (ew__is_name(p, p->n.async)) {
        bool nl;
        if (ew__peek(p, &nl, NULL) == EW__T_K_FUNCTION && !nl) {
            if (ctx != EW__CTX_DECL)
                ew__perror(p, at.start, "Async functions can only be declared at the top level or inside a block.");
            ew__lex_next(p);
            return parse_function_statement(p, ctx, true, at);
        }
    }
    *handled = false;
    return NULL;
}

ew__node_t *ew__parse_statement(ew__parser_t *p, int ctx)
{
    ew__enter(p);
    settle_labels(p);
    ew__pos_t at = ew__here(p);
    ew__node_t *n;
    bool handled;
    switch (p->tok.type) {
    case EW__T_LBRACE: n = ew__parse_block(p, true); break;
    case EW__T_SEMI: n = parse_simple(p, EW__N_EmptyStatement); break;
    case EW__T_K_VAR:
        n = ew__parse_var(p, EW__VAR_VAR, false, at);
        ew__semicolon(p);
        n = ew__finish(p, n);
        break;
    case EW__T_K_IF: n = parse_if(p); break;
    case EW__T_K_FOR: n = parse_for(p); break;
    case EW__T_K_WHILE: n = parse_while(p); break;
    case EW__T_K_DO: n = parse_do(p); break;
    case EW__T_K_RETURN: n = parse_return(p); break;
    case EW__T_K_BREAK: n = parse_jump(p, true); break;
    case EW__T_K_CONTINUE: n = parse_jump(p, false); break;
    case EW__T_K_THROW: n = parse_throw(p); break;
    case EW__T_K_TRY: n = parse_try(p); break;
    case EW__T_K_SWITCH: n = parse_switch(p); break;
    case EW__T_K_WITH: n = parse_with(p); break;
    case EW__T_K_DEBUGGER: n = parse_simple(p, EW__N_DebuggerStatement); break;
    default:
        n = parse_declaration_keyword(p, ctx, at, &handled);
        if (!handled)
            n = parse_expression_statement(p, ctx);
    }
    ew__leave(p);
    return n;
}
