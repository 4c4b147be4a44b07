/*
 * lower_template.c — template literals and tagged templates to ES5.
 *
 * `a${x}b${y}` becomes one `+` chain that starts with a string: "a" + x + "b" + y (empty pieces dropped, but
 * the chain always begins with a string so `${a}${b}` never adds numbers; `${x}b` is x + "b", whose first
 * `+` has a string operand). Deviation, documented in
 * docs/compiler.md: `+` converts objects with ToPrimitive(default) where the template uses ToString, which
 * differs only for objects whose valueOf and toString disagree; the alternative (a String.prototype.concat
 * call per template) costs a native call on a hot path. Tagged templates call the tag with a strings array
 * made once per call site by $ew.templateObject(cooked, raw) (frozen, with a frozen .raw) and cached in a
 * module-level variable, as the specification requires; a member tag keeps its `this`.
 */
#include "lower.h"

static ew__node_t *quasi_str(ew__lower_t *L, const ew__node_t *q, bool raw)
{
    const ew__str_t *s = raw ? &q->as.template_element.raw : &q->as.template_element.cooked;
    if (!s->s)
        return ew__b_undefined(L, q);
    return ew__b_str(L, s->s, s->len, q);
}

static ew__node_t *lower_template(ew__lower_t *L, ew__node_t *t)
{
    ew__nodes_t *q = &t->as.template.quasis, *e = &t->as.template.expressions;
    ew__node_t *acc = quasi_str(L, q->items[0], false);
    for (uint32_t i = 0; i < e->len; i++) {
        ew__node_t *x = e->items[i];
        /* `${x}b…`: x + "b" already converts x as "" + x + "b" would (ToPrimitive, then a string) */
        if (i == 0 && !q->items[0]->as.template_element.cooked.len && q->items[1]->as.template_element.cooked.len)
            acc = x;
        else
            acc = ew__b_binary(L, EW__T_PLUS, acc, x, x);
        ew__node_t *s = q->items[i + 1];
        if (s->as.template_element.cooked.len)
            acc = ew__b_binary(L, EW__T_PLUS, acc, quasi_str(L, s, false), s);
    }
    return acc;
}

/* tag(cache || (cache = $ew.templateObject([cooked...], [raw...])), x, y) */
static ew__node_t *lower_tagged(ew__lower_t *L, ew__node_t *n)
{
    ew__node_t *t = n->as.tagged.quasi;
    ew__nodes_t *q = &t->as.template.quasis, *e = &t->as.template.expressions;
    ew__node_t **cooked = ew__lalloc(L, q->len * sizeof *cooked), **raw = ew__lalloc(L, q->len * sizeof *raw);
    for (uint32_t i = 0; i < q->len; i++) {
        cooked[i] = quasi_str(L, q->items[i], false);
        raw[i] = quasi_str(L, q->items[i], true);
    }
    ew__atom_t *name = ew__fresh(L, "tpl", 3);
    ew__nodes_push(L, &L->module_vars, &L->module_vars_cap, ew__b_ident(L, name, NULL));
    ew__node_t *make = ew__b_helper(L, "templateObject",
                                    ew__b_list(L, 2, ew__b_array(L, ew__b_list_copy(L, cooked, q->len), t),
                                               ew__b_array(L, ew__b_list_copy(L, raw, q->len), t)), t);
    ew__node_t *obj = ew__b_logical(L, EW__T_OR, ew__b_ident(L, name, t),
                                    ew__b_assign(L, ew__b_ident(L, name, t), make, t), t);
    ew__node_t **args = ew__lalloc(L, (e->len + 1) * sizeof *args);
    args[0] = obj;
    for (uint32_t i = 0; i < e->len; i++)
        args[i + 1] = e->items[i];
    return ew__b_call(L, n->as.tagged.tag, ew__b_list_copy(L, args, e->len + 1), n);
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    ew__node_t *n = *slot;
    if (n->type == EW__N_TemplateLiteral)
        *slot = lower_template(w->L, n);
    else if (n->type == EW__N_TaggedTemplateExpression)
        *slot = lower_tagged(w->L, n);
    else if (n->type == EW__N_Literal && n->as.literal.kind == EW__LIT_REGEX)
        ew__lower_regex(w->L, slot);
    ew__check_es5_node(w->L, *slot);
}

static bool pre(ew__walk_t *w, ew__node_t **slot)
{
    /* The quasi of a tagged template is handled with its tag, not as a plain template. */
    ew__node_t *n = *slot;
    if (n->type == EW__N_TaggedTemplateExpression) {
        ew__walk(w, &n->as.tagged.tag);
        ew__nodes_t *e = &n->as.tagged.quasi->as.template.expressions;
        for (uint32_t i = 0; i < e->len; i++)
            ew__walk(w, &e->items[i]);
        return true;
    }
    return false;
}

void ew__lower_template(ew__lower_t *L)
{
    /* the subtrees with template or regex literals, checked for anything not ES5 on the way (the rest was walked
     * by the passes before; Duktape's parser refuses what a pass would have left: an internal compiler error) */
    ew__walk_t w = {L, pre, post, NULL, EW__FEAT_TEMPLATE, 0, false};
    ew__walk(&w, &L->program);
}
