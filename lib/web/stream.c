/*
 * stream.c — the bridge between lib/js/streams.js (the Streams Standard in JS) and C: loading it on first
 * use, the natives it calls, and the C interface of lib/web/stream.h (sources fed from C, readers in C,
 * and the helpers the body mixin uses).
 *
 * Lazy loading: ew__stream_init() defines each stream global as an accessor whose getter (or setter) loads
 * streams.js once, then replaces every stream global with a plain data property. A Worker that never names a
 * stream class and never reads a body's .body never loads the file (tens of KB of functions per isolate).
 *
 * C handles (sources and readers) are malloc'd structs on a per-heap list kept in a registry struct that
 * lives in a fixed buffer in the heap stash; the JS values they stand for (a byte controller, a reader and
 * its pinned chunk) sit in a stash table under the handle's id, so JS holds no C pointers: a native called
 * back by JS finds its handle by id, and a handle that is gone is simply not found.
 */
#include <string.h>

#include "core/isolate.h"
#include "internal.h"
#include "js_bytecode.h"
#include "net/encode.h"
#include "stream.h"

#define K_REG DUK_HIDDEN_SYMBOL("sR")      /* heap stash: fixed buffer holding the registry */
#define K_API DUK_HIDDEN_SYMBOL("sA")      /* heap stash: streams.js's internal object, once loaded */
#define K_TABLE DUK_HIDDEN_SYMBOL("sT")    /* heap stash: handle id -> JS values */
#define K_FNS DUK_HIDDEN_SYMBOL("sF")      /* heap stash: [onChunk, onClose, onError] natives of C readers */
#define K_SLOT DUK_HIDDEN_SYMBOL("st")     /* every stream object: its spec record (streams.js) */
#define K_BYTES DUK_HIDDEN_SYMBOL("sb")    /* a stream made from a buffered body: that body's storage */
#define K_ID DUK_HIDDEN_SYMBOL("id")       /* hooks object of a C source: its handle id */
#define K_SRC DUK_HIDDEN_SYMBOL("sc")      /* stream object fed from C: its source's handle id */

enum { HANDLE_SRC, HANDLE_READER };

struct registry;

typedef struct handle {
    int kind;                  /* HANDLE_SRC or HANDLE_READER */
    duk_context *ctx;          /* the heap's main thread; NULL once the heap went away (readers only:
                                  sources are freed then) */
    struct registry *reg;      /* the heap's registry (lives in the heap: valid while ctx is not NULL) */
    uint32_t id;               /* key in K_TABLE */
    uint32_t req_id;           /* request charged for work done on the handle's behalf */
    struct handle *next;       /* in the registry's list */
} handle_t;

typedef struct registry {
    handle_t *head;            /* live handles */
    uint32_t next_id;
    duk_context *cur;          /* the running thread while a stream native calls out to C (NULL: none) */
} registry_t;

struct ew__stream_src {
    handle_t h;
    ew__stream_src_hooks_t hooks;
    void *udata;
    size_t hwm;                /* bytes the stream may queue ahead of its reader */
    ew__stream_reader_t *direct; /* the C reader bound to this source (C-to-C), NULL when none */
    bool in_pull;              /* inside hooks.pull (a direct source does not pull re-entrantly) */
};

enum { DIRECT_OPEN, DIRECT_CLOSED, DIRECT_ERRORED };

struct ew__stream_reader {
    handle_t h;
    ew__stream_read_fn cb;     /* the pending read's callback, NULL when none */
    void *udata;
    bool ended;                /* END or ERROR was reported */
    bool skipping;             /* inside the loop that skips empty chunks */
    bool again;                /* an empty chunk arrived inside that loop: read once more */
    /* C-to-C: a reader opened on an untouched stream fed from C takes the source's bytes without script
     * (see "C-to-C" below). */
    bool direct;
    bool uncharged;            /* direct: deliveries are charged to no request (ew__stream_reader_uncharged) */
    ew__stream_src_t *src;     /* direct: the source, NULL once it closed, errored or was cancelled */
    int src_state;             /* direct: DIRECT_OPEN, DIRECT_CLOSED or DIRECT_ERRORED */
    char *error;               /* direct, errored: the source's message (owned) */
    ew__buf_t queue;           /* direct: bytes the source gave that no read has taken yet */
    ew__buf_t cur;             /* direct: the chunk the last read delivered (valid until the next read) */
    ew__stream_splice_fn splice_cb; /* direct: the pending splice's callback, NULL when none */
    void *splice_udata;
    bool splice_wanted;        /* direct: the owner would splice: no bytes read ahead of its reads */
    bool splice_never;         /* direct: the source said its bytes cannot be spliced */
    /* Encoding (ew__stream_reader_encode): chunks are compressed before the reader's owner sees them. */
    ew__encoder_t *enc;        /* owned; NULL when the bytes go as they are */
    ew__stream_read_fn user_cb; /* the owner's callback of the pending read while enc is in between */
    void *user_udata;
    char *enc_out;             /* the compressed chunk the last read delivered (malloc'd, reused) */
    size_t enc_len, enc_cap;
    bool enc_end;              /* the trailer went out as the last chunk: the next read reports END */
};

/* One answer to a read, delivered from C inside an isolate entry (C-to-C, the encoding's END). */
struct direct_ev {
    ew__stream_reader_t *r;
    ew__stream_read_fn cb;
    void *udata;
    ew__stream_event_t ev;
    bool called;
};

static const char *const class_names[] = {
    "ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader",
    "ReadableStreamDefaultController", "ReadableByteStreamController", "ReadableStreamBYOBRequest",
    "WritableStream", "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
    "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
    "IdentityTransformStream", "FixedLengthStream", "TextEncoderStream", "TextDecoderStream",
    "CompressionStream", "DecompressionStream", NULL,
};

/* stream_zlib.c */
void ew__stream_zlib_natives(duk_context *ctx, duk_idx_t natives_idx);

/* ---------------------------------------------------------------------------------------------------------
 * Registry and table
 */

static registry_t *registry(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_REG);
    registry_t *reg = duk_get_buffer_data(ctx, -1, NULL);
    duk_pop_2(ctx);
    return reg;
}

static void reg_add(duk_context *ctx, handle_t *h, int kind)
{
    registry_t *reg = registry(ctx);
    h->kind = kind;
    h->ctx = ew__isolate_main_ctx(ctx);
    h->reg = reg;
    h->id = ++reg->next_id;
    h->req_id = ew__isolate_req_id(ctx);
    h->next = reg->head;
    reg->head = h;
}

static void reg_remove(handle_t *h)
{
    if (h->ctx == NULL)
        return;
    registry_t *reg = h->reg;
    for (handle_t **pp = &reg->head; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    }
}

static handle_t *reg_find_in(registry_t *reg, uint32_t id)
{
    for (handle_t *h = reg->head; h != NULL; h = h->next)
        if (h->id == id)
            return h;
    return NULL;
}

static handle_t *reg_find(duk_context *ctx, uint32_t id)
{
    return reg_find_in(registry(ctx), id);
}

/* The thread to run on for work about handle h: the running one when a stream native called out to C
 * (which may be a coroutine's), else the main thread (a call from outside JavaScript). */
static duk_context *run_ctx(const handle_t *h)
{
    return h->reg->cur != NULL ? h->reg->cur : h->ctx;
}

