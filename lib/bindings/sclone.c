/*
 * sclone.c — loads lib/js/sclone.js (structured clone as JSON text) once per heap and hands its
 * { serialize, deserialize } object to the C and JS code that needs it: durable.js (as native.codec) and the
 * Queues binding (contentType 'v8', queue.c). A heap that uses neither never runs the file.
 */
#include "internal.h"
#include "js_bytecode.h"

#define CODEC_KEY DUK_HIDDEN_SYMBOL("sclone")

void ew__sclone_push(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, CODEC_KEY)) {
        duk_pop(ctx);
        duk_push_external_buffer(ctx);
        duk_config_buffer(ctx, -1, (void *) ew__js_sclone, ew__js_sclone_len);
        duk_load_function(ctx);
        duk_push_object(ctx);
        duk_push_global_object(ctx);
        duk_call(ctx, 2);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, CODEC_KEY);
    }
    duk_remove(ctx, -2);
}

void ew__sclone_call(duk_context *ctx, const char *fn)
{
    ew__sclone_push(ctx);
    duk_push_string(ctx, fn);
    duk_dup(ctx, -3);
    duk_call_prop(ctx, -3, 1);
    duk_remove(ctx, -2);
    duk_remove(ctx, -2);
}
