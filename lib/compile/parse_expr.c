/*
 * parse_expr.c — expressions (ECMAScript 2022, 13) and the cover grammars.
 *
 * Precedence climbing for binary operators; `**` is handled with the unary operators because its left operand
 * may not be a unary expression (`-a ** b` is an error) and it is right-associative. Expressions that may turn
 * out to be patterns (`[a, b] = c`, `({a = 1}) => a`, for-in/of heads) are parsed as expressions; the errors that
 * depend on the outcome are noted in an ew__cover_t and raised either when the expression is used as a value
 * (ew__check_cover) or when it becomes a pattern (ew__to_pattern). Parenthesised expressions are flagged
 * (EW__NF_PAREN) so that `(a) = 1` passes and `({a}) = 1` does not. Arrow functions are recognised when `=>`
 * follows an identifier or a parenthesised list that started the current AssignmentExpression
 * (p->potential_arrow_at), the positions of any yield/await seen inside being checked then.
 *
 * TypeScript later: type annotations hook in at parse_paren_or_arrow (parameter annotations), after primary
 * expressions (`as`, `!`, `satisfies`) and before call arguments (type arguments); nothing here assumes they are
 * absent beyond those points.
 */
#include <string.h>

#include "internal.h"

/* What parse_unary parses: any unary expression, the operand of a unary operator (then `**` after it is an
 * error: `-a ** b`), or the operand of a prefix ++/-- (`**` is left to the caller: `++a ** b`). */
enum { U_ANY, U_UNARY_OPERAND, U_UPDATE_OPERAND };
static ew__node_t *parse_unary(ew__parser_t *p, int mode, ew__cover_t *cover);
static ew__node_t *parse_primary(ew__parser_t *p, ew__cover_t *cover);
static ew__node_t *parse_subscripts(ew__parser_t *p, ew__node_t *base, ew__pos_t at, bool no_call);

/* ---------------------------------------------------------------------------------------------------------
 * Cover grammar checks
 */

void ew__check_cover(ew__parser_t *p, const ew__cover_t *c)
{
    if (c->shorthand_assign)
        ew__perror(p, c->shorthand_assign - 1, "Invalid shorthand property initializer");
    if (c->double_proto)
        ew__perror(p, c->double_proto - 1, "Duplicate __proto__ fields are not allowed in object literals");
}

void ew__check_simple_target(ew__parser_t *p, ew__node_t *n)
{
    if (n->type == EW__N_Identifier) {
        if (p->fn->strict && (n->as.ident.name == p->n.eval || n->as.ident.name == p->n.arguments))
            ew__perror(p, n->start, "Unexpected eval or arguments in strict mode");
        return;
    }
    if (n->type == EW__N_MemberExpression)
        return;
    /* Annex B (web compatibility): `f() = 1`, `f()++`, `for (f() in o)` parse in sloppy code and throw a
     * ReferenceError when evaluated; the lowering must emit that throw. */
    if (n->type == EW__N_CallExpression && !p->fn->strict)
        return;
    ew__perror(p, n->start, "Invalid left-hand side in assignment");
}

static ew__node_t *object_to_pattern(ew__parser_t *p, ew__node_t *n, bool binding)
{
    n->type = EW__N_ObjectPattern;
    ew__nodes_t *props = &n->as.object.properties;
    for (uint32_t i = 0; i < props->len; i++) {
        ew__node_t *prop = props->items[i];
        if (prop->type == EW__N_SpreadElement || prop->type == EW__N_RestElement) {
            if (i + 1 != props->len)
                ew__perror(p, prop->start, "Rest element must be last element");
            ew__node_t *arg = prop->as.argument.argument;
            if (arg->type != EW__N_Identifier && (binding || arg->type != EW__N_MemberExpression))
                ew__perror(p, arg->start, "`...` must be followed by an assignable reference in assignment contexts");
            prop->type = EW__N_RestElement;
            prop->as.argument.argument = ew__to_pattern(p, arg, binding, NULL);
            continue;
        }
        if (prop->as.property.kind != EW__PROP_INIT || prop->as.property.method)
            ew__perror(p, prop->start, "Invalid destructuring assignment target");
        prop->as.property.value = ew__to_pattern(p, prop->as.property.value, binding, NULL);
    }
    return n;
}

static ew__node_t *array_to_pattern(ew__parser_t *p, ew__node_t *n, bool binding)
{
    n->type = EW__N_ArrayPattern;
    ew__nodes_t *els = &n->as.array.elements;
    for (uint32_t i = 0; i < els->len; i++) {
        ew__node_t *el = els->items[i];
        if (!el)
            continue;
        if (el->type == EW__N_SpreadElement || el->type == EW__N_RestElement) {
            if (i + 1 != els->len)
                ew__perror(p, el->start, "Rest element must be last element");
            ew__node_t *arg = el->as.argument.argument;
            if (arg->type == EW__N_AssignmentExpression || arg->type == EW__N_AssignmentPattern)
                ew__perror(p, arg->start, "Rest elements cannot have a default value");
            el->type = EW__N_RestElement;
            el->as.argument.argument = ew__to_pattern(p, arg, binding, NULL);
            continue;
        }
        els->items[i] = ew__to_pattern(p, el, binding, NULL);
    }
    return n;
}

