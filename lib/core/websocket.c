/*
 * websocket.c — WebSockets between a Worker and its host: loads the JS surface (lib/js/websocket.js:
 * WebSocketPair, WebSocket, CloseEvent) on first use, and implements the public ew_websocket_*
 * API (include/edgeworker.h, "WebSockets") that connects the end a Worker returned in a 101 response to
 * the host's connection.
 *
 *   Worker: server.send(x) ──websocket.js transmit──> native linkSend ──queue──> flush_ev ──> handler.message
 *   host:   ew_websocket_send ──enter isolate──> websocket.js fromHost ──microtask──> 'message' on server
 *
 * One ew_websocket_t per coupled end, with two owners: the host (the response holds it until
 * ew_websocket_attach(), then the host until ew_websocket_destroy()) and the isolate (its list, until the
 * link has ended or the isolate goes away). It is freed when both have let go. While the link is open it
 * holds the request that returned the 101 (ws_holds), so the request's timers keep running, as in workerd.
 * Messages to the host leave from the event loop (flush_ev), never from inside JS.
 */
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "dispatch.h"
#include "js_bytecode.h"
#include "web/internal.h"
#include "web/lazy.h"

#define MODULE_KEY DUK_HIDDEN_SYMBOL("wsModule")  /* stash: what websocket.js returned */
#define LINKS_KEY DUK_HIDDEN_SYMBOL("wsLinks")    /* stash: link id -> the released WebSocket */

enum { MSG_TEXT, MSG_BINARY, MSG_CLOSE };

typedef struct ws_msg {
    struct ws_msg *next;
    int kind;            /* MSG_* */
    int code;            /* MSG_CLOSE */
    size_t len;
    uint8_t data[];      /* payload, or the close reason */
} ws_msg_t;

struct ew_websocket {
    ew__isolate_t *iso;          /* NULL once the isolate side let go */
    uint32_t id;                 /* key in the stash's link table */
    uint32_t req_id;             /* the request held open (ws_holds) while the link lives */
    bool held;                   /* the hold on req_id is taken */
    bool io;                     /* outbound: counted in iso->io_pending while linked (events may come) */
    ew_websocket_handler_t h;
    bool attached;               /* the host owns the handle (ew_websocket_attach) */
    bool host_gone;              /* ew_websocket_destroy (or the response's destroy) ran */
    bool worker_closed;          /* the Worker's close is queued or delivered */
    bool client_closed;          /* the host reported the client's close */
    ws_msg_t *out_head;          /* to the host, in order (owned) */
    ws_msg_t **out_tail;
    struct event *flush_ev;      /* delivers out_head from the loop (owned) */
    struct ew_websocket *next;   /* in iso->websockets */
};

/* ---------------------------------------------------------------------------------------------------------
 * The JS module, loaded on first use
 */

static duk_ret_t native_link_send(duk_context *ctx);
static duk_ret_t native_link_close(duk_context *ctx);
static duk_ret_t native_connect(duk_context *ctx);

static duk_ret_t native_report_error(duk_context *ctx)
{
    (void) ew__log_uncaught(ctx, 0, "Uncaught ");
    return 0;
}

static const ew__method_t natives[] = {
    {"linkSend", native_link_send, 3, 3},
    {"linkClose", native_link_close, 3, 3},
    {"reportError", native_report_error, 1, 1},
    {"connect", native_connect, 7, 7},
    {NULL, NULL, 0, 0},
};

static const char *const event_exports[] = {"Event", "EventTarget", "_initTarget", "_initEvent", "_dispatch",
                                             "_defineHandler", NULL};
/* MessageEvent is message.js's (lib/web/lazy.c), shared with MessagePort. */
static const char *const globals[] = {"WebSocketPair", "WebSocket", "CloseEvent", NULL};

/* Pushes the module object, loading websocket.js (and events.js, which it builds on) and defining the
 * globals the first time. */