/* Marks ctx as the running thread while a native calls out to C; returns the previous mark. */
static duk_context *enter_native(duk_context *ctx)
{
    registry_t *reg = registry(ctx);
    duk_context *prev = reg->cur;
    reg->cur = ctx;
    return prev;
}

static void leave_native(duk_context *ctx, duk_context *prev)
{
    registry(ctx)->cur = prev;
}

static void push_table(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_TABLE);
    duk_remove(ctx, -2);
}

/* table[id] = value on top (popped). */
static void table_put(duk_context *ctx, uint32_t id)
{
    push_table(ctx);
    duk_insert(ctx, -2);
    duk_put_prop_index(ctx, -2, id);
    duk_pop(ctx);
}

static void table_get(duk_context *ctx, uint32_t id)
{
    push_table(ctx);
    duk_get_prop_index(ctx, -1, id);
    duk_remove(ctx, -2);
}

static void table_del(duk_context *ctx, uint32_t id)
{
    push_table(ctx);
    duk_del_prop_index(ctx, -1, id);
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Natives for streams.js
 */

static duk_ret_t n_new_promise(duk_context *ctx)
{
    ew__promise_push_new(ctx);
    return 1;
}

/* settle(p, value, reject) */
static duk_ret_t n_settle(duk_context *ctx)
{
    bool reject = duk_to_boolean(ctx, 2);
    duk_dup(ctx, 1);
    ew__promise_settle(ctx, 0, reject);
    return 0;
}

static duk_ret_t n_handled(duk_context *ctx)
{
    if (ew__promise_is(ctx, 0))
        ew__promise_mark_handled(ctx, 0);
    return 0;
}

static duk_ret_t n_state(duk_context *ctx)
{
    duk_push_int(ctx, (int) ew__promise_state(ctx, 0));
    return 1;
}

static void run_job(duk_context *ctx, duk_idx_t nargs)
{
    duk_dup(ctx, duk_get_top(ctx) - nargs);
    duk_call(ctx, 0);
    duk_pop(ctx);
}

static duk_ret_t n_queue_microtask(duk_context *ctx)
{
    duk_dup(ctx, 0);
    ew__microtask_enqueue(ctx, run_job, 1);
    return 0;
}

static const ew__method_t natives[] = {
    {"newPromise", n_new_promise, 0, 0},
    {"settle", n_settle, 3, 3},
    {"handled", n_handled, 1, 1},
    {"state", n_state, 1, 1},
    {"queueMicrotask", n_queue_microtask, 1, 1},
    {NULL, NULL, 0, 0},
};

/* C reader callbacks, called by streams.js's read requests: (id, chunk), (id), (id, error). */
static duk_ret_t n_reader_chunk(duk_context *ctx);
static duk_ret_t n_reader_close(duk_context *ctx);
static duk_ret_t n_reader_error(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Loading
 */

static bool loaded(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    bool yes = duk_has_prop_literal(ctx, -1, K_API);
    duk_pop(ctx);
    return yes;
}

/* Runs streams.js (once) and replaces the lazy globals with the classes. */
static void load(duk_context *ctx)
{
    if (loaded(ctx))
        return;
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) ew__js_streams, ew__js_streams_len);
    duk_load_function(ctx);
    duk_idx_t nat = duk_push_object(ctx);
    ew__def_methods(ctx, nat, natives);
    duk_push_literal(ctx, K_SLOT);
    duk_put_prop_literal(ctx, nat, "slot");
    ew__stream_zlib_natives(ctx, nat);
    duk_push_global_object(ctx);
    duk_call(ctx, 2);
    duk_idx_t api = duk_get_top_index(ctx);

    duk_push_global_object(ctx);
    duk_get_prop_literal(ctx, api, "classes");
    for (const char *const *n = class_names; *n != NULL; n++) {
        duk_push_string(ctx, *n);
        duk_get_prop_string(ctx, -2, *n);
        duk_def_prop(ctx, -4, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                                  DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
    }
    duk_pop_2(ctx);

    duk_push_heap_stash(ctx);
    duk_push_c_function(ctx, n_reader_chunk, 2);
    duk_push_c_function(ctx, n_reader_close, 1);
    duk_push_c_function(ctx, n_reader_error, 2);
    ew__web_pack(ctx, 3);
    duk_put_prop_literal(ctx, -2, K_FNS);
    duk_get_prop_literal(ctx, api, "internal");
    duk_put_prop_literal(ctx, -2, K_API);
    duk_pop_2(ctx);
}

/* Pushes streams.js's internal function `name` and the internal object (loading the file if needed). */
static void push_api(duk_context *ctx, const char *name)
{
    load(ctx);
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_API);
    duk_get_prop_string(ctx, -1, name);
    duk_swap_top(ctx, -2);
    duk_remove(ctx, -3);
}

/* Calls internal.name with nargs arguments (pushed before this call, after nothing else); leaves the result. */
static void call_api(duk_context *ctx, const char *name, duk_idx_t nargs)
{
    push_api(ctx, name);
    duk_insert(ctx, -2 - nargs);
    duk_insert(ctx, -2 - nargs);
    duk_call_method(ctx, nargs);
}

/* Getter and setter standing in for every stream global until first use. Duktape passes the property key
 * as the accessor's last argument (DUK_USE_NONSTD_GETTER_KEY_ARGUMENT, on by default), so one function
 * pair serves all the names: two function objects per isolate instead of two per class. */
static duk_ret_t lazy_get(duk_context *ctx)
{
    load(ctx);
    duk_push_global_object(ctx);
    duk_dup(ctx, 0);
    duk_get_prop(ctx, -2);
    return 1;
}

static duk_ret_t lazy_set(duk_context *ctx)
{
    load(ctx);
    duk_push_global_object(ctx);
    duk_dup(ctx, 1);
    duk_dup(ctx, 0);
    duk_put_prop(ctx, -3);
    return 0;
}

void ew__stream_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    duk_push_heap_stash(ctx);
    registry_t *reg = duk_push_fixed_buffer(ctx, sizeof(registry_t));
    memset(reg, 0, sizeof(*reg));
    duk_put_prop_literal(ctx, -2, K_REG);
    duk_push_bare_object(ctx);
    duk_put_prop_literal(ctx, -2, K_TABLE);
    duk_pop(ctx);
    duk_push_c_function(ctx, lazy_get, 1);
    duk_push_c_function(ctx, lazy_set, 2);
    for (int i = 0; class_names[i] != NULL; i++) {
        duk_push_string(ctx, class_names[i]);
        duk_dup(ctx, -3);
        duk_dup(ctx, -3);
        duk_def_prop(ctx, global_idx, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER |
                                          DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    }
    duk_pop_2(ctx);
}

/* Pushes the spec record of the value at idx when it is a stream object of kind `kind`, else nothing. */
static bool push_record(duk_context *ctx, duk_idx_t idx, const char *kind)
{
    if (!duk_is_object(ctx, idx))
        return false;
    duk_get_prop_literal(ctx, idx, K_SLOT);
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, "kind");
        bool match = duk_is_string(ctx, -1) && strcmp(duk_get_string(ctx, -1), kind) == 0;
        duk_pop(ctx);
        if (match)
            return true;
    }
    duk_pop(ctx);
    return false;
}

