/*
 * ast.c — reflection over the syntax tree: type names, the field table, the child visitor.
 *
 * One table lists every node type's ESTree fields with their kind and offset in ew__node_t. The JSON dump
 * (ast_dump.c) prints from it and ew__node_children walks child slots from it, so the lowering passes get a
 * generic traversal for free and a new node type needs one row here. Fields are listed in source order, which is
 * the order a visitor must follow for evaluation-order-sensitive work.
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"

static const char *const type_names[] = {
#define EW__X_NAME(t, m) #t,
    EW__NODE_TYPES(EW__X_NAME)
#undef EW__X_NAME
};

const char *ew__node_type_name(ew__node_type_t type)
{
    return type < EW__N_COUNT ? type_names[type] : "?";
}

const char *ew__op_text(uint8_t op)
{
    return ew__tok_text((ew__tok_t) op);
}

bool ew__atom_eq(const ew__atom_t *a, const ew__atom_t *b)
{
    return a == b || (a && b && a->len == b->len && memcmp(a->s, b->s, a->len) == 0);
}

#define OFF(m) (uint16_t) offsetof(ew__node_t, as.m)
#define NODE(n, m) {n, EW__F_NODE, OFF(m)}
#define LIST(n, m) {n, EW__F_LIST, OFF(m)}
#define BOOL(n, m) {n, EW__F_BOOL, OFF(m)}
#define END {NULL, 0, 0}

static const ew__field_t f_none[] = {END};
static const ew__field_t f_program[] = {LIST("body", program.body), END};
static const ew__field_t f_ident[] = {{"name", EW__F_ATOM, OFF(ident.name)}, END};
static const ew__field_t f_literal[] = {END}; /* value and raw are special-cased by the dump */
static const ew__field_t f_template[] = {LIST("quasis", template.quasis), LIST("expressions", template.expressions),
                                         END};
static const ew__field_t f_template_element[] = {{"raw", EW__F_STR, OFF(template_element.raw)},
                                                 {"cooked", EW__F_STR, OFF(template_element.cooked)},
                                                 BOOL("tail", template_element.tail), END};
static const ew__field_t f_tagged[] = {NODE("tag", tagged.tag), NODE("quasi", tagged.quasi), END};
static const ew__field_t f_array[] = {LIST("elements", array.elements), END};
static const ew__field_t f_object[] = {LIST("properties", object.properties), END};
static const ew__field_t f_property[] = {NODE("key", property.key), NODE("value", property.value),
                                         {"kind", EW__F_PKIND, OFF(property.kind)},
                                         BOOL("computed", property.computed), BOOL("shorthand", property.shorthand),
                                         BOOL("method", property.method), END};
static const ew__field_t f_function[] = {NODE("id", function.id), LIST("params", function.params),
                                         NODE("body", function.body), BOOL("generator", function.generator),
                                         BOOL("async", function.async), BOOL("expression", function.expression),
                                         END};
static const ew__field_t f_class[] = {NODE("id", class_.id), NODE("superClass", class_.super_class),
                                      NODE("body", class_.body), END};
static const ew__field_t f_body[] = {LIST("body", body.body), END};
static const ew__field_t f_method[] = {NODE("key", method.key), NODE("value", method.value),
                                       {"kind", EW__F_PKIND, OFF(method.kind)}, BOOL("computed", method.computed),
                                       BOOL("static", method.is_static), END};
static const ew__field_t f_field[] = {NODE("key", field.key), NODE("value", field.value),
                                      BOOL("computed", field.computed), BOOL("static", field.is_static), END};
static const ew__field_t f_unary[] = {{"operator", EW__F_OP, OFF(unary.op)}, BOOL("prefix", unary.prefix),
                                      NODE("argument", unary.argument), END};
static const ew__field_t f_binary[] = {NODE("left", binary.left), {"operator", EW__F_OP, OFF(binary.op)},
                                       NODE("right", binary.right), END};