static void push_module(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, MODULE_KEY);
    if (!duk_is_undefined(ctx, -1)) {
        duk_remove(ctx, -2);
        return;
    }
    duk_pop(ctx);
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) ew__js_websocket, ew__js_websocket_len);
    duk_load_function(ctx);
    duk_push_object(ctx);
    ew__def_methods(ctx, -1, natives);
    duk_push_literal(ctx, EW__WS_STATE_KEY);
    duk_put_prop_literal(ctx, -2, "KEY");
    /* Event and EventTarget from lib/js/events.js (lib/web/lazy.c), never from the global object. */
    duk_push_object(ctx);
    for (const char *const *e = event_exports; *e != NULL; e++) {
        ew__lazy_push(ctx, EW__LAZY_EVENTS, *e);
        duk_put_prop_string(ctx, -2, *e);
    }
    /* MessageEvent is lib/js/message.js's (its global); _newMessageEvent makes trusted ones. */
    ew__lazy_push(ctx, EW__LAZY_MESSAGE, "MessageEvent");
    duk_put_prop_literal(ctx, -2, "MessageEvent");
    ew__lazy_push(ctx, EW__LAZY_MESSAGE, "_newMessageEvent");
    duk_put_prop_literal(ctx, -2, "_newMessageEvent");
    duk_put_prop_literal(ctx, -2, "events");
    duk_push_global_object(ctx);
    duk_call(ctx, 2);
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, -3, MODULE_KEY);
    duk_push_object(ctx);
    duk_put_prop_literal(ctx, -3, LINKS_KEY);
    duk_remove(ctx, -2);
    /* The globals become plain data properties, like other constructors. */
    duk_push_global_object(ctx);
    for (const char *const *g = globals; *g != NULL; g++) {
        duk_push_string(ctx, *g);
        duk_get_prop_string(ctx, -3, *g);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                                  DUK_DEFPROP_SET_CONFIGURABLE);
    }
    duk_pop(ctx);
}

/* Getter standing in for global `globals[magic]` until first use. */
static duk_ret_t lazy_global(duk_context *ctx)
{
    push_module(ctx);
    duk_get_prop_string(ctx, -1, globals[duk_get_current_magic(ctx)]);
    return 1;
}

/* A script assigning the global before first use replaces it (the getter would otherwise swallow it). */
static duk_ret_t lazy_global_set(duk_context *ctx)
{
    duk_push_global_object(ctx);
    duk_push_string(ctx, globals[duk_get_current_magic(ctx)]);
    duk_dup(ctx, 0);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                              DUK_DEFPROP_SET_CONFIGURABLE);
    return 0;
}

void ew__ws_push_module(duk_context *ctx)
{
    push_module(ctx);
}

void ew__websocket_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    for (int i = 0; globals[i] != NULL; i++) {
        duk_push_string(ctx, globals[i]);
        duk_push_c_function(ctx, lazy_global, 0);
        duk_set_magic(ctx, -1, i);
        duk_push_c_function(ctx, lazy_global_set, 1);
        duk_set_magic(ctx, -1, i);
        duk_def_prop(ctx, global_idx, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER |
                                          DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The link's life
 */

static void on_flush(evutil_socket_t fd, short what, void *arg);

static void link_free_msgs(ew_websocket_t *ws)
{
    while (ws->out_head != NULL) {
        ws_msg_t *m = ws->out_head;
        ws->out_head = m->next;
        free(m);
    }
    ws->out_tail = &ws->out_head;
}

/* Frees the handle once neither the host nor the isolate holds it. */
static void link_maybe_free(ew_websocket_t *ws)
{
    if (ws->iso != NULL || !ws->host_gone)
        return;
    link_free_msgs(ws);
    event_free(ws->flush_ev);
    free(ws);
}

/* Safe-call body: removes the link's entry from the stash table. */
static duk_ret_t unmap_body(duk_context *ctx, void *udata)
{
    ew_websocket_t *ws = udata;
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, LINKS_KEY);
    if (duk_is_object(ctx, -1))
        duk_del_prop_index(ctx, -1, ws->id);
    return 0;
}

/* The isolate side lets go: out of the isolate's list and the stash table, the request's hold dropped. */
static void link_detach(ew_websocket_t *ws)
{
    ew__isolate_t *iso = ws->iso;
    if (iso == NULL)
        return;
    for (ew_websocket_t **pp = &iso->websockets; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == ws) {
            *pp = ws->next;
            break;
        }
    }
    ws->iso = NULL;
    if (ws->io) {
        ws->io = false;
        iso->io_pending--;
    }
    if (iso->ctx != NULL && !iso->dead) {
        if (iso->depth > 0) {
            (void) duk_safe_call(iso->ctx, unmap_body, ws, 0, 0);
        } else {
            ew__isolate_enter(iso, NULL);
            (void) ew__isolate_pcall(iso, unmap_body, ws, 0, 0);
            ew__isolate_leave(iso);
        }
    }
    if (ws->held) {
        ws->held = false;
        ew__req_release_ws(iso, ws->req_id);
    }
}