bool ew__stream_is_readable(duk_context *ctx, duk_idx_t idx)
{
    if (!push_record(ctx, idx, "RS"))
        return false;
    duk_pop(ctx);
    return true;
}

static void read_all_dispose(ew__stream_reader_t *r);

/* Answers the reader's pending splice, if any (outside the heap: the callback does not enter it). */
static void splice_answer(ew__stream_reader_t *r, size_t moved, ew__stream_splice_t result)
{
    ew__stream_splice_fn cb = r->splice_cb;
    if (cb == NULL)
        return;
    r->splice_cb = NULL;
    cb(r->splice_udata, moved, result);
}

void ew__stream_dispose(duk_context *ctx)
{
    registry_t *reg = registry(ctx);
    if (reg == NULL)
        return;
    while (reg->head != NULL) {
        handle_t *h = reg->head;
        reg->head = h->next;
        h->ctx = NULL;
        if (h->kind == HANDLE_READER) {
            ew__stream_reader_t *r = (ew__stream_reader_t *) h;
            if (r->src != NULL)
                r->src->direct = NULL;
            r->src = NULL;
            splice_answer(r, 0, EW__SPLICE_FAILED); /* the source is gone with the heap */
            read_all_dispose(r); /* a read-whole of ours waiting: nobody else will end it */
        } else {
            ew__stream_src_t *src = (ew__stream_src_t *) h;
            if (src->direct != NULL)
                src->direct->src = NULL;
            src->direct = NULL;
            if (src->hooks.cancel != NULL)
                src->hooks.cancel(src->udata, src);
            free(src);
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Body helpers
 */

void ew__stream_push_from_bytes(duk_context *ctx, duk_idx_t data_idx)
{
    data_idx = duk_require_normalize_index(ctx, data_idx);
    duk_size_t len;
    const void *p = duk_is_string(ctx, data_idx) ? (const void *) duk_get_lstring(ctx, data_idx, &len)
                                                  : duk_get_buffer_data(ctx, data_idx, &len);
    void *copy = duk_push_fixed_buffer(ctx, len);
    if (len > 0)
        memcpy(copy, p, len);
    duk_push_buffer_object(ctx, -1, 0, len, DUK_BUFOBJ_UINT8ARRAY);
    duk_remove(ctx, -2);
    call_api(ctx, "fromBytes", 1);
    duk_dup(ctx, data_idx);
    duk_put_prop_literal(ctx, -2, K_BYTES);
}

bool ew__stream_push_bytes(duk_context *ctx, duk_idx_t idx, bool claim)
{
    idx = duk_require_normalize_index(ctx, idx);
    if (!duk_is_object(ctx, idx))
        return false;
    duk_get_prop_literal(ctx, idx, K_BYTES);
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        return false;
    }
    if (!claim) {
        if (!ew__stream_is_locked(ctx, idx) && !ew__stream_is_disturbed(ctx, idx))
            return true;
        duk_pop(ctx);
        return false;
    }
    duk_dup(ctx, idx);
    call_api(ctx, "claim", 1);
    bool claimed = duk_to_boolean(ctx, -1);
    duk_pop(ctx);
    if (!claimed)
        duk_pop(ctx);
    return claimed;
}

bool ew__stream_is_locked(duk_context *ctx, duk_idx_t idx)
{
    if (!push_record(ctx, idx, "RS"))
        return false;
    duk_get_prop_literal(ctx, -1, "reader");
    bool locked = !duk_is_null_or_undefined(ctx, -1);
    duk_pop_2(ctx);
    return locked;
}

bool ew__stream_is_disturbed(duk_context *ctx, duk_idx_t idx)
{
    if (!push_record(ctx, idx, "RS"))
        return false;
    duk_get_prop_literal(ctx, -1, "disturbed");
    bool disturbed = duk_to_boolean(ctx, -1);
    duk_pop_2(ctx);
    return disturbed;
}

static bool read_all_direct(duk_context *ctx, duk_idx_t idx);

void ew__stream_push_read_all(duk_context *ctx, duk_idx_t idx)
{
    if (read_all_direct(ctx, idx))
        return;
    duk_dup(ctx, idx);
    call_api(ctx, "readAll", 1);
}

void ew__stream_push_tee(duk_context *ctx, duk_idx_t idx)
{
    duk_dup(ctx, idx);
    call_api(ctx, "tee", 1);
    duk_get_prop_index(ctx, -1, 0);
    duk_get_prop_index(ctx, -2, 1);
    duk_remove(ctx, -3);
}

double ew__stream_expected_length(duk_context *ctx, duk_idx_t idx)
{
    if (!push_record(ctx, idx, "RS"))
        return -1;
    duk_get_prop_literal(ctx, -1, "expectedLength");
    double n = duk_is_number(ctx, -1) ? duk_get_number(ctx, -1) : -1;
    duk_pop_2(ctx);
    return n;
}

void ew__stream_set_expected_length(duk_context *ctx, duk_idx_t idx, double n)
{
    if (!push_record(ctx, idx, "RS"))
        return;
    duk_push_number(ctx, n);
    duk_put_prop_literal(ctx, -2, "expectedLength");
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * (a) Sources fed from C
 */

/* C-to-C (at the end of this file): the source's side when a C reader has claimed its stream. */
static size_t direct_hwm(const ew__stream_reader_t *r);
static ew_status_t direct_enqueue(ew__stream_src_t *src, const void *data, size_t n);
static void direct_src_end(ew__stream_src_t *src, const char *message);

static ew__stream_src_t *src_of_this(duk_context *ctx)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, K_ID);
    uint32_t id = duk_get_uint(ctx, -1);
    duk_pop_2(ctx);
    handle_t *h = reg_find(ctx, id);
    return h != NULL && h->kind == HANDLE_SRC ? (ew__stream_src_t *) h : NULL;
}

static void src_free(ew__stream_src_t *src)
{
    reg_remove(&src->h);
    ew__isolate_io_end(src->h.ctx);
    free(src);
}

/* hooks.pull(): the byte controller wants data. */
static duk_ret_t n_src_pull(duk_context *ctx)
{
    ew__stream_src_t *src = src_of_this(ctx);
    if (src != NULL && src->hooks.pull != NULL) {
        duk_context *prev = enter_native(ctx);
        src->hooks.pull(src->udata, src);
        leave_native(ctx, prev);
    }
    return 0;
}

/* hooks.cancel(reason): the consumer cancelled. */
static duk_ret_t n_src_cancel(duk_context *ctx)
{
    ew__stream_src_t *src = src_of_this(ctx);
    if (src == NULL)
        return 0;
    void (*cancel)(void *, ew__stream_src_t *) = src->hooks.cancel;
    void *udata = src->udata;
    reg_remove(&src->h);
    table_del(ctx, src->h.id);
    ew__isolate_io_end(ctx);
    if (cancel != NULL) {
        duk_context *prev = enter_native(ctx);
        cancel(udata, src);
        leave_native(ctx, prev);
    }
    free(src);
    return 0;
}

/* Safe-call body of ew__stream_src_push_new: [] -> [stream]. */
static duk_ret_t src_make(duk_context *ctx, void *udata)
{
    ew__stream_src_t *src = udata;
    duk_push_object(ctx);
    duk_push_uint(ctx, src->h.id);
    duk_put_prop_literal(ctx, -2, K_ID);
    duk_push_c_function(ctx, n_src_pull, 0);
    duk_put_prop_literal(ctx, -2, "pull");
    duk_push_c_function(ctx, n_src_cancel, 1);
    duk_put_prop_literal(ctx, -2, "cancel");
    duk_push_number(ctx, (double) src->hwm);
    call_api(ctx, "cSource", 2);
    duk_get_prop_index(ctx, -1, 1);
    table_put(ctx, src->h.id);
    duk_get_prop_index(ctx, -1, 0);
    duk_remove(ctx, -2);
    duk_push_uint(ctx, src->h.id);
    duk_put_prop_literal(ctx, -2, K_SRC);
    return 1;
}

ew__stream_src_t *ew__stream_src_push_new(duk_context *ctx, const ew__stream_src_hooks_t *hooks, void *udata,
                                          size_t hwm)
{
    ew__stream_src_t *src = calloc(1, sizeof(*src));
    if (src == NULL)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory creating a stream");
    src->hooks = *hooks;
    src->udata = udata;
    src->hwm = hwm;
    reg_add(ctx, &src->h, HANDLE_SRC);
    if (duk_safe_call(ctx, src_make, src, 0, 1) != DUK_EXEC_SUCCESS) {
        /* The producer never sees this handle: forget it before the error goes on (no cancel hook). */
        table_del(ctx, src->h.id);
        reg_remove(&src->h);
        free(src);
        (void) duk_throw(ctx);
    }
    ew__isolate_io_begin(ctx);
    return src;
}

struct src_op {
    ew__stream_src_t *src;
    const void *data;
    size_t n;
    const char *message;
    double desired;
    bool missing; /* the controller is gone (cancelled meanwhile) */
};

static duk_ret_t src_enqueue_body(duk_context *ctx, void *udata)
{
    struct src_op *op = udata;
    table_get(ctx, op->src->h.id);
    if (duk_is_undefined(ctx, -1)) {
        op->missing = true;
        return 0;
    }
    void *copy = duk_push_fixed_buffer(ctx, op->n);
    memcpy(copy, op->data, op->n);
    duk_push_buffer_object(ctx, -1, 0, op->n, DUK_BUFOBJ_UINT8ARRAY);
    duk_remove(ctx, -2);
    call_api(ctx, "enqueue", 2);
    return 0;
}

ew_status_t ew__stream_src_enqueue(ew__stream_src_t *src, const void *data, size_t n)
{
    if (src == NULL || (data == NULL && n > 0))
        return EW_ERR_INVALID_ARG;
    if (n == 0)
        return EW_OK;
    if (src->direct != NULL)
        return direct_enqueue(src, data, n);
    struct src_op op = {src, data, n, NULL, 0, false};
    uint32_t id = src->h.id;
    registry_t *reg = src->h.reg;
    duk_context *ctx = run_ctx(&src->h);
    bool ok = ew__isolate_run(ctx, src->h.req_id, src_enqueue_body, &op);
    if (op.missing || reg_find_in(reg, id) == NULL)
        return EW_ERR_STATE;
    if (!ok)
        return ew__isolate_aborting(ctx) ? EW_ERR_MEMORY_LIMIT : EW_ERR_NOMEM;
    return EW_OK;
}

static duk_ret_t src_desired_body(duk_context *ctx, void *udata)
{
    struct src_op *op = udata;
    table_get(ctx, op->src->h.id);
    if (duk_is_undefined(ctx, -1))
        return 0;
    call_api(ctx, "desiredSize", 1);
    op->desired = duk_get_number(ctx, -1);
    return 0;
}

double ew__stream_src_desired(ew__stream_src_t *src)
{
    if (src->direct != NULL) {
        double d = (double) direct_hwm(src->direct) - (double) src->direct->queue.len;
        return src->direct->cb != NULL && d <= 0 ? 1 : d;
    }
    struct src_op op = {src, NULL, 0, NULL, 0, false};
    (void) ew__isolate_run(run_ctx(&src->h), src->h.req_id, src_desired_body, &op);
    return op.desired;
}

static duk_ret_t src_close_body(duk_context *ctx, void *udata)
{
    struct src_op *op = udata;
    table_get(ctx, op->src->h.id);
    if (duk_is_undefined(ctx, -1))
        return 0;
    if (op->message == NULL) {
        call_api(ctx, "close", 1);
    } else {
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "%s", op->message);
        call_api(ctx, "error", 2);
    }
    table_del(ctx, op->src->h.id);
    return 0;
}