ew__node_t *ew__to_pattern(ew__parser_t *p, ew__node_t *n, bool binding, ew__cover_t *cover)
{
    if (cover && cover->trailing_comma)
        ew__perror(p, cover->trailing_comma - 1, "Comma is not permitted after the rest element");
    bool paren = (n->flags & EW__NF_PAREN) != 0;
    switch (n->type) {
    case EW__N_Identifier:
        if (binding && paren)
            ew__perror(p, n->start, "Invalid destructuring assignment target");
        if (binding)
            ew__check_binding_name(p, n->as.ident.name, n->start);
        else
            ew__check_simple_target(p, n);
        return n;
    case EW__N_MemberExpression:
        if (binding)
            ew__perror(p, n->start, "Invalid destructuring assignment target");
        return n;
    case EW__N_ObjectExpression:
    case EW__N_ObjectPattern:
        if (paren)
            ew__perror(p, n->start, "Invalid destructuring assignment target");
        return object_to_pattern(p, n, binding);
    case EW__N_ArrayExpression:
    case EW__N_ArrayPattern:
        if (paren)
            ew__perror(p, n->start, "Invalid destructuring assignment target");
        return array_to_pattern(p, n, binding);
    case EW__N_AssignmentExpression:
        if (n->as.binary.op != EW__T_ASSIGN || paren)
            ew__perror(p, n->start, "Invalid destructuring assignment target");
        n->type = EW__N_AssignmentPattern;
        n->as.assign_pattern.left = ew__to_pattern(p, n->as.binary.left, binding, NULL);
        return n;
    case EW__N_RestElement:
        if (n->as.argument.argument->type == EW__N_AssignmentExpression ||
            n->as.argument.argument->type == EW__N_AssignmentPattern)
            ew__perror(p, n->as.argument.argument->start, "Rest parameter may not have a default initializer");
        n->as.argument.argument = ew__to_pattern(p, n->as.argument.argument, binding, NULL);
        return n;
    case EW__N_AssignmentPattern:
        if (paren)
            ew__perror(p, n->start, "Invalid destructuring assignment target");
        n->as.assign_pattern.left = ew__to_pattern(p, n->as.assign_pattern.left, binding, NULL);
        return n;
    default:
        ew__perror(p, n->start, binding ? "Invalid destructuring assignment target"
                                        : "Invalid left-hand side in assignment");
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Literals and templates
 */

ew__node_t *ew__parse_literal(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_Literal, ew__here(p));
    ew__token_t *t = &p->tok;
    switch (t->type) {
    case EW__T_NUM:
        if ((t->flags & EW__TF_OCTAL) && p->fn->strict)
            ew__perror(p, t->start, p->src[t->start + 1] >= '8' || memchr(p->src + t->start, '8', t->end - t->start) ||
                                            memchr(p->src + t->start, '9', t->end - t->start)
                                        ? "Decimals with leading zeros are not allowed in strict mode."
                                        : "Octal literals are not allowed in strict mode.");
        n->as.literal.kind = EW__LIT_NUMBER;
        n->as.literal.number = t->num;
        break;
    case EW__T_STRING:
        if ((t->flags & EW__TF_OCTAL) && p->fn->strict)
            ew__perror(p, t->bad_pos, "Octal escape sequences are not allowed in strict mode.");
        n->as.literal.kind = EW__LIT_STRING;
        n->as.literal.string = t->str;
        break;
    case EW__T_REGEX:
        n->as.literal.kind = EW__LIT_REGEX;
        n->as.literal.string = t->raw;
        n->as.literal.flags = t->rflags;
        break;
    case EW__T_K_NULL:
        n->as.literal.kind = EW__LIT_NULL;
        break;
    case EW__T_K_TRUE:
    case EW__T_K_FALSE:
        n->as.literal.kind = EW__LIT_BOOL;
        n->as.literal.boolean = t->type == EW__T_K_TRUE;
        break;
    default:
        ew__unexpected(p);
    }
    ew__lex_next(p);
    return ew__finish(p, n);
}

static ew__node_t *template_element(ew__parser_t *p, bool tagged)
{
    ew__token_t *t = &p->tok;
    if ((t->flags & EW__TF_TPL_BAD) && !tagged) {
        bool octal = p->src[t->bad_pos + 1] >= '0' && p->src[t->bad_pos + 1] <= '9';
        ew__perror(p, t->bad_pos, octal ? "Octal escape sequences are not allowed in template strings"
                                        : "Invalid hexadecimal escape sequence");
    }
    bool tail = (t->flags & EW__TF_TPL_TAIL) != 0;
    /* The element spans the text between "`"/"}" and "`"/"${". */
    ew__pos_t at = {t->start + 1, t->line, t->col + 1};
    ew__node_t *e = ew__node(p, EW__N_TemplateElement, at);
    e->as.template_element.raw = t->raw;
    e->as.template_element.cooked = t->str;
    e->as.template_element.tail = tail;
    e->end = t->end - (tail ? 1 : 2);
    return e;
}

ew__node_t *ew__parse_template(ew__parser_t *p, bool tagged)
{
    ew__node_t *n = ew__node(p, EW__N_TemplateLiteral, ew__here(p));
    uint32_t mark = ew__list_mark(p);
    uint32_t count = 0;
    ew__enter(p);
    for (;;) {
        if (p->tok.type != EW__T_TEMPLATE)
            ew__unexpected(p);
        ew__node_t *e = template_element(p, tagged);
        ew__list_push(p, e);
        count++;
        if (e->as.template_element.tail) {
            ew__lex_next(p);
            break;
        }
        ew__lex_next(p);
        ew__list_push(p, ew__parse_expression(p, false, NULL));
        if (p->tok.type != EW__T_RBRACE)
            ew__unexpected(p);
        ew__lex_template_continue(p);
    }
    ew__leave(p);
    /* quasis and expressions were pushed alternately: split them. */
    ew__nodes_t all = ew__list_pop(p, mark);
    n->as.template.quasis.len = count;
    n->as.template.quasis.items = ew__palloc(p, count * sizeof(ew__node_t *));
    n->as.template.expressions.len = count - 1;
    n->as.template.expressions.items = count > 1 ? ew__palloc(p, (count - 1) * sizeof(ew__node_t *)) : NULL;
    for (uint32_t i = 0; i < all.len; i++) {
        if (i % 2 == 0)
            n->as.template.quasis.items[i / 2] = all.items[i];
        else
            n->as.template.expressions.items[i / 2] = all.items[i];
    }
    return ew__finish(p, n);
}

/* ---------------------------------------------------------------------------------------------------------
 * Array and object literals
 */

static ew__node_t *parse_spread(ew__parser_t *p, ew__cover_t *cover)
{
    ew__node_t *n = ew__node(p, EW__N_SpreadElement, ew__here(p));
    ew__lex_next(p);
    n->as.argument.argument = ew__parse_assign(p, false, cover);
    if (p->tok.type == EW__T_COMMA && cover && !cover->trailing_comma)
        cover->trailing_comma = p->tok.start + 1;
    return ew__finish(p, n);
}

static ew__node_t *parse_array_literal(ew__parser_t *p, ew__cover_t *cover)
{
    ew__node_t *n = ew__node(p, EW__N_ArrayExpression, ew__here(p));
    ew__lex_next(p);
    uint32_t mark = ew__list_mark(p);
    while (!ew__eat(p, EW__T_RBRACK)) {
        if (ew__eat(p, EW__T_COMMA)) {
            ew__list_push(p, NULL);
            continue;
        }
        if (p->tok.type == EW__T_ELLIPSIS)
            ew__list_push(p, parse_spread(p, cover));
        else
            ew__list_push(p, ew__parse_assign(p, false, cover));
        if (p->tok.type != EW__T_RBRACK)
            ew__expect(p, EW__T_COMMA);
    }
    n->as.array.elements = ew__list_pop(p, mark);
    return ew__finish(p, n);
}

ew__node_t *ew__parse_property_key(ew__parser_t *p, bool *computed, bool allow_private)
{
    *computed = false;
    ew__token_t *t = &p->tok;
    if (t->type == EW__T_LBRACK) {
        *computed = true;
        ew__lex_next(p);
        ew__node_t *k = ew__parse_assign(p, false, NULL);
        ew__expect(p, EW__T_RBRACK);
        return k;
    }
    if (t->type == EW__T_STRING || t->type == EW__T_NUM)
        return ew__parse_literal(p);
    if (t->type == EW__T_NAME || t->type >= EW__T_FIRST_KEYWORD || (t->type == EW__T_PRIVATE && allow_private)) {
        ew__node_t *k = ew__node(p, t->type == EW__T_PRIVATE ? EW__N_PrivateIdentifier : EW__N_Identifier,
                                 ew__here(p));
        k->as.ident.name = t->atom;
        ew__lex_next(p);
        return ew__finish(p, k);
    }
    ew__unexpected(p);
}

/* Name of a non-computed key (Identifier or string literal) as an atom, or NULL. */
static bool key_is(const ew__node_t *key, const ew__atom_t *name)
{
    if (key->type == EW__N_Identifier)
        return key->as.ident.name == name;
    if (key->type == EW__N_Literal && key->as.literal.kind == EW__LIT_STRING)
        return key->as.literal.string.len == name->len && memcmp(key->as.literal.string.s, name->s, name->len) == 0;
    return false;
}

/* After `get`/`set`/`async`/`*` was read as a modifier: does a property name follow (not `:`, `(`, `,` ...)? */
static bool modifier_applies(const ew__parser_t *p)
{
    ew__tok_t t = p->tok.type;
    return t != EW__T_COMMA && t != EW__T_RBRACE && t != EW__T_COLON && t != EW__T_LPAREN && t != EW__T_ASSIGN;
}

static ew__node_t *shorthand_property(ew__parser_t *p, ew__node_t *n, ew__node_t *key, bool key_was_name,
                                      bool escaped_keyword, ew__cover_t *cover)
{
    if (!key_was_name || n->as.property.computed)
        ew__unexpected(p);
    ew__atom_t *name = key->as.ident.name;
    if (name->keyword || escaped_keyword)
        ew__perror(p, key->start, escaped_keyword && name->keyword ? "Keyword must not contain escaped characters"
                                                                   : "Unexpected token '%s'", name->s);
    /* The value is an identifier reference: yield/await/strict reserved word rules apply. */
    ew__check_reference_name(p, name, key->start);
    ew__node_t *value = ew__node(p, EW__N_Identifier, ew__pos_of(key));
    value->as.ident.name = name;
    value->end = key->end;
    n->as.property.shorthand = true;
    if (p->tok.type == EW__T_ASSIGN) {
        if (!cover)
            ew__unexpected(p);
        if (!cover->shorthand_assign)
            cover->shorthand_assign = p->tok.start + 1;
        ew__lex_next(p);
        ew__node_t *ap = ew__node(p, EW__N_AssignmentPattern, ew__pos_of(key));
        ap->as.assign_pattern.left = value;
        ap->as.assign_pattern.right = ew__parse_assign(p, false, NULL);
        value = ew__finish(p, ap);
    }
    n->as.property.value = value;
    return ew__finish(p, n);
}

static ew__node_t *parse_object_member(ew__parser_t *p, ew__cover_t *cover, bool *has_proto)
{
    if (p->tok.type == EW__T_ELLIPSIS)
        return parse_spread(p, cover);
    ew__node_t *n = ew__node(p, EW__N_Property, ew__here(p));
    bool is_async = false, gen = false;
    uint8_t kind = EW__PROP_INIT;
    ew__token_t first = p->tok;
    if (ew__is_name(p, p->n.async) || ew__is_name(p, p->n.get) || ew__is_name(p, p->n.set)) {
        ew__lex_state_t st;
        ew__lex_save(p, &st);
        ew__lex_next(p);
        if (modifier_applies(p) && !(first.atom == p->n.async && ew__nl_before(p))) {
            if (first.atom == p->n.async)
                is_async = true;
            else
                kind = first.atom == p->n.get ? EW__PROP_GET : EW__PROP_SET;
        } else {
            ew__lex_restore(p, &st);
        }
    }
    if ((kind == EW__PROP_INIT) && ew__eat(p, EW__T_STAR))
        gen = true;
    bool key_was_name = p->tok.type == EW__T_NAME || p->tok.type >= EW__T_FIRST_KEYWORD;
    bool escaped = (p->tok.flags & EW__TF_ESCAPED) != 0;
    bool computed;
    ew__node_t *key = ew__parse_property_key(p, &computed, false);
    n->as.property.key = key;
    n->as.property.computed = computed;
    if (p->tok.type == EW__T_LPAREN || is_async || gen || kind != EW__PROP_INIT) {
        unsigned fk = EW__FK_METHOD | (kind == EW__PROP_GET ? EW__FK_GETTER : kind == EW__PROP_SET ? EW__FK_SETTER : 0);
        n->as.property.kind = kind;
        n->as.property.method = kind == EW__PROP_INIT;
        n->as.property.value = ew__parse_method_function(p, is_async, gen, fk);
        return ew__finish(p, n);
    }
    if (ew__eat(p, EW__T_COLON)) {
        if (!computed && key_is(key, p->n.proto)) {
            if (*has_proto) {
                if (!cover)
                    ew__perror(p, key->start, "Duplicate __proto__ fields are not allowed in object literals");
                if (!cover->double_proto)
                    cover->double_proto = key->start + 1;
            }
            *has_proto = true;
        }
        n->as.property.value = ew__parse_assign(p, false, cover);
        return ew__finish(p, n);
    }
    return shorthand_property(p, n, key, key_was_name, escaped, cover);
}

static ew__node_t *parse_object_literal(ew__parser_t *p, ew__cover_t *cover)
{
    ew__node_t *n = ew__node(p, EW__N_ObjectExpression, ew__here(p));
    ew__lex_next(p);
    uint32_t mark = ew__list_mark(p);
    bool has_proto = false;
    while (!ew__eat(p, EW__T_RBRACE)) {
        ew__list_push(p, parse_object_member(p, cover, &has_proto));
        if (p->tok.type != EW__T_RBRACE)
            ew__expect(p, EW__T_COMMA);
    }
    n->as.object.properties = ew__list_pop(p, mark);
    return ew__finish(p, n);
}

/* ---------------------------------------------------------------------------------------------------------
 * Parentheses and arrows
 */

typedef struct saved_pos {
    uint32_t yield_pos, await_pos, await_ident_pos;
} saved_pos_t;

static saved_pos_t save_positions(ew__parser_t *p)
{
    saved_pos_t s = {p->yield_pos, p->await_pos, p->await_ident_pos};
    p->yield_pos = p->await_pos = p->await_ident_pos = 0;
    return s;
}

/* Not an arrow after all: positions seen inside also count for the enclosing candidate. */
static void merge_positions(ew__parser_t *p, saved_pos_t s)
{
    if (s.yield_pos)
        p->yield_pos = s.yield_pos;
    if (s.await_pos)
        p->await_pos = s.await_pos;
    if (s.await_ident_pos)
        p->await_ident_pos = s.await_ident_pos;
}

/* Arrow parameters may not contain yield or await expressions (nor `await` as a name when async). */
static void check_arrow_positions(ew__parser_t *p, bool is_async, saved_pos_t s)
{
    if (p->yield_pos)
        ew__perror(p, p->yield_pos - 1, "Yield expression not allowed in formal parameter");
    if (p->await_pos)
        ew__perror(p, p->await_pos - 1, "Illegal await-expression in formal parameters of async function");
    if (is_async && p->await_ident_pos)
        ew__perror(p, p->await_ident_pos - 1, "Unexpected reserved word 'await'");
    p->yield_pos = s.yield_pos;
    p->await_pos = s.await_pos;
    /* `await` as a name anywhere inside still matters to an enclosing async arrow's parameters */
    if (s.await_ident_pos || !p->await_ident_pos)
        p->await_ident_pos = s.await_ident_pos;
}

static ew__node_t *parse_paren_or_arrow(ew__parser_t *p, ew__cover_t *outer)
{
    ew__pos_t at = ew__here(p);
    bool allow_arrow = p->potential_arrow_at == at.start + 1;
    ew__lex_next(p);
    saved_pos_t saved = save_positions(p);
    ew__cover_t c = {0};
    uint32_t mark = ew__list_mark(p);
    uint32_t rest_at = 0, trailing_at = 0;
    ew__pos_t inner = ew__here(p);
    while (p->tok.type != EW__T_RPAREN) {
        if (p->sp != mark) {
            ew__expect(p, EW__T_COMMA);
            if (p->tok.type == EW__T_RPAREN) {
                trailing_at = p->prev_end;
                break;
            }
        }
        if (p->tok.type == EW__T_ELLIPSIS) {
            rest_at = p->tok.start + 1;
            ew__node_t *r = ew__node(p, EW__N_RestElement, ew__here(p));
            ew__lex_next(p);
            r->as.argument.argument = ew__parse_binding_target(p);
            if (p->tok.type == EW__T_ASSIGN)
                ew__perror(p, p->tok.start, "Rest parameter may not have a default initializer");
            ew__list_push(p, ew__finish(p, r));
            if (p->tok.type == EW__T_COMMA)
                ew__perror(p, p->tok.start, "Rest parameter must be last formal parameter");
            break;
        }
        ew__list_push(p, ew__parse_assign(p, false, &c));
    }
    uint32_t inner_end = p->prev_end;
    ew__expect(p, EW__T_RPAREN);
    if (allow_arrow && p->tok.type == EW__T_ARROW && !ew__nl_before(p)) {
        if (c.trailing_comma)
            ew__perror(p, c.trailing_comma - 1, "Comma is not permitted after the rest element");
        check_arrow_positions(p, false, saved);
        return ew__parse_arrow(p, at, ew__list_pop(p, mark), false);
    }
    if (p->sp == mark || rest_at || trailing_at) {
        if (p->tok.type != EW__T_ARROW)
            ew__perror(p, p->sp == mark || rest_at ? p->prev_end - 1 : trailing_at - 1, "Unexpected token ')'");
        ew__unexpected(p);
    }
    ew__check_cover(p, &c);
    merge_positions(p, saved);
    ew__nodes_t items = ew__list_pop(p, mark);
    ew__node_t *e = items.items[0];
    if (items.len > 1) {
        e = ew__node(p, EW__N_SequenceExpression, inner);
        e->as.sequence.expressions = items;
        e->end = inner_end;
    }
    e->flags |= EW__NF_PAREN;
    (void) outer;
    return e;
}

/* ---------------------------------------------------------------------------------------------------------
 * Primary expressions
 */

static ew__node_t *parse_super(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_Super, ew__here(p));
    ew__lex_next(p);
    ew__tok_t t = p->tok.type;
    if (t == EW__T_LPAREN) {
        if (!(p->fn->flags & EW__FN_SUPER_CALL))
            ew__perror(p, n->start, "'super' keyword unexpected here");
    } else if (t == EW__T_DOT || t == EW__T_LBRACK) {
        if (!(p->fn->flags & EW__FN_SUPER_PROP))
            ew__perror(p, n->start, "'super' keyword unexpected here");
    } else {
        ew__perror(p, n->start, "'super' keyword unexpected here");
    }
    return ew__finish(p, n);
}

