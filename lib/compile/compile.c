/*
 * compile.c — the compiler pipeline: parse -> scope analysis -> lowering passes -> emit (docs/compiler.md).
 *
 * ew__compile is what the rest of the library calls (compile.h). It owns one arena for the whole compilation,
 * turns the Program into the body of `function (<helpers>) { ... }` so the runtime helper object reaches the
 * code through a parameter no source identifier can name, and prints it with line retention. Every failure
 * (syntax error, feature not lowered yet, out of memory) comes back as a diagnostic with the position in the
 * source; nothing is printed and nothing outlives the call but *out.
 */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "lower.h"

/* `function (<helpers>) { <program body> }` as a FunctionExpression printed inline before line 1's code. */
static ew__node_t *wrap_program(ew__lower_t *L)
{
    ew__node_t *prog = L->program;
    ew__node_t *fn = ew__b_node(L, EW__N_FunctionExpression, NULL);
    fn->as.function.params = ew__b_list(L, 1, ew__b_ident(L, L->helpers, NULL));
    fn->as.function.body = ew__b_block(L, prog->as.program.body, NULL);
    fn->flags = prog->flags & EW__NF_STRICT;
    return fn;
}

static bool lower_and_emit(ew__lower_t *L, const ew__compile_opts_t *in, ew__compile_out_t *out)
{
    if (setjmp(L->fail))
        return false;
    ew__lower_run(L);
    ew__node_t *fn = wrap_program(L);
    ew__emit_opts_t eo;
    ew__emit_opts_init(&eo);
    eo.duktape = true;
    eo.file = in->filename;
    ew__emit_out_t eout;
    if (!ew__emit(fn, &eo, &eout, L->diag))
        return false;
    out->text = eout.text;
    out->len = eout.len;
    out->map = eout.map;
    return true;
}

bool ew__compile(const ew__compile_opts_t *in, ew__compile_out_t *out, ew__diag_t *diag)
{
    memset(out, 0, sizeof *out);
    ew__arena_t arena;
    ew__arena_init(&arena);
    ew__parse_opts_t po = {in->source, in->len, in->filename, in->module};
    ew__node_t *prog = ew__parse(&arena, &po, diag);
    bool ok = false;
    if (prog) {
        ew__lower_t *L = calloc(1, sizeof *L);
        if (!L) {
            ew__diag_set(diag, in->filename, in->source, in->len, 0, 1, 1, "out of memory");
        } else {
            L->arena = &arena;
            L->src = in->source;
            L->len = in->len;
            L->file = in->filename;
            L->diag = diag;
            L->program = prog;
            L->module = in->module;
            L->global_script = !in->module;
            ok = lower_and_emit(L, in, out);
            free(L);
        }
    }
    ew__arena_dispose(&arena);
    return ok;
}

void ew__compile_out_dispose(ew__compile_out_t *out)
{
    free(out->text);
    ew__linemap_dispose(&out->map);
    for (uint32_t i = 0; i < out->nfiles; i++)
        free(out->files[i]);
    free(out->files);
    memset(out, 0, sizeof *out);
}