static const ew__field_t f_assign_pattern[] = {NODE("left", assign_pattern.left),
                                               NODE("right", assign_pattern.right), END};
static const ew__field_t f_conditional[] = {NODE("test", conditional.test),
                                            NODE("consequent", conditional.consequent),
                                            NODE("alternate", conditional.alternate), END};
static const ew__field_t f_call[] = {NODE("callee", call.callee), LIST("arguments", call.arguments),
                                     BOOL("optional", call.optional), END};
static const ew__field_t f_member[] = {NODE("object", member.object), NODE("property", member.property),
                                       BOOL("computed", member.computed), BOOL("optional", member.optional), END};
static const ew__field_t f_chain[] = {NODE("expression", chain.expression), END};
static const ew__field_t f_sequence[] = {LIST("expressions", sequence.expressions), END};
static const ew__field_t f_yield[] = {NODE("argument", yield.argument), BOOL("delegate", yield.delegate), END};
static const ew__field_t f_argument[] = {NODE("argument", argument.argument), END};
static const ew__field_t f_import_expr[] = {NODE("source", import_expr.source), END};
static const ew__field_t f_meta_property[] = {NODE("meta", meta_property.meta),
                                              NODE("property", meta_property.property), END};
static const ew__field_t f_expr_stmt[] = {NODE("expression", expr_stmt.expression),
                                          {"directive", EW__F_STR, OFF(expr_stmt.directive)}, END};
static const ew__field_t f_with[] = {NODE("object", with.object), NODE("body", with.body), END};
static const ew__field_t f_labeled[] = {NODE("label", labeled.label), NODE("body", labeled.body), END};
static const ew__field_t f_jump[] = {NODE("label", jump.label), END};
static const ew__field_t f_switch_[] = {NODE("discriminant", switch_.discriminant), LIST("cases", switch_.cases),
                                        END};
static const ew__field_t f_switch_case[] = {NODE("test", switch_case.test),
                                            LIST("consequent", switch_case.consequent), END};
static const ew__field_t f_try_[] = {NODE("block", try_.block), NODE("handler", try_.handler),
                                     NODE("finalizer", try_.finalizer), END};
static const ew__field_t f_catch_[] = {NODE("param", catch_.param), NODE("body", catch_.body), END};
static const ew__field_t f_while_[] = {NODE("test", while_.test), NODE("body", while_.body), END};
/* DoWhileStatement evaluates its body first; it has its own row so the visitor keeps source order. */
static const ew__field_t f_do_while[] = {NODE("body", while_.body), NODE("test", while_.test), END};
static const ew__field_t f_for_[] = {NODE("init", for_.init), NODE("test", for_.test), NODE("update", for_.update),
                                     NODE("body", for_.body), END};
static const ew__field_t f_for_in[] = {NODE("left", for_in.left), NODE("right", for_in.right),
                                       NODE("body", for_in.body), END};
static const ew__field_t f_for_of[] = {BOOL("await", for_in.await), NODE("left", for_in.left),
                                       NODE("right", for_in.right), NODE("body", for_in.body), END};
static const ew__field_t f_var_decl[] = {LIST("declarations", var_decl.declarations),
                                         {"kind", EW__F_VKIND, OFF(var_decl.kind)}, END};
static const ew__field_t f_declarator[] = {NODE("id", declarator.id), NODE("init", declarator.init), END};
static const ew__field_t f_import_decl[] = {LIST("specifiers", import_decl.specifiers),
                                            NODE("source", import_decl.source), END};
static const ew__field_t f_import_spec[] = {NODE("imported", import_spec.imported),
                                            NODE("local", import_spec.local), END};
static const ew__field_t f_import_local[] = {NODE("local", import_spec.local), END};
static const ew__field_t f_export_named[] = {NODE("declaration", export_named.declaration),
                                             LIST("specifiers", export_named.specifiers),
                                             NODE("source", export_named.source), END};