static void src_end(ew__stream_src_t *src, const char *message)
{
    if (src == NULL)
        return;
    if (src->direct != NULL) {
        direct_src_end(src, message);
        return;
    }
    struct src_op op = {src, NULL, 0, message, 0, false};
    registry_t *reg = src->h.reg;
    uint32_t id = src->h.id;
    (void) ew__isolate_run(run_ctx(&src->h), src->h.req_id, src_close_body, &op);
    handle_t *h = reg_find_in(reg, id);
    if (h != NULL)
        src_free((ew__stream_src_t *) h);
}

void ew__stream_src_close(ew__stream_src_t *src)
{
    src_end(src, NULL);
}

void ew__stream_src_error(ew__stream_src_t *src, const char *message)
{
    src_end(src, message ? message : "The stream's source failed.");
}

/* ---------------------------------------------------------------------------------------------------------
 * (b) Readers in C
 */

static ew__stream_reader_t *reader_by_id(duk_context *ctx, duk_idx_t id_idx)
{
    handle_t *h = reg_find(ctx, duk_get_uint(ctx, id_idx));
    return h != NULL && h->kind == HANDLE_READER ? (ew__stream_reader_t *) h : NULL;
}

/* Calls a reader's callback from a native, with ctx marked as the running thread. */
static void call_cb(duk_context *ctx, ew__stream_read_fn cb, void *udata, ew__stream_event_t ev, const void *data,
                    size_t len)
{
    duk_context *prev = enter_native(ctx);
    cb(ctx, udata, ev, data, len);
    leave_native(ctx, prev);
}

/* Takes the pending callback (a read reports once). */
static ew__stream_read_fn take_cb(ew__stream_reader_t *r)
{
    ew__stream_read_fn cb = r->cb;
    r->cb = NULL;
    return cb;
}

static ew__stream_reader_t *reader_by_id_value(duk_context *ctx, uint32_t id)
{
    handle_t *h = reg_find(ctx, id);
    return h != NULL && h->kind == HANDLE_READER ? (ew__stream_reader_t *) h : NULL;
}

/* internal.read(reader, onChunk, onClose, onError, id): one read request for r. */
static void push_read_call(duk_context *ctx, ew__stream_reader_t *r)
{
    table_get(ctx, r->h.id);
    duk_get_prop_index(ctx, -1, 0);
    duk_remove(ctx, -2);
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_FNS);
    duk_remove(ctx, -2);
    duk_get_prop_index(ctx, -1, 0);
    duk_get_prop_index(ctx, -2, 1);
    duk_get_prop_index(ctx, -3, 2);
    duk_remove(ctx, -4);
    duk_push_uint(ctx, r->h.id);
    call_api(ctx, "read", 5);
    duk_pop(ctx);
}