static ew__node_t *parse_import_expr(ew__parser_t *p)
{
    ew__pos_t at = ew__here(p);
    ew__lex_next(p);
    if (p->tok.type == EW__T_DOT) {
        ew__node_t *meta = ew__node(p, EW__N_Identifier, at);
        meta->as.ident.name = ew__intern(p, "import", 6);
        meta->end = at.start + 6;
        ew__lex_next(p);
        if (!ew__is_name(p, p->n.meta))
            ew__unexpected(p);
        if (!p->module)
            ew__perror(p, at.start, "Cannot use 'import.meta' outside a module");
        ew__node_t *n = ew__node(p, EW__N_MetaProperty, at);
        n->as.meta_property.meta = meta;
        n->as.meta_property.property = ew__parse_ident(p, false);
        return ew__finish(p, n);
    }
    if (p->tok.type != EW__T_LPAREN)
        ew__unexpected(p);
    ew__lex_next(p);
    ew__node_t *n = ew__node(p, EW__N_ImportExpression, at);
    n->as.import_expr.source = ew__parse_assign(p, false, NULL);
    ew__expect(p, EW__T_RPAREN);
    return ew__finish(p, n);
}

static ew__node_t *parse_new(ew__parser_t *p)
{
    ew__pos_t at = ew__here(p);
    ew__lex_next(p);
    if (ew__eat(p, EW__T_DOT)) {
        ew__node_t *meta = ew__node(p, EW__N_Identifier, at);
        meta->as.ident.name = ew__intern(p, "new", 3);
        meta->end = at.start + 3;
        if (!ew__is_name(p, p->n.target))
            ew__unexpected(p);
        if (!(p->fn->flags & EW__FN_NEW_TARGET))
            ew__perror(p, at.start, "new.target expression is not allowed here");
        ew__node_t *n = ew__node(p, EW__N_MetaProperty, at);
        n->as.meta_property.meta = meta;
        n->as.meta_property.property = ew__parse_ident(p, false);
        return ew__finish(p, n);
    }
    if (p->tok.type == EW__T_K_IMPORT && ew__peek(p, NULL, NULL) != EW__T_DOT)
        ew__perror(p, p->tok.start, "Cannot use new with import");
    ew__pos_t callee_at = ew__here(p);
    ew__enter(p);
    ew__node_t *callee;
    if (p->tok.type == EW__T_K_NEW)
        callee = parse_new(p);
    else
        callee = parse_primary(p, NULL);
    callee = parse_subscripts(p, callee, callee_at, true);
    ew__leave(p);
    ew__node_t *n = ew__node(p, EW__N_NewExpression, at);
    n->as.call.callee = callee;
    if (ew__eat(p, EW__T_LPAREN)) {
        uint32_t mark = ew__list_mark(p);
        while (!ew__eat(p, EW__T_RPAREN)) {
            if (p->tok.type == EW__T_ELLIPSIS)
                ew__list_push(p, parse_spread(p, NULL));
            else
                ew__list_push(p, ew__parse_assign(p, false, NULL));
            if (p->tok.type != EW__T_RPAREN)
                ew__expect(p, EW__T_COMMA);
        }
        n->as.call.arguments = ew__list_pop(p, mark);
    }
    return ew__finish(p, n);
}