/* The link has ended when both sides closed, or the host left: the isolate lets go. Runs from the loop
 * (on_flush) or from a host call, never from inside JS: releasing the hold may end the request. */
static void link_maybe_end(ew_websocket_t *ws)
{
    if (ws->iso != NULL && ((ws->worker_closed && ws->client_closed && ws->out_head == NULL) || ws->host_gone))
        link_detach(ws);
    link_maybe_free(ws);
}

static void queue_out(ew_websocket_t *ws, ws_msg_t *m)
{
    m->next = NULL;
    *ws->out_tail = m;
    ws->out_tail = &m->next;
    event_active(ws->flush_ev, EV_TIMEOUT, 1);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew_websocket_t *ws = arg;
    while (ws->attached && !ws->host_gone && ws->out_head != NULL) {
        ws_msg_t *m = ws->out_head;
        ws->out_head = m->next;
        if (ws->out_head == NULL)
            ws->out_tail = &ws->out_head;
        if (m->kind == MSG_CLOSE) {
            if (ws->h.close != NULL)
                ws->h.close(ws->h.udata, m->code, (const char *) m->data, m->len);
        } else if (ws->h.message != NULL) {
            ws->h.message(ws->h.udata, m->kind == MSG_TEXT, m->data, m->len);
        }
        free(m);
    }
    link_maybe_end(ws);
}

/* Finds the live link `id` of the isolate running ctx. */
static ew_websocket_t *find_link(duk_context *ctx, uint32_t id)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    for (ew_websocket_t *ws = iso ? iso->websockets : NULL; ws != NULL; ws = ws->next)
        if (ws->id == id)
            return ws;
    return NULL;
}

/* linkSend(id, data, isText): data is a string (text) or an ArrayBuffer the module copied. */
static duk_ret_t native_link_send(duk_context *ctx)
{
    ew_websocket_t *ws = find_link(ctx, duk_get_uint(ctx, 0));
    if (ws == NULL || ws->host_gone || ws->worker_closed)
        return 0;
    bool text = duk_to_boolean(ctx, 2);
    size_t len;
    const void *p = text ? (const void *) ew__to_utf8(ctx, 1, &len) : duk_get_buffer_data(ctx, 1, &len);
    ws_msg_t *m = malloc(sizeof(*m) + len + 1);
    if (m == NULL)
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory queueing a WebSocket message");
    m->kind = text ? MSG_TEXT : MSG_BINARY;
    m->code = 0;
    m->len = len;
    if (len > 0)
        memcpy(m->data, p, len);
    m->data[len] = 0;
    queue_out(ws, m);
    return 0;
}