static duk_ret_t n_reader_chunk(duk_context *ctx)
{
    ew__stream_reader_t *r = reader_by_id(ctx, 0);
    if (r == NULL || r->cb == NULL)
        return 0;
    if (!duk_is_buffer_data(ctx, 1)) {
        r->ended = true;
        ew__stream_read_fn cb = take_cb(r);
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "This ReadableStream did not return bytes.");
        table_get(ctx, r->h.id);
        duk_get_prop_index(ctx, -1, 0);
        duk_dup(ctx, -3);
        call_api(ctx, "cancel", 2);
        duk_pop_2(ctx);
        call_cb(ctx, cb, r->udata, EW__STREAM_ERROR, NULL, 0);
        return 0;
    }
    duk_size_t len;
    const void *p = duk_get_buffer_data(ctx, 1, &len);
    if (len == 0) { /* nothing to hand over: ask for the next chunk instead, in a loop, not nested calls */
        if (r->skipping) {
            r->again = true;
            return 0;
        }
        uint32_t id = r->h.id;
        r->skipping = true;
        do {
            r->again = false;
            push_read_call(ctx, r);
        } while (r->again && reader_by_id_value(ctx, id) == r);
        if (reader_by_id_value(ctx, id) == r)
            r->skipping = false;
        return 0;
    }
    table_get(ctx, r->h.id);
    duk_dup(ctx, 1);
    duk_put_prop_index(ctx, -2, 1); /* pinned until the next read: the bytes stay valid */
    duk_pop(ctx);
    ew__stream_read_fn cb = take_cb(r);
    call_cb(ctx, cb, r->udata, EW__STREAM_CHUNK, p, (size_t) len);
    return 0;
}

static duk_ret_t n_reader_close(duk_context *ctx)
{
    ew__stream_reader_t *r = reader_by_id(ctx, 0);
    if (r == NULL || r->cb == NULL)
        return 0;
    r->ended = true;
    ew__stream_read_fn cb = take_cb(r);
    call_cb(ctx, cb, r->udata, EW__STREAM_END, NULL, 0);
    return 0;
}

static duk_ret_t n_reader_error(duk_context *ctx)
{
    ew__stream_reader_t *r = reader_by_id(ctx, 0);
    if (r == NULL || r->cb == NULL)
        return 0;
    r->ended = true;
    ew__stream_read_fn cb = take_cb(r);
    duk_dup(ctx, 1);
    call_cb(ctx, cb, r->udata, EW__STREAM_ERROR, NULL, 0);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Encoding a reader's chunks (a Response body sent per its Content-Encoding, lib/web/body_encode.c)
 *
 * The owner's read goes through enc_on_read: each chunk is compressed with a flush (the peer can decode
 * everything sent so far: a streamed body is not held back), and at the end the trailer is delivered as
 * one more chunk before END.
 */

static duk_ret_t enc_end_body(duk_context *ctx, void *udata)
{
    struct direct_ev *d = udata;
    d->called = true;
    call_cb(ctx, d->cb, d->udata, EW__STREAM_END, NULL, 0);
    return 0;
}

/* Reports END to a read after the trailer went out (in an entry, as every callback runs). */
static void enc_report_end(ew__stream_reader_t *r, ew__stream_read_fn cb, void *udata)
{
    struct direct_ev d = {r, cb, udata, EW__STREAM_END, false};
    if (r->h.ctx != NULL)
        (void) ew__isolate_run(run_ctx(&r->h), 0, enc_end_body, &d);
    if (!d.called)
        cb(NULL, udata, r->h.ctx != NULL ? EW__STREAM_END : EW__STREAM_ERROR, NULL, 0);
}

static void enc_on_read(duk_context *ctx, void *udata, ew__stream_event_t ev, const void *data, size_t len)
{
    ew__stream_reader_t *r = udata;
    ew__stream_read_fn cb = r->user_cb;
    void *owner = r->user_udata;
    r->user_cb = NULL;
    r->user_udata = NULL;
    if (ev == EW__STREAM_ERROR || ctx == NULL) {
        cb(ctx, owner, ev, data, len);
        return;
    }
    r->enc_len = 0;
    bool ok = ev == EW__STREAM_CHUNK
                  ? ew__encoder_push(r->enc, data, len, true, &r->enc_out, &r->enc_len, &r->enc_cap)
                  : ew__encoder_finish(r->enc, &r->enc_out, &r->enc_len, &r->enc_cap);
    if (!ok) {
        r->ended = true;
        duk_push_error_object(ctx, DUK_ERR_RANGE_ERROR, "out of memory compressing the response body");
        cb(ctx, owner, EW__STREAM_ERROR, NULL, 0);
        duk_pop(ctx);
        return;
    }
    if (ev == EW__STREAM_END) {
        if (r->enc_len == 0) {
            cb(ctx, owner, EW__STREAM_END, NULL, 0);
            return;
        }
        r->enc_end = true;
    }
    cb(ctx, owner, EW__STREAM_CHUNK, r->enc_out, r->enc_len);
}

void ew__stream_reader_uncharged(ew__stream_reader_t *r)
{
    if (r != NULL)
        r->uncharged = true;
}

bool ew__stream_reader_encode(ew__stream_reader_t *r, int coding)
{
    if (r == NULL || r->enc != NULL || r->cb != NULL)
        return false;
    /* A source that still has its bytes in that coding passes them through (nothing queued here yet:
     * those would be decoded bytes). */
    ew__stream_src_t *src = r->direct ? r->src : NULL;
    if (src != NULL && r->queue.len == 0 && src->hooks.raw != NULL && src->hooks.raw(src->udata, src, coding))
        return true;
    r->enc = ew__encoder_create((ew__coding_t) coding);
    return r->enc != NULL;
}

/* Safe-call body of transform_claim: [stream] -> [TransformStream object or null]. */
static duk_ret_t transform_claim_body(duk_context *ctx, void *udata)
{
    ew__stream_reader_t *r = udata;
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_FNS);
    duk_remove(ctx, -2);
    duk_get_prop_index(ctx, -1, 0);
    duk_get_prop_index(ctx, -2, 1);
    duk_get_prop_index(ctx, -3, 2);
    duk_remove(ctx, -4);
    duk_push_uint(ctx, r->h.id);
    call_api(ctx, "claimTransform", 5);
    return 1;
}

/* A reader on the readable side of a TransformStream with a synchronous transform takes the transform's
 * output directly (streams.js claimTransform): reads then skip the readable side's controller. The table
 * entry holds the TransformStream where other readers hold their JS reader; reads, cancel and release go
 * through the same internal functions, which tell the two apart. False (nothing changed) when the stream
 * is not such a readable side or was touched. */
static bool transform_claim(duk_context *ctx, duk_idx_t idx, ew__stream_reader_t *r)
{
    if (!push_record(ctx, idx, "RS"))
        return false;
    duk_get_prop_literal(ctx, -1, "transformStream");
    bool candidate = duk_is_object(ctx, -1);
    duk_pop_2(ctx);
    if (!candidate)
        return false;
    reg_add(ctx, &r->h, HANDLE_READER);
    duk_dup(ctx, idx);
    if (duk_safe_call(ctx, transform_claim_body, r, 1, 1) != DUK_EXEC_SUCCESS) {
        reg_remove(&r->h);
        free(r);
        (void) duk_throw(ctx);
    }
    if (!duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        reg_remove(&r->h);
        return false;
    }
    duk_push_undefined(ctx);
    ew__web_pack(ctx, 2);
    table_put(ctx, r->h.id);
    return true;
}