/* `async x =>`: looks two tokens ahead (`for await (async of x)` is not an arrow). */
static bool async_arrow_follows(ew__parser_t *p)
{
    ew__lex_state_t st;
    ew__lex_save(p, &st);
    ew__lex_next(p);
    ew__lex_next(p);
    bool arrow = p->tok.type == EW__T_ARROW && !ew__nl_before(p);
    ew__lex_restore(p, &st);
    return arrow;
}

/* A name in expression position: an identifier, `async function`, or the start of an arrow (`x =>`,
 * `async x =>`). */
static ew__node_t *parse_name_expr(ew__parser_t *p)
{
    ew__pos_t at = ew__here(p);
    bool arrow_ok = p->potential_arrow_at == at.start + 1;
    if (ew__is_name(p, p->n.async)) {
        bool nl;
        ew__atom_t *next_atom;
        ew__tok_t next = ew__peek(p, &nl, &next_atom);
        if (next == EW__T_K_FUNCTION && !nl) {
            ew__lex_next(p);
            return ew__parse_function(p, at, true, EW__FK_EXPR);
        }
        if (arrow_ok && next == EW__T_NAME && !nl && async_arrow_follows(p)) {
            ew__lex_next(p);
            saved_pos_t saved = save_positions(p);
            ew__node_t *param = ew__parse_ident(p, true);
            if (p->tok.type != EW__T_ARROW || ew__nl_before(p))
                ew__unexpected(p);
            check_arrow_positions(p, true, saved);
            ew__node_t **items = ew__palloc(p, sizeof *items);
            items[0] = param;
            ew__nodes_t params = {items, 1};
            return ew__parse_arrow(p, at, params, true);
        }
    }
    ew__node_t *id = ew__parse_ident(p, false);
    if (arrow_ok && p->tok.type == EW__T_ARROW && !ew__nl_before(p)) {
        ew__node_t **items = ew__palloc(p, sizeof *items);
        items[0] = id;
        ew__nodes_t params = {items, 1};
        return ew__parse_arrow(p, at, params, false);
    }
    return id;
}