/* linkClose(id, code, reason): the Worker closed its end (code 1005 = none). */
static duk_ret_t native_link_close(duk_context *ctx)
{
    ew_websocket_t *ws = find_link(ctx, duk_get_uint(ctx, 0));
    if (ws == NULL || ws->host_gone || ws->worker_closed)
        return 0;
    size_t len;
    const char *reason = ew__to_utf8(ctx, 2, &len);
    ws_msg_t *m = malloc(sizeof(*m) + len + 1);
    if (m == NULL)
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory queueing a WebSocket close");
    m->kind = MSG_CLOSE;
    m->code = duk_get_int(ctx, 1);
    m->len = len;
    memcpy(m->data, reason, len + 1);
    ws->worker_closed = true;
    queue_out(ws, m); /* the link may end after delivery (on_flush) */
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Coupling (dispatch.c, when a Response with a WebSocket is returned)
 */

/* Safe-call body: [ws] -> []: stash.links[id] = ws; module.couple(ws, id). */
static duk_ret_t couple_body(duk_context *ctx, void *udata)
{
    ew_websocket_t *ws = udata;
    duk_idx_t sock = duk_get_top_index(ctx);
    push_module(ctx);
    duk_push_literal(ctx, "couple");
    duk_dup(ctx, sock);
    duk_push_uint(ctx, ws->id);
    duk_call_prop(ctx, -4, 2);
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, LINKS_KEY);
    duk_dup(ctx, sock);
    duk_put_prop_index(ctx, -2, ws->id);
    return 0;
}