/* C-to-C (at the end of this file): the reader's side. */
static bool direct_claim(duk_context *ctx, duk_idx_t idx, ew__stream_reader_t *r);
static void direct_read(ew__stream_reader_t *r);
static void direct_close(ew__stream_reader_t *r);

ew__stream_reader_t *ew__stream_reader_open(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    if (!ew__stream_is_readable(ctx, idx))
        (void) duk_type_error(ctx, "The value is not a ReadableStream.");
    if (ew__stream_is_locked(ctx, idx))
        (void) duk_type_error(ctx, "This ReadableStream is currently locked to a reader.");
    ew__stream_reader_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    if (direct_claim(ctx, idx, r) || transform_claim(ctx, idx, r))
        return r;
    duk_dup(ctx, idx);
    call_api(ctx, "acquireReader", 1);
    reg_add(ctx, &r->h, HANDLE_READER);
    duk_push_undefined(ctx);
    ew__web_pack(ctx, 2);
    table_put(ctx, r->h.id);
    return r;
}

static duk_ret_t reader_read_body(duk_context *ctx, void *udata)
{
    ew__stream_reader_t *r = udata;
    table_get(ctx, r->h.id);
    duk_push_undefined(ctx);
    duk_put_prop_index(ctx, -2, 1); /* unpin the previous chunk */
    duk_pop(ctx);
    push_read_call(ctx, r);
    return 0;
}

ew_status_t ew__stream_reader_read(ew__stream_reader_t *r, ew__stream_read_fn cb, void *udata)
{
    if (r == NULL || cb == NULL)
        return EW_ERR_INVALID_ARG;
    if (r->enc != NULL && (r->user_cb != NULL || r->cb != NULL))
        return EW_ERR_STATE;
    if (r->enc_end) { /* the trailer was the last chunk */
        r->enc_end = false;
        enc_report_end(r, cb, udata);
        return EW_OK;
    }
    if (r->ended || r->cb != NULL)
        return EW_ERR_STATE;
    if (r->h.ctx == NULL) {
        r->ended = true;
        cb(NULL, udata, EW__STREAM_ERROR, NULL, 0);
        return EW_OK;
    }
    if (r->enc != NULL) { /* the chunk comes to enc_on_read first */
        r->user_cb = cb;
        r->user_udata = udata;
        cb = enc_on_read;
        udata = r;
    }
    r->cb = cb;
    r->udata = udata;
    if (r->direct) {
        direct_read(r);
        return EW_OK;
    }
    registry_t *reg = r->h.reg;
    uint32_t id = r->h.id;
    if (!ew__isolate_run(run_ctx(&r->h), r->h.req_id, reader_read_body, r)) {
        handle_t *h = reg_find_in(reg, id);
        if (h != NULL && r->cb != NULL) { /* the read itself failed (a limit, allocation) */
            r->ended = true;
            ew__stream_read_fn pending = take_cb(r);
            pending(NULL, udata, EW__STREAM_ERROR, NULL, 0);
        }
    }
    return EW_OK;
}

static duk_ret_t reader_close_body(duk_context *ctx, void *udata)
{
    ew__stream_reader_t *r = udata;
    table_get(ctx, r->h.id);
    duk_get_prop_index(ctx, -1, 0);
    if (r->ended) {
        call_api(ctx, "release", 1);
    } else {
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "The reader was closed.");
        call_api(ctx, "cancel", 2);
    }
    table_del(ctx, r->h.id);
    return 0;
}

void ew__stream_reader_close(ew__stream_reader_t *r)
{
    if (r == NULL)
        return;
    r->cb = NULL;
    ew__encoder_destroy(r->enc);
    r->enc = NULL;
    free(r->enc_out);
    r->enc_out = NULL;
    if (r->direct) {
        direct_close(r);
        return;
    }
    if (r->h.ctx != NULL) {
        (void) ew__isolate_run(run_ctx(&r->h), r->h.req_id, reader_close_body, r);
        reg_remove(&r->h);
    }
    free(r);
}

/* ---------------------------------------------------------------------------------------------------------
 * C-to-C: a reader in C on a stream fed from C
 *
 * `return fetch(url)` (or an R2 body returned as is) hands the host a stream whose producer and consumer
 * are both C. Through streams.js every chunk would run script twice (the byte controller's enqueue, then a
 * read request), charged to the request as CPU time. So when a C reader opens on such a stream while it is
 * untouched, it claims it (streams.js claimSource: locked and disturbed as if read, the bytes queued so far
 * handed over) and from then on:
 *
 *   source: enqueue(p, n) ──append──> reader.queue ──(a read waits)──> cb(CHUNK, whole queue)
 *   reader: read ──queue empty──> hooks.pull ─> the source enqueues now or later
 *
 * No script runs per chunk, and a read takes everything the source gave since the last one. The meaning
 * of pull (demand: a waiting read, or fewer than hwm bytes queued), close, error (queued bytes dropped)
 * and cancel (the reader closed first) is the same as through the JS stream. Callbacks run inside an
 * isolate entry, as they do from the JS path, but charged to no request: the bytes of a body the Worker
 * merely passed on cost it no CPU time (workerd pumps such a body outside the isolate as well).
 */

/* Bytes the source may queue ahead of the reader: none once the owner wants to splice (the bytes would
 * have to go through the reader before the source could splice the rest). */
static size_t direct_hwm(const ew__stream_reader_t *r)
{
    return r->splice_wanted || r->src == NULL ? 0 : r->src->hwm;
}

/* True if the handle `id` of reg is still r (a callback or a hook may have freed it). */
static bool handle_alive(registry_t *reg, uint32_t id, const void *h)
{
    return reg_find_in(reg, id) == h;
}

/* Calls the source's pull hook unless it is already running (a source that enqueues from inside pull
 * would otherwise be asked again from inside its own enqueue). */
static void direct_pull(ew__stream_src_t *src)
{
    if (src->in_pull || src->hooks.pull == NULL)
        return;
    registry_t *reg = src->h.reg;
    uint32_t id = src->h.id;
    src->in_pull = true;
    src->hooks.pull(src->udata, src);
    if (handle_alive(reg, id, src))
        src->in_pull = false;
}

static duk_ret_t direct_deliver_body(duk_context *ctx, void *udata)
{
    struct direct_ev *d = udata;
    const void *data = d->ev == EW__STREAM_CHUNK ? d->r->cur.data : NULL;
    size_t len = d->ev == EW__STREAM_CHUNK ? d->r->cur.len : 0;
    if (d->ev == EW__STREAM_ERROR)
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "%s", d->r->error ? d->r->error : "out of memory");
    d->called = true;
    call_cb(ctx, d->cb, d->udata, d->ev, data, len);
    return 0;
}

/* Answers the pending read if there is something to answer with: the queued bytes (moved to cur, which
 * the read's data points into), else the end or the error. */