static const ew__field_t f_export_spec[] = {NODE("local", export_spec.local), NODE("exported", export_spec.exported),
                                            END};
static const ew__field_t f_export_default[] = {NODE("declaration", export_default.declaration), END};
static const ew__field_t f_export_all[] = {NODE("exported", export_all.exported), NODE("source", export_all.source),
                                           END};
#define f_class_ f_class

static const ew__field_t *const field_table[] = {
#define EW__X_FIELDS(t, m) f_##m,
    EW__NODE_TYPES(EW__X_FIELDS)
#undef EW__X_FIELDS
};

const ew__field_t *ew__node_fields(ew__node_type_t type)
{
    switch (type) {
    case EW__N_DoWhileStatement: return f_do_while;
    case EW__N_ForOfStatement: return f_for_of;
    case EW__N_ImportDefaultSpecifier:
    case EW__N_ImportNamespaceSpecifier: return f_import_local;
    default: return type < EW__N_COUNT ? field_table[type] : f_none;
    }
}

static int visit_slot(ew__node_t **slot, ew__visit_fn fn, void *ud)
{
    return *slot ? fn(slot, ud) : 0;
}

static int visit_list(ew__nodes_t *l, ew__visit_fn fn, void *ud)
{
    for (uint32_t i = 0; i < l->len; i++) {
        if (!l->items[i])
            continue;
        int r = fn(&l->items[i], ud);
        if (r)
            return r;
    }
    return 0;
}

int ew__node_children(ew__node_t *n, ew__visit_fn fn, void *ud)
{
    int r;
    /* The most frequent shapes directly (every pass walks the whole tree through here); the table for the rest.
     * The order is the table's. */
    switch (n->type) {
    case EW__N_Identifier:
    case EW__N_PrivateIdentifier:
    case EW__N_Literal:
    case EW__N_ThisExpression:
    case EW__N_Super:
    case EW__N_EmptyStatement:
    case EW__N_DebuggerStatement:
    case EW__N_TemplateElement: return 0;
    case EW__N_BinaryExpression:
    case EW__N_LogicalExpression:
    case EW__N_AssignmentExpression:
        return (r = visit_slot(&n->as.binary.left, fn, ud)) ? r : visit_slot(&n->as.binary.right, fn, ud);
    case EW__N_MemberExpression:
        return (r = visit_slot(&n->as.member.object, fn, ud)) ? r : visit_slot(&n->as.member.property, fn, ud);
    case EW__N_CallExpression:
    case EW__N_NewExpression:
        return (r = visit_slot(&n->as.call.callee, fn, ud)) ? r : visit_list(&n->as.call.arguments, fn, ud);
    case EW__N_ExpressionStatement: return visit_slot(&n->as.expr_stmt.expression, fn, ud);
    case EW__N_BlockStatement: return visit_list(&n->as.body.body, fn, ud);
    case EW__N_Property:
        return (r = visit_slot(&n->as.property.key, fn, ud)) ? r : visit_slot(&n->as.property.value, fn, ud);
    case EW__N_VariableDeclarator:
        return (r = visit_slot(&n->as.declarator.id, fn, ud)) ? r : visit_slot(&n->as.declarator.init, fn, ud);
    default: break;
    }
    for (const ew__field_t *f = ew__node_fields((ew__node_type_t) n->type); f->name; f++) {
        char *base = (char *) n + f->offset;
        if (f->kind == EW__F_NODE) {
            ew__node_t **slot = (ew__node_t **) (void *) base;
            if (*slot) {
                int r = fn(slot, ud);
                if (r)
                    return r;
            }
        } else if (f->kind == EW__F_LIST) {
            ew__nodes_t *l = (ew__nodes_t *) (void *) base;
            for (uint32_t i = 0; i < l->len; i++) {
                if (!l->items[i])
                    continue;
                int r = fn(&l->items[i], ud);
                if (r)
                    return r;
            }
        }
    }
    return 0;
}