ew_websocket_t *ew__ws_couple(duk_context *ctx, ew__req_t *req, duk_idx_t ws_idx)
{
    ew__isolate_t *iso = req->iso;
    ew_websocket_t *ws = calloc(1, sizeof(*ws));
    struct event *ev = ws ? event_new(iso->rt->base, -1, 0, on_flush, ws) : NULL;
    if (ev == NULL) {
        free(ws);
        duk_push_error_object(ctx, DUK_ERR_RANGE_ERROR, "out of memory coupling a WebSocket");
        return NULL;
    }
    ws->flush_ev = ev;
    ws->out_tail = &ws->out_head;
    ws->iso = iso;
    ws->id = ++iso->next_ws_id;
    ws->next = iso->websockets;
    iso->websockets = ws;
    duk_dup(ctx, ws_idx);
    if (duk_safe_call(ctx, couple_body, ws, 1, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        ws->host_gone = true;
        link_detach(ws);
        link_maybe_free(ws);
        return NULL;
    }
    duk_pop(ctx);
    ws->req_id = req->id;
    ws->held = true;
    req->ws_holds++;
    return ws;
}

void ew__ws_abandon(ew_websocket_t *ws)
{
    ew__ws_response_gone(ws);
}

void ew__ws_isolate_gone(ew__isolate_t *iso)
{
    while (iso->websockets != NULL) {
        ew_websocket_t *ws = iso->websockets;
        iso->websockets = ws->next;
        ws->iso = NULL;
        ws->held = false;
        if (!ws->worker_closed && !ws->host_gone) {
            static const char why[] = "The Worker was unloaded.";
            ws_msg_t *m = malloc(sizeof(*m) + sizeof(why));
            if (m != NULL) {
                m->kind = MSG_CLOSE;
                m->code = 1001;
                m->len = sizeof(why) - 1;
                memcpy(m->data, why, sizeof(why));
                ws->worker_closed = true;
                queue_out(ws, m);
            }
        }
        link_maybe_free(ws);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The host's side
 */

typedef struct host_event {
    ew_websocket_t *ws;
    const char *type;    /* "message" / "close" */
    int is_text;
    const void *data;
    size_t len;
    int code;
    bool clean;
    const char *reason;  /* "open": the protocol the server chose */
} host_event_t;

/* Safe-call body: module.fromHost(links[id], type, data, code, reason, wasClean). */
static duk_ret_t host_event_body(duk_context *ctx, void *udata)
{
    host_event_t *e = udata;
    push_module(ctx);
    duk_push_literal(ctx, "fromHost");
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, LINKS_KEY);
    duk_get_prop_index(ctx, -1, e->ws->id);
    duk_remove(ctx, -2);
    duk_remove(ctx, -2);
    if (!duk_is_object(ctx, -1))
        return 0;
    duk_push_string(ctx, e->type);
    bool message = e->type[0] == 'm', open = e->type[0] == 'o';
    if (message && e->is_text) {
        ew__push_utf8(ctx, e->data, e->len);
    } else if (message) {
        void *buf = duk_push_fixed_buffer(ctx, e->len);
        if (e->len > 0)
            memcpy(buf, e->data, e->len);
        duk_push_buffer_object(ctx, -1, 0, e->len, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
    } else {
        duk_push_undefined(ctx);
    }
    duk_push_int(ctx, e->code);
    if (message)
        duk_push_undefined(ctx);
    else
        ew__push_utf8(ctx, open ? e->reason : e->data, open ? strlen(e->reason) : e->len);
    duk_push_boolean(ctx, e->clean);
    duk_call_prop(ctx, -8, 6);
    return 0;
}

/* A limit condemned the isolate (its state may be broken): its WebSockets end now, toward the host with
 * 1011 and without further events into the script, and their requests let go so that it can be reaped.
 * Called at the top level (not inside JS). */
static void close_condemned(ew__isolate_t *iso)
{
    static const char why[] = "Worker exceeded resource limits";
    ew_websocket_t *next;
    for (ew_websocket_t *ws = iso->websockets; ws != NULL; ws = next) {
        next = ws->next;
        if (!ws->worker_closed && !ws->host_gone) {
            ws_msg_t *m = malloc(sizeof(*m) + sizeof(why));
            if (m != NULL) {
                m->kind = MSG_CLOSE;
                m->code = 1011;
                m->len = sizeof(why) - 1;
                memcpy(m->data, why, sizeof(why));
                queue_out(ws, m);
            }
        }
        ws->worker_closed = true;
        ws->client_closed = true;
        link_detach(ws); /* the close is still delivered: the handle lives on with the host */
        link_maybe_free(ws);
    }
}

/* Enters the isolate charged to the link's request, with a fresh CPU budget (each message from the
 * client is a new event for the CPU limit, as on Cloudflare), and hands the event to the module. */
static void host_event(ew_websocket_t *ws, host_event_t *e)
{
    ew__isolate_t *iso = ws->iso;
    ew__req_t *r = ew__isolate_find_req(iso, ws->req_id);
    if (r != NULL)
        r->cpu_used_ns = 0;
    ew__isolate_enter(iso, r);
    int rc = ew__isolate_pcall(iso, host_event_body, e, 0, 1);
    if (rc == DUK_EXEC_ERROR && iso->abort_reason == EW_OK) {
        (void) ew__log_uncaught(iso->ctx, -1, "Uncaught ");
        duk_pop(iso->ctx);
    }
    if (rc == DUK_EXEC_SUCCESS || rc == DUK_EXEC_ERROR)
        duk_pop(iso->ctx);
    ew__isolate_settle(iso);
    if (iso->condemned || iso->dead)
        close_condemned(iso);
}

EW_API ew_status_t ew_websocket_attach(ew_websocket_t *ws, const ew_websocket_handler_t *h)
{
    if (ws == NULL || h == NULL)
        return EW_ERR_INVALID_ARG;
    if (ws->attached || ws->host_gone)
        return EW_ERR_STATE;
    ws->h = *h;
    ws->attached = true;
    if (ws->out_head != NULL)
        event_active(ws->flush_ev, EV_TIMEOUT, 1);
    return EW_OK;
}

EW_API ew_status_t ew_websocket_send(ew_websocket_t *ws, int is_text, const void *data, size_t len)
{
    if (ws == NULL || (data == NULL && len > 0))
        return EW_ERR_INVALID_ARG;
    if (ws->host_gone || ws->client_closed || ws->iso == NULL || ws->iso->dead || ws->iso->depth > 0)
        return EW_ERR_STATE;
    if (is_text && !ew__utf8_valid(data, len))
        return EW_ERR_INVALID_ARG;
    host_event_t e = {ws, "message", is_text, data, len, 0, true, NULL};
    host_event(ws, &e);
    return EW_OK;
}

static bool close_code_ok(int code)
{
    return code == 1005 || code == 1006 || (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* Reports the client's close to the Worker once; then the link may end. */
static void client_close(ew_websocket_t *ws, int code, const char *reason, size_t reason_len)
{
    if (ws->client_closed)
        return;
    ws->client_closed = true;
    if (ws->iso != NULL && !ws->iso->dead) {
        host_event_t e = {ws, "close", 0, reason, reason_len, code, code != 1006, NULL};
        host_event(ws, &e);
    }
}

EW_API ew_status_t ew_websocket_close(ew_websocket_t *ws, int code, const char *reason, size_t reason_len)
{
    if (ws == NULL || !close_code_ok(code) || reason_len > 123 || (reason == NULL && reason_len > 0) ||
        (reason_len > 0 && !ew__utf8_valid(reason, reason_len)))
        return EW_ERR_INVALID_ARG;
    if (ws->host_gone || ws->client_closed)
        return EW_ERR_STATE;
    if (ws->iso != NULL && ws->iso->depth > 0)
        return EW_ERR_STATE;
    client_close(ws, code, reason ? reason : "", reason_len);
    link_maybe_end(ws);
    return EW_OK;
}

EW_API void ew_websocket_destroy(ew_websocket_t *ws)
{
    if (ws == NULL || ws->host_gone)
        return;
    if (ws->iso == NULL || ws->iso->depth == 0) {
        static const char why[] = "WebSocket disconnected without sending Close frame.";
        client_close(ws, 1006, why, sizeof(why) - 1);
    }
    ws->host_gone = true;
    link_free_msgs(ws);
    link_maybe_end(ws);
}

void ew__ws_host_open(ew_websocket_t *ws, const char *protocol)
{
    if (ws->host_gone || ws->client_closed || ws->iso == NULL || ws->iso->dead)
        return;
    host_event_t e = {ws, "open", 0, NULL, 0, 0, true, protocol};
    host_event(ws, &e);
}

/* connect(end, host, port, tls, target, protocols, extra): `end` (the peer of the script's new WebSocket) goes
 * to a new outbound connection (ws_client.c), kept open by the running request. */
static duk_ret_t native_connect(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    ew__req_t *req = iso != NULL ? iso->running : NULL;
    if (req == NULL || iso->rt == NULL)
        return duk_error(ctx, DUK_ERR_ERROR,
                         "Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or "
                         "connect()), setting a timeout, and generating random values are not allowed within "
                         "global scope. To fix this error, perform this operation within a handler. "
                         "https://developers.cloudflare.com/workers/runtime-apis/handlers/");
    size_t hl, tl, pl;
    const char *host = ew__to_utf8(ctx, 1, &hl);
    const char *target = ew__to_utf8(ctx, 4, &tl);
    const char *protocols = ew__to_utf8(ctx, 5, &pl);
    size_t el;
    const char *extra = duk_is_string(ctx, 6) ? ew__to_utf8(ctx, 6, &el) : "";
    int port = duk_get_int(ctx, 2);
    bool tls = duk_to_boolean(ctx, 3);
    /* A WebSocket connection is a subrequest, as in workerd (fetch() keeps the same count). */
    uint32_t limit = iso->rt->cfg.subrequests ? iso->rt->cfg.subrequests : 50;
    if (req->subrequests >= limit)
        return duk_error(ctx, DUK_ERR_ERROR, "Too many subrequests by single Worker invocation.");
    req->subrequests++;
    ew_websocket_t *ws = ew__ws_couple(ctx, req, 0);
    if (ws == NULL)
        return duk_throw(ctx);
    /* Events will come from the network: a request awaiting them is not one that can never finish. */
    ws->io = true;
    iso->io_pending++;
    if (!ew__ws_client_start(iso->rt, ws, host, port, tls, target, protocols, extra)) {
        ew_websocket_destroy(ws);
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory opening a WebSocket");
    }
    return 0;
}

/* fetch() of a WebSocket upgrade (lib/web/fetch.c asks first). Decided in C from the headers the Request
 * would get (init.headers, else the input Request's), so that an ordinary fetch loads no WebSocket code. */

static bool is_websocket_value(duk_context *ctx, duk_idx_t idx)
{
    duk_size_t len;
    const char *v = duk_safe_to_lstring(ctx, idx, &len);
    while (len > 0 && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    return len == 9 && strncasecmp(v, "websocket", 9) == 0;
}

/* Safe-call body: [headers-init] -> [bool]: a Headers, an array of pairs or a record naming Upgrade: websocket. */
static duk_ret_t upgrade_in(duk_context *ctx, void *udata)
{
    (void) udata;
    duk_idx_t h = duk_get_top_index(ctx);
    bool yes = false;
    if (ew__headers_push_list(ctx, h)) { /* a Headers: its list [name, value, ...], lower-case names */
        duk_size_t n = duk_get_length(ctx, -1);
        for (duk_size_t i = 0; i + 1 < n && !yes; i += 2) {
            duk_get_prop_index(ctx, -1, (duk_uarridx_t) i);
            if (strcmp(duk_safe_to_string(ctx, -1), "upgrade") == 0) {
                duk_get_prop_index(ctx, -2, (duk_uarridx_t) (i + 1));
                yes = is_websocket_value(ctx, -1);
                duk_pop(ctx);
            }
            duk_pop(ctx);
        }
    } else if (duk_is_array(ctx, h)) {
        duk_size_t n = duk_get_length(ctx, h);
        for (duk_size_t i = 0; i < n && !yes; i++) {
            duk_get_prop_index(ctx, h, (duk_uarridx_t) i);
            duk_get_prop_index(ctx, -1, 0);
            if (strcasecmp(duk_safe_to_string(ctx, -1), "upgrade") == 0) {
                duk_get_prop_index(ctx, -2, 1);
                yes = is_websocket_value(ctx, -1);
                duk_pop(ctx);
            }
            duk_pop_2(ctx);
        }
    } else if (duk_is_object(ctx, h)) {
        duk_enum(ctx, h, DUK_ENUM_OWN_PROPERTIES_ONLY);
        while (!yes && duk_next(ctx, -1, 1)) {
            if (strcasecmp(duk_safe_to_string(ctx, -2), "upgrade") == 0)
                yes = is_websocket_value(ctx, -1);
            duk_pop_2(ctx);
        }
    }
    duk_push_boolean(ctx, yes);
    return 1;
}

bool ew__ws_fetch_is_upgrade(duk_context *ctx)
{
    /* The headers the Request would take: init.headers when given, else those of an input Request. */
    if (duk_is_object(ctx, 1)) {
        duk_get_prop_literal(ctx, 1, "headers");
        if (duk_is_undefined(ctx, -1))
            duk_pop(ctx);
        else
            goto check;
    }
    if (!(ew__web_state(ctx, 0) & EW__KIND_REQUEST))
        return false;
    ew__request_unpack(ctx, 0);
    duk_get_prop_literal(ctx, 0, EW__WEB_HLIST);
    duk_push_array(ctx); /* [list] -> a record-like walk: pairs */
    {
        duk_size_t n = duk_get_length(ctx, -2);
        for (duk_size_t i = 0; i + 1 < n; i += 2) {
            duk_push_array(ctx);
            duk_get_prop_index(ctx, -3, (duk_uarridx_t) i);
            duk_put_prop_index(ctx, -2, 0);
            duk_get_prop_index(ctx, -3, (duk_uarridx_t) (i + 1));
            duk_put_prop_index(ctx, -2, 1);
            duk_put_prop_index(ctx, -2, (duk_uarridx_t) (i / 2));
        }
    }
    duk_remove(ctx, -2);
check:
    if (duk_safe_call(ctx, upgrade_in, NULL, 1, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        duk_pop(ctx);
        return false; /* fetch() then meets the same error building its Request, and rejects with it */
    }
    bool yes = duk_to_boolean(ctx, -1);
    duk_pop(ctx);
    return yes;
}

void ew__ws_fetch_upgrade(duk_context *ctx)
{
    push_module(ctx);
    duk_push_literal(ctx, "fetchUpgrade");
    duk_dup(ctx, 0);
    duk_dup(ctx, 1);
    duk_call_prop(ctx, -4, 2);
    duk_remove(ctx, -2);
}

void ew__ws_response_gone(ew_websocket_t *ws)
{
    if (ws != NULL && !ws->attached)
        ew_websocket_destroy(ws);
}