static void direct_deliver(ew__stream_reader_t *r)
{
    struct direct_ev d = {r, r->cb, r->udata, EW__STREAM_CHUNK, false};
    if (r->src_state == DIRECT_ERRORED) {
        d.ev = EW__STREAM_ERROR;
    } else if (r->queue.len > 0) {
        ew__buf_t t = r->cur;
        r->cur = r->queue;
        r->queue = t;
        r->queue.len = 0;
    } else if (r->src_state == DIRECT_CLOSED) {
        d.ev = EW__STREAM_END;
    } else {
        return;
    }
    r->cb = NULL;
    if (d.ev != EW__STREAM_CHUNK)
        r->ended = true;
    if (r->h.ctx == NULL) {
        r->ended = true;
        d.cb(NULL, d.udata, EW__STREAM_ERROR, NULL, 0);
        return;
    }
    /* A host's pump is charged to no request: moving bytes the Worker only passed on is not the Worker's
     * CPU time (in workerd such a pump runs outside the isolate too). Other readers run as the request that
     * opened them: what their callbacks settle continues as that request. */
    (void) ew__isolate_run(run_ctx(&r->h), r->uncharged ? 0 : r->h.req_id, direct_deliver_body, &d);
    if (!d.called) { /* the entry itself failed (a limit): the read still gets its one answer */
        r->ended = true;
        d.cb(NULL, d.udata, EW__STREAM_ERROR, NULL, 0);
    }
}

static void direct_read(ew__stream_reader_t *r)
{
    registry_t *reg = r->h.reg;
    uint32_t id = r->h.id;
    r->cur.len = 0; /* the previous chunk is released */
    direct_deliver(r);
    if (!handle_alive(reg, id, r) || r->ended || r->src == NULL)
        return;
    if (r->cb != NULL || r->queue.len < direct_hwm(r))
        direct_pull(r->src);
}

static ew_status_t direct_after_enqueue(ew__stream_src_t *src);

static ew_status_t direct_enqueue(ew__stream_src_t *src, const void *data, size_t n)
{
    ew__stream_reader_t *r = src->direct;
    if (r->src_state == DIRECT_ERRORED)
        return EW_ERR_STATE;
    if (!ew__buf_append(&r->queue, data, n))
        return EW_ERR_NOMEM;
    return direct_after_enqueue(src);
}

ew_status_t ew__stream_src_enqueue_buf(ew__stream_src_t *src, ew__buf_t *buf)
{
    if (src == NULL || buf == NULL)
        return EW_ERR_INVALID_ARG;
    ew__stream_reader_t *r = src->direct;
    if (r == NULL || r->queue.len > 0 || r->src_state != DIRECT_OPEN || buf->len == 0) {
        ew_status_t st = ew__stream_src_enqueue(src, buf->data, buf->len);
        buf->len = 0;
        return st;
    }
    ew__buf_t t = r->queue; /* the bytes change hands: nothing is copied */
    r->queue = *buf;
    *buf = t;
    buf->len = 0;
    return direct_after_enqueue(src);
}

/* After bytes were added to a direct reader's queue: a waiting read gets them, and demand pulls again. */
static ew_status_t direct_after_enqueue(ew__stream_src_t *src)
{
    ew__stream_reader_t *r = src->direct;
    registry_t *reg = src->h.reg;
    uint32_t id = src->h.id;
    if (r->cb != NULL)
        direct_deliver(r);
    if (!handle_alive(reg, id, src))
        return EW_ERR_STATE; /* the reader closed meanwhile and cancelled the source */
    if (src->direct != NULL && src->direct->queue.len < direct_hwm(src->direct))
        direct_pull(src);
    return EW_OK; /* the bytes were taken, whatever the pull did afterwards */
}

static void direct_src_end(ew__stream_src_t *src, const char *message)
{
    ew__stream_reader_t *r = src->direct;
    src->direct = NULL;
    r->src = NULL;
    if (message == NULL) {
        r->src_state = DIRECT_CLOSED;
    } else {
        r->src_state = DIRECT_ERRORED;
        r->error = strdup(message); /* NULL: reported as out of memory */
        r->queue.len = 0;
    }
    src_free(src);
    splice_answer(r, 0, message == NULL ? EW__SPLICE_END : EW__SPLICE_FAILED);
    if (r->cb != NULL)
        direct_deliver(r);
}

static duk_ret_t direct_cancel_body(duk_context *ctx, void *udata)
{
    ew__stream_src_t *src = udata;
    duk_context *prev = enter_native(ctx);
    src->hooks.cancel(src->udata, src);
    leave_native(ctx, prev);
    return 0;
}

static void direct_close(ew__stream_reader_t *r)
{
    ew__stream_src_t *src = r->src;
    if (src != NULL && r->splice_cb != NULL) { /* fd must not be written once the reader is gone */
        r->splice_cb = NULL;
        (void) src->hooks.splice(src->udata, src, -1, 0);
    }
    if (src != NULL) { /* closed before the end: the source is cancelled, as the JS stream would be */
        r->src = NULL;
        src->direct = NULL;
        duk_context *ctx = run_ctx(&src->h);
        uint32_t req_id = src->h.req_id;
        reg_remove(&src->h);
        ew__isolate_io_end(src->h.ctx);
        if (src->hooks.cancel != NULL)
            (void) ew__isolate_run(ctx, req_id, direct_cancel_body, src);
        free(src);
    }
    reg_remove(&r->h);
    ew__buf_dispose(&r->queue);
    ew__buf_dispose(&r->cur);
    free(r->error);
    free(r);
}

ew_status_t ew__stream_reader_splice(ew__stream_reader_t *r, int fd, size_t max, ew__stream_splice_fn cb,
                                     void *udata)
{
    if (r == NULL || cb == NULL || fd < 0 || max == 0)
        return EW_ERR_INVALID_ARG;
    ew__stream_src_t *src = r->src;
    if (r->direct && r->splice_wanted && !r->ended && r->cb == NULL && r->splice_cb == NULL &&
        r->queue.len == 0 && r->src_state != DIRECT_OPEN) {
        /* The source ended between steps (an abort while the owner waited for fd): that is the answer. */
        r->ended = true;
        cb(udata, 0, r->src_state == DIRECT_CLOSED ? EW__SPLICE_END : EW__SPLICE_FAILED);
        return EW_OK;
    }
    if (!r->direct || r->ended || r->splice_never || r->cb != NULL || r->splice_cb != NULL || r->enc != NULL ||
        src == NULL || r->src_state != DIRECT_OPEN || src->hooks.splice == NULL)
        return EW_ERR_STATE;
    /* Bytes queued go through a read first; meanwhile nothing more is read ahead (splice_wanted), so that
     * the queue empties. A source that can never splice keeps its read-ahead. */
    int started = r->queue.len > 0 ? (r->splice_wanted ? 0 : src->hooks.splice(src->udata, src, fd, 0)) : -2;
    if (started == -2) {
        r->splice_cb = cb;
        r->splice_udata = udata;
        started = src->hooks.splice(src->udata, src, fd, max);
        if (started != 1)
            r->splice_cb = NULL;
    }
    if (started < 0) {
        r->splice_never = true;
        return EW_ERR_STATE;
    }
    r->splice_wanted = true;
    if (started == 0)
        return EW_ERR_STATE;
    r->cur.len = 0; /* the chunk of the last read is released, as a read would */
    return EW_OK;
}