static ew__node_t *parse_primary(ew__parser_t *p, ew__cover_t *cover)
{
    ew__pos_t at = ew__here(p);
    switch (p->tok.type) {
    case EW__T_NAME:
        return parse_name_expr(p);
    case EW__T_K_THIS: {
        ew__node_t *n = ew__node(p, EW__N_ThisExpression, at);
        ew__lex_next(p);
        return ew__finish(p, n);
    }
    case EW__T_K_SUPER:
        return parse_super(p);
    case EW__T_NUM: case EW__T_STRING: case EW__T_K_NULL: case EW__T_K_TRUE: case EW__T_K_FALSE:
        return ew__parse_literal(p);
    case EW__T_SLASH: case EW__T_SLASH_ASSIGN:
        ew__lex_regex(p);
        return ew__parse_literal(p);
    case EW__T_LPAREN:
        return parse_paren_or_arrow(p, cover);
    case EW__T_LBRACK:
        return parse_array_literal(p, cover);
    case EW__T_LBRACE:
        return parse_object_literal(p, cover);
    case EW__T_K_FUNCTION:
        return ew__parse_function(p, at, false, EW__FK_EXPR);
    case EW__T_K_CLASS:
        return ew__parse_class(p, false, true);
    case EW__T_K_NEW:
        return parse_new(p);
    case EW__T_TEMPLATE:
        return ew__parse_template(p, false);
    case EW__T_K_IMPORT:
        return parse_import_expr(p);
    default:
        ew__unexpected(p);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Calls, members, optional chains
 */

static ew__nodes_t parse_arguments(ew__parser_t *p, ew__cover_t *cover)
{
    ew__lex_next(p); /* ( */
    uint32_t mark = ew__list_mark(p);
    while (!ew__eat(p, EW__T_RPAREN)) {
        if (p->tok.type == EW__T_ELLIPSIS)
            ew__list_push(p, parse_spread(p, cover));
        else
            ew__list_push(p, ew__parse_assign(p, false, cover));
        if (p->tok.type != EW__T_RPAREN)
            ew__expect(p, EW__T_COMMA);
    }
    return ew__list_pop(p, mark);
}

/* `async(...)` may be the parameters of an async arrow: parse the arguments as a cover and decide at `=>`. */
static ew__node_t *parse_async_call_or_arrow(ew__parser_t *p, ew__node_t *callee, ew__pos_t at)
{
    saved_pos_t saved = save_positions(p);
    ew__cover_t c = {0};
    uint32_t args_at = p->tok.start;
    ew__nodes_t args = parse_arguments(p, &c);
    if (p->tok.type == EW__T_ARROW && !ew__nl_before(p)) {
        for (uint32_t i = 0; i < args.len; i++) {
            ew__node_t *a = args.items[i];
            if (a->type == EW__N_SpreadElement) {
                if (i + 1 != args.len)
                    ew__perror(p, a->start, "Rest parameter must be last formal parameter");
                a->type = EW__N_RestElement;
            }
        }
        if (c.trailing_comma)
            ew__perror(p, c.trailing_comma - 1, "Comma is not permitted after the rest element");
        check_arrow_positions(p, true, saved);
        return ew__parse_arrow(p, at, args, true);
    }
    (void) args_at;
    ew__check_cover(p, &c);
    merge_positions(p, saved);
    ew__node_t *call = ew__node(p, EW__N_CallExpression, at);
    call->as.call.callee = callee;
    call->as.call.arguments = args;
    return ew__finish(p, call);
}

static ew__node_t *member_property(ew__parser_t *p, ew__node_t *m, ew__node_t *object)
{
    if (p->tok.type == EW__T_PRIVATE) {
        if (object->type == EW__N_Super)
            ew__perror(p, p->tok.start, "Unexpected private field");
        ew__use_private(p, p->tok.atom, p->tok.start);
        ew__node_t *k = ew__node(p, EW__N_PrivateIdentifier, ew__here(p));
        k->as.ident.name = p->tok.atom;
        ew__lex_next(p);
        m->as.member.property = ew__finish(p, k);
    } else if (p->tok.type == EW__T_NAME || p->tok.type >= EW__T_FIRST_KEYWORD) {
        ew__node_t *k = ew__node(p, EW__N_Identifier, ew__here(p));
        k->as.ident.name = p->tok.atom;
        ew__lex_next(p);
        m->as.member.property = ew__finish(p, k);
    } else {
        ew__unexpected(p);
    }
    return m;
}

static ew__node_t *parse_subscripts(ew__parser_t *p, ew__node_t *base, ew__pos_t at, bool no_call)
{
    bool chain = false;
    bool maybe_async_arrow = base->type == EW__N_Identifier && base->as.ident.name == p->n.async &&
                             !(base->flags & EW__NF_PAREN) && p->potential_arrow_at == at.start + 1 &&
                             base->end - base->start == 5;
    for (;;) {
        ew__tok_t t = p->tok.type;
        bool optional = false;
        if (t == EW__T_QDOT) {
            if (no_call)
                ew__perror(p, p->tok.start, "Invalid optional chain from new expression");
            ew__lex_next(p);
            optional = chain = true;
            t = p->tok.type;
            if (t == EW__T_TEMPLATE)
                ew__perror(p, p->tok.start, "Invalid tagged template on optional chain");
            if (t != EW__T_LPAREN && t != EW__T_LBRACK) {
                ew__node_t *m = ew__node(p, EW__N_MemberExpression, at);
                m->as.member.object = base;
                m->as.member.optional = true;
                base = ew__finish(p, member_property(p, m, base));
                continue;
            }
        }
        if (t == EW__T_DOT && !optional) {
            ew__lex_next(p);
            ew__node_t *m = ew__node(p, EW__N_MemberExpression, at);
            m->as.member.object = base;
            base = ew__finish(p, member_property(p, m, base));
        } else if (t == EW__T_LBRACK) {
            ew__lex_next(p);
            ew__node_t *m = ew__node(p, EW__N_MemberExpression, at);
            m->as.member.object = base;
            m->as.member.computed = true;
            m->as.member.optional = optional;
            m->as.member.property = ew__parse_expression(p, false, NULL);
            ew__expect(p, EW__T_RBRACK);
            base = ew__finish(p, m);
        } else if (t == EW__T_LPAREN && !no_call) {
            if (maybe_async_arrow && !ew__nl_before(p) && !optional) {
                base = parse_async_call_or_arrow(p, base, at);
                if (base->type == EW__N_ArrowFunctionExpression)
                    return base;
            } else {
                ew__node_t *c = ew__node(p, EW__N_CallExpression, at);
                c->as.call.callee = base;
                c->as.call.optional = optional;
                c->as.call.arguments = parse_arguments(p, NULL);
                base = ew__finish(p, c);
            }
        } else if (t == EW__T_TEMPLATE) {
            if (chain)
                ew__perror(p, p->tok.start, "Invalid tagged template on optional chain");
            ew__node_t *tt = ew__node(p, EW__N_TaggedTemplateExpression, at);
            tt->as.tagged.tag = base;
            tt->as.tagged.quasi = ew__parse_template(p, true);
            base = ew__finish(p, tt);
        } else {
            break;
        }
        maybe_async_arrow = false;
    }
    if (chain) {
        ew__node_t *c = ew__node(p, EW__N_ChainExpression, at);
        c->as.chain.expression = base;
        base = ew__finish(p, c);
    }
    return base;
}

ew__node_t *ew__parse_lhs(ew__parser_t *p)
{
    ew__pos_t at = ew__here(p);
    ew__node_t *e = parse_primary(p, NULL);
    if (e->type == EW__N_ArrowFunctionExpression && !(e->flags & EW__NF_PAREN))
        return e;
    return parse_subscripts(p, e, at, false);
}

static ew__node_t *parse_lhs_cover(ew__parser_t *p, ew__cover_t *cover)
{
    ew__pos_t at = ew__here(p);
    ew__node_t *e = parse_primary(p, cover);
    if (e->type == EW__N_ArrowFunctionExpression && !(e->flags & EW__NF_PAREN))
        return e;
    return parse_subscripts(p, e, at, false);
}

/* ---------------------------------------------------------------------------------------------------------
 * Unary, update, await, exponent
 */

static bool is_private_member(const ew__node_t *n)
{
    if (n->type == EW__N_ChainExpression)
        n = n->as.chain.expression;
    return n->type == EW__N_MemberExpression && n->as.member.property->type == EW__N_PrivateIdentifier;
}

static ew__node_t *parse_await(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_AwaitExpression, ew__here(p));
    if (p->fn->flags & EW__FN_PARAMS)
        ew__perror(p, n->start, "Illegal await-expression in formal parameters of async function");
    if (!p->await_pos)
        p->await_pos = n->start + 1;
    ew__lex_next(p);
    n->as.argument.argument = parse_unary(p, U_UNARY_OPERAND, NULL);
    return ew__finish(p, n);
}

static ew__node_t *parse_prefix(ew__parser_t *p)
{
    ew__pos_t at = ew__here(p);
    ew__tok_t op = p->tok.type;
    bool update = op == EW__T_INC || op == EW__T_DEC;
    ew__lex_next(p);
    ew__node_t *arg = parse_unary(p, update ? U_UPDATE_OPERAND : U_UNARY_OPERAND, NULL);
    ew__node_t *n = ew__node(p, update ? EW__N_UpdateExpression : EW__N_UnaryExpression, at);
    n->as.unary.op = (uint8_t) op;
    n->as.unary.prefix = true;
    n->as.unary.argument = arg;
    if (update) {
        if (arg->type != EW__N_Identifier && arg->type != EW__N_MemberExpression &&
            !(arg->type == EW__N_CallExpression && !p->fn->strict))
            ew__perror(p, arg->start, "Invalid left-hand side expression in prefix operation");
        ew__check_simple_target(p, arg);
    } else if (op == EW__T_K_DELETE) {
        const ew__node_t *a = arg;
        if (p->fn->strict && a->type == EW__N_Identifier)
            ew__perror(p, at.start, "Delete of an unqualified identifier in strict mode.");
        if (is_private_member(a))
            ew__perror(p, at.start, "Private fields can not be deleted");
    }
    return ew__finish(p, n);
}

static ew__node_t *parse_unary(ew__parser_t *p, int mode, ew__cover_t *cover)
{
    ew__pos_t at = ew__here(p);
    ew__node_t *e;
    bool unary = mode == U_UNARY_OPERAND;
    ew__enter(p);
    switch (p->tok.type) {
    case EW__T_BANG: case EW__T_TILDE: case EW__T_PLUS: case EW__T_MINUS:
    case EW__T_K_TYPEOF: case EW__T_K_VOID: case EW__T_K_DELETE:
        e = parse_prefix(p);
        unary = true;
        break;
    case EW__T_INC: case EW__T_DEC:
        e = parse_prefix(p);
        break;
    default:
        if (ew__is_name(p, p->n.await) && (p->fn->flags & EW__FN_ASYNC)) {
            e = parse_await(p);
            unary = true;
            break;
        }
        e = parse_lhs_cover(p, cover);
        if (e->type == EW__N_ArrowFunctionExpression && !(e->flags & EW__NF_PAREN) && e->start == at.start) {
            ew__leave(p);
            return e;
        }
        while ((p->tok.type == EW__T_INC || p->tok.type == EW__T_DEC) && !ew__nl_before(p)) {
            if (e->type != EW__N_Identifier && e->type != EW__N_MemberExpression &&
                !(e->type == EW__N_CallExpression && !p->fn->strict))
                ew__perror(p, e->start, "Invalid left-hand side expression in postfix operation");
            ew__check_simple_target(p, e);
            ew__node_t *u = ew__node(p, EW__N_UpdateExpression, at);
            u->as.unary.op = p->tok.type;
            u->as.unary.argument = e;
            ew__lex_next(p);
            e = ew__finish(p, u);
            break;
        }
    }
    if (p->tok.type == EW__T_STARSTAR && mode != U_UPDATE_OPERAND) {
        if (unary)
            ew__perror(p, p->tok.start, "Unary operator used immediately before exponentiation expression. "
                                        "Parenthesis must be used to disambiguate operator precedence");
        ew__lex_next(p);
        ew__node_t *b = ew__node(p, EW__N_BinaryExpression, at);
        b->as.binary.op = EW__T_STARSTAR;
        b->as.binary.left = e;
        b->as.binary.right = parse_unary(p, U_ANY, NULL);
        e = ew__finish(p, b);
    }
    ew__leave(p);
    return e;
}

/* ---------------------------------------------------------------------------------------------------------
 * Binary operators
 */

static int binary_prec(ew__tok_t t, bool no_in)
{
    switch (t) {
    case EW__T_NULLISH: case EW__T_OR: return 1;
    case EW__T_AND: return 2;
    case EW__T_PIPE: return 3;
    case EW__T_CARET: return 4;
    case EW__T_AMP: return 5;
    case EW__T_EQ: case EW__T_NE: case EW__T_SEQ: case EW__T_SNE: return 6;
    case EW__T_LT: case EW__T_GT: case EW__T_LE: case EW__T_GE: case EW__T_K_INSTANCEOF: return 7;
    case EW__T_K_IN: return no_in ? 0 : 7;
    case EW__T_SHL: case EW__T_SAR: case EW__T_SHR: return 8;
    case EW__T_PLUS: case EW__T_MINUS: return 9;
    case EW__T_STAR: case EW__T_SLASH: case EW__T_PERCENT: return 10;
    default: return 0;
    }
}

/* An operand: a unary expression, or `#x` directly left of `in`. */
static ew__node_t *parse_operand(ew__parser_t *p, bool no_in, ew__cover_t *cover)
{
    if (p->tok.type == EW__T_PRIVATE) {
        ew__node_t *k = ew__node(p, EW__N_PrivateIdentifier, ew__here(p));
        k->as.ident.name = p->tok.atom;
        ew__use_private(p, p->tok.atom, p->tok.start);
        ew__lex_next(p);
        if (p->tok.type != EW__T_K_IN || no_in)
            ew__unexpected(p);
        return ew__finish(p, k);
    }
    return parse_unary(p, U_ANY, cover);
}

static ew__node_t *parse_binary(ew__parser_t *p, ew__node_t *left, ew__pos_t at, int min_prec, bool no_in)
{
    for (;;) {
        ew__tok_t op = p->tok.type;
        int prec = binary_prec(op, no_in);
        if (prec <= min_prec)
            return left;
        bool logical = op == EW__T_OR || op == EW__T_AND;
        bool coalesce = op == EW__T_NULLISH;
        if (coalesce)
            prec = 2; /* `??` binds like `&&` on its right so that mixing is caught below */
        if (left->type == EW__N_PrivateIdentifier && op != EW__T_K_IN)
            ew__unexpected(p);
        ew__lex_next(p);
        ew__pos_t rat = ew__here(p);
        ew__enter(p);
        ew__node_t *right = parse_binary(p, parse_operand(p, no_in, NULL), rat, prec, no_in);
        ew__leave(p);
        if (right->type == EW__N_PrivateIdentifier)
            ew__perror(p, right->start, "Unexpected private field");
        ew__node_t *n = ew__node(p, logical || coalesce ? EW__N_LogicalExpression : EW__N_BinaryExpression, at);
        n->as.binary.op = (uint8_t) op;
        n->as.binary.left = left;
        n->as.binary.right = right;
        left = ew__finish(p, n);
        ew__tok_t next = p->tok.type;
        if ((logical && next == EW__T_NULLISH) || (coalesce && (next == EW__T_OR || next == EW__T_AND)))
            ew__perror(p, p->tok.start, "Unexpected token '%s'", ew__tok_text(next));
    }
}

static ew__node_t *parse_conditional(ew__parser_t *p, bool no_in, ew__cover_t *cover)
{
    ew__pos_t at = ew__here(p);
    ew__node_t *e = parse_operand(p, no_in, cover);
    if (e->type == EW__N_ArrowFunctionExpression && !(e->flags & EW__NF_PAREN) && e->start == at.start)
        return e;
    e = parse_binary(p, e, at, 0, no_in);
    if (e->type == EW__N_PrivateIdentifier)
        ew__unexpected(p);
    if (p->tok.type != EW__T_QUESTION)
        return e;
    ew__lex_next(p);
    ew__node_t *n = ew__node(p, EW__N_ConditionalExpression, at);
    n->as.conditional.test = e;
    n->as.conditional.consequent = ew__parse_assign(p, false, NULL);
    ew__expect(p, EW__T_COLON);
    n->as.conditional.alternate = ew__parse_assign(p, no_in, NULL);
    return ew__finish(p, n);
}

/* ---------------------------------------------------------------------------------------------------------
 * Assignment, yield, comma
 */

static bool starts_expression(ew__tok_t t)
{
    switch (t) {
    case EW__T_RPAREN: case EW__T_RBRACK: case EW__T_RBRACE: case EW__T_COMMA: case EW__T_SEMI:
    case EW__T_COLON: case EW__T_EOF: case EW__T_QUESTION: case EW__T_ARROW: case EW__T_K_IN:
    case EW__T_K_INSTANCEOF: case EW__T_QDOT: case EW__T_DOT:
        return false;
    default:
        if (t >= EW__T_NULLISH && t <= EW__T_NULLISH_ASSIGN)
            return t == EW__T_PLUS || t == EW__T_MINUS || t == EW__T_SLASH || t == EW__T_SLASH_ASSIGN;
        return true;
    }
}

static ew__node_t *parse_yield(ew__parser_t *p, bool no_in)
{
    ew__node_t *n = ew__node(p, EW__N_YieldExpression, ew__here(p));
    if (p->fn->flags & EW__FN_PARAMS)
        ew__perror(p, n->start, "Yield expression not allowed in formal parameter");
    if (!p->yield_pos)
        p->yield_pos = n->start + 1;
    ew__lex_next(p);
    if (ew__nl_before(p) || (p->tok.type != EW__T_STAR && !starts_expression(p->tok.type)))
        return ew__finish(p, n);
    n->as.yield.delegate = ew__eat(p, EW__T_STAR);
    n->as.yield.argument = ew__parse_assign(p, no_in, NULL);
    return ew__finish(p, n);
}

static bool is_assign_op(ew__tok_t t)
{
    return t >= EW__T_ASSIGN && t <= EW__T_NULLISH_ASSIGN;
}

ew__node_t *ew__parse_assign(ew__parser_t *p, bool no_in, ew__cover_t *cover)
{
    if (ew__is_name(p, p->n.yield) && (p->fn->flags & EW__FN_GENERATOR) && !(p->fn->flags & EW__FN_ARROW))
        return parse_yield(p, no_in);
    ew__enter(p);
    ew__cover_t own = {0};
    bool is_own = cover == NULL;
    uint32_t old_trailing = 0, old_proto = 0;
    if (is_own) {
        cover = &own;
    } else {
        old_trailing = cover->trailing_comma;
        old_proto = cover->double_proto;
        cover->trailing_comma = cover->double_proto = 0;
    }
    ew__pos_t at = ew__here(p);
    if (p->tok.type == EW__T_LPAREN || p->tok.type == EW__T_NAME)
        p->potential_arrow_at = at.start + 1;
    ew__node_t *left = parse_conditional(p, no_in, cover);
    ew__tok_t op = p->tok.type;
    if (is_assign_op(op)) {
        if (op == EW__T_ASSIGN && (left->type == EW__N_ObjectExpression || left->type == EW__N_ArrayExpression) &&
            !(left->flags & EW__NF_PAREN))
            left = ew__to_pattern(p, left, false, cover);
        else if (left->type == EW__N_ObjectExpression || left->type == EW__N_ArrayExpression)
            ew__perror(p, left->start, "Invalid left-hand side in assignment");
        else if (left->type == EW__N_CallExpression && op >= EW__T_AND_ASSIGN)
            ew__perror(p, left->start, "Invalid left-hand side in assignment"); /* not for &&= ||= ??= */
        else
            ew__check_simple_target(p, left);
        cover->trailing_comma = cover->double_proto = 0;
        if (cover->shorthand_assign >= left->start + 1)
            cover->shorthand_assign = 0;
        ew__lex_next(p);
        ew__node_t *n = ew__node(p, EW__N_AssignmentExpression, at);
        n->as.binary.op = (uint8_t) op;
        n->as.binary.left = left;
        n->as.binary.right = ew__parse_assign(p, no_in, NULL);
        if (old_proto)
            cover->double_proto = old_proto;
        ew__leave(p);
        return ew__finish(p, n);
    }
    if (is_own)
        ew__check_cover(p, cover);
    if (old_trailing)
        cover->trailing_comma = old_trailing;
    if (old_proto && !cover->double_proto)
        cover->double_proto = old_proto;
    ew__leave(p);
    return left;
}

ew__node_t *ew__parse_expression(ew__parser_t *p, bool no_in, ew__cover_t *cover)
{
    ew__pos_t at = ew__here(p);
    ew__node_t *e = ew__parse_assign(p, no_in, cover);
    if (p->tok.type != EW__T_COMMA)
        return e;
    uint32_t mark = ew__list_mark(p);
    ew__list_push(p, e);
    while (ew__eat(p, EW__T_COMMA))
        ew__list_push(p, ew__parse_assign(p, no_in, cover));
    ew__node_t *n = ew__node(p, EW__N_SequenceExpression, at);
    n->as.sequence.expressions = ew__list_pop(p, mark);
    return ew__finish(p, n);
}