bool ew__stream_reader_splicable(ew__stream_reader_t *r)
{
    ew__stream_src_t *src = r->src;
    if (!r->direct || r->ended || r->splice_never || r->enc != NULL || src == NULL ||
        r->src_state != DIRECT_OPEN || src->hooks.splice == NULL)
        return false;
    if (src->hooks.splice(src->udata, src, 0, 0) < 0) {
        r->splice_never = true;
        return false;
    }
    return true;
}

void ew__stream_src_spliced(ew__stream_src_t *src, size_t moved, ew__stream_splice_t result)
{
    if (src != NULL && src->direct != NULL)
        splice_answer(src->direct, moved, result);
}

/* Claims the stream at idx for r when it is an untouched stream fed by a live C source with no reader yet;
 * false (nothing changed) otherwise. May throw (allocation). */
static bool direct_claim(duk_context *ctx, duk_idx_t idx, ew__stream_reader_t *r)
{
    duk_get_prop_literal(ctx, idx, K_SRC);
    handle_t *h = duk_is_number(ctx, -1) ? reg_find(ctx, duk_get_uint(ctx, -1)) : NULL;
    duk_pop(ctx);
    if (h == NULL || h->kind != HANDLE_SRC || ((ew__stream_src_t *) h)->direct != NULL)
        return false;
    ew__stream_src_t *src = (ew__stream_src_t *) h;
    duk_dup(ctx, idx);
    call_api(ctx, "claimSource", 1);
    if (!duk_is_array(ctx, -1)) {
        duk_pop(ctx);
        return false;
    }
    reg_add(ctx, &r->h, HANDLE_READER);
    r->direct = true;
    r->src = src;
    src->direct = r;
    ew__buf_init(&r->queue);
    ew__buf_init(&r->cur);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, -1);
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, -1, i);
        duk_size_t len;
        const void *p = duk_get_buffer_data(ctx, -1, &len);
        bool ok = len == 0 || ew__buf_append(&r->queue, p, len);
        duk_pop(ctx);
        if (!ok) { /* reported to the first read, like a failing source */
            r->src_state = DIRECT_ERRORED;
            r->queue.len = 0;
            break;
        }
    }
    duk_pop(ctx);
    table_del(ctx, src->h.id); /* the byte controller is no longer fed */
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading a stream fed from C whole, in C: `await request.text()` of a body the host streams in (req_body.c)
 * or of an untouched fetch() body takes the source's bytes through a C-to-C reader into one buffer, with no
 * script per chunk, and settles the promise once at the end.
 */

typedef struct read_all {
    ew__stream_reader_t *r;    /* owned until the end */
    ew__buf_t buf;             /* the bytes so far */
    size_t limit;              /* the isolate's memory limit: the bytes must fit in the heap at the end */
    bool pumping, again;       /* trampoline: chunks that are there at once do not nest reads */
    bool done;
} read_all_t;

static void read_all_pump(read_all_t *a);

struct read_all_end {
    read_all_t *a;
    bool ok;
    const char *message;       /* a failure of ours (NULL: the stream's error is on the stack) */
};

/* Safe-call body: settles the promise kept in the table under the reader's id. [error or undefined] -> []. */
static duk_ret_t read_all_settle(duk_context *ctx, void *udata)
{
    struct read_all_end *e = udata;
    read_all_t *a = e->a;
    duk_idx_t arg = duk_get_top_index(ctx); /* a safe call sees the caller's stack: the argument is on top */
    table_get(ctx, a->r->h.id);
    duk_idx_t p = duk_get_top_index(ctx);
    if (e->ok) {
        void *bytes = duk_push_fixed_buffer(ctx, a->buf.len);
        if (a->buf.len > 0)
            memcpy(bytes, a->buf.data, a->buf.len);
        duk_push_buffer_object(ctx, -1, 0, a->buf.len, DUK_BUFOBJ_UINT8ARRAY);
        duk_remove(ctx, -2);
    } else if (e->message != NULL) {
        duk_push_error_object(ctx, DUK_ERR_RANGE_ERROR, "%s", e->message);
    } else {
        duk_dup(ctx, arg); /* the stream's error, passed in */
    }
    ew__promise_settle(ctx, p, !e->ok);
    table_del(ctx, a->r->h.id);
    return 0;
}

static void read_all_finish(duk_context *ctx, read_all_t *a, bool ok, const char *message)
{
    a->done = true;
    struct read_all_end e = {a, ok, message};
    if (ctx != NULL) {
        if (ok || message != NULL)
            duk_push_undefined(ctx);
        else
            duk_dup(ctx, -1); /* ERROR: the stream's error is on top during the callback */
        /* A failure here (a limit) ends the request, and the promise goes with it. */
        (void) duk_safe_call(ctx, read_all_settle, &e, 1, 1);
        duk_pop(ctx);
    }
    ew__buf_dispose(&a->buf);
    if (!a->pumping) {
        ew__stream_reader_close(a->r);
        free(a);
    }
}

static void read_all_on(duk_context *ctx, void *udata, ew__stream_event_t ev, const void *data, size_t len)
{
    read_all_t *a = udata;
    if (ev == EW__STREAM_CHUNK) {
        if (a->buf.len + len > a->limit) {
            read_all_finish(ctx, a, false, "Memory limit would be exceeded reading the body.");
            return;
        }
        if (!ew__buf_append(&a->buf, data, len)) {
            read_all_finish(ctx, a, false, "out of memory reading the body");
            return;
        }
        read_all_pump(a);
    } else {
        read_all_finish(ctx, a, ev == EW__STREAM_END, NULL);
    }
}

static void read_all_pump(read_all_t *a)
{
    if (a->pumping) {
        a->again = true;
        return;
    }
    a->pumping = true;
    do {
        a->again = false;
        (void) ew__stream_reader_read(a->r, read_all_on, a);
    } while (a->again && !a->done);
    a->pumping = false;
    if (a->done) {
        ew__stream_reader_close(a->r);
        free(a);
    }
}

/* Starts reading the stream at idx whole in C and pushes the promise, when it is an untouched stream fed
 * from C; false (nothing pushed) otherwise. */
static bool read_all_direct(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    duk_get_prop_literal(ctx, idx, K_SRC);
    bool candidate = duk_is_number(ctx, -1);
    duk_pop(ctx);
    if (!candidate)
        return false;
    read_all_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return false;
    a->r = calloc(1, sizeof(*a->r));
    if (a->r == NULL || !direct_claim(ctx, idx, a->r)) {
        free(a->r);
        free(a);
        return false;
    }
    ew__isolate_t *iso = ew__isolate_of(ctx);
    a->limit = iso != NULL && iso->heap_limit != SIZE_MAX ? iso->heap_limit : (size_t) 1 << 31;
    ew__buf_init(&a->buf);
    ew__promise_push_new(ctx);
    duk_dup_top(ctx);
    table_put(ctx, a->r->h.id);
    read_all_pump(a);
    return true;
}

/* The heap goes away while a read-whole waits: its promise goes with the heap; free the C side. */
static void read_all_dispose(ew__stream_reader_t *r)
{
    if (r->cb != read_all_on)
        return;
    read_all_t *a = r->udata;
    r->cb = NULL;
    ew__buf_dispose(&a->buf);
    free(a);
    ew__stream_reader_close(r);
}
