/* The runtime layer's JavaScript as Duktape bytecode, generated at build time by lib/js/js2c.c. */
#ifndef EW_JS_BYTECODE_H
#define EW_JS_BYTECODE_H

#include <stddef.h>

/* prelude.js: event listeners and dispatch of fetch/scheduled events. */
extern const unsigned char ew__js_prelude[];
extern const size_t ew__js_prelude_len;
/* helpers.js: the runtime helpers compiled code reaches through its hidden parameter (lib/compile). */
extern const unsigned char ew__js_helpers[]; extern const size_t ew__js_helpers_len;
/* coro.js: async functions, generators and async generators on coroutines (lib/core/coro.c). */
extern const unsigned char ew__js_coro[];
extern const size_t ew__js_coro_len;

/* helpers_class.js, helpers_module.js: helper groups loaded on first use (lib/core/dispatch.c). */
extern const unsigned char ew__js_helpers_class[]; extern const size_t ew__js_helpers_class_len;
extern const unsigned char ew__js_helpers_module[]; extern const size_t ew__js_helpers_module_len;
/* helpers_regex.js: the y and d flags of regex literals, loaded on first use (lib/core/dispatch.c). */
extern const unsigned char ew__js_helpers_regex[]; extern const size_t ew__js_helpers_regex_len;
/* websocket.js: WebSocketPair, WebSocket, MessageEvent, CloseEvent, loaded on first use (lib/core/websocket.c). */
extern const unsigned char ew__js_websocket[]; extern const size_t ew__js_websocket_len;
/* streams.js: the Streams Standard and the Workers stream classes, loaded on first use (lib/web/stream.c). */
extern const unsigned char ew__js_streams[];
extern const size_t ew__js_streams_len;

/* Globals loaded on first use (lib/web/lazy.c): events.js (Event, EventTarget, AbortController, ...). */
extern const unsigned char ew__js_events[]; extern const size_t ew__js_events_len;
/* abort.js, message.js, blob.js: the other groups loaded on first use by lib/web/lazy.c. */
extern const unsigned char ew__js_abort[]; extern const size_t ew__js_abort_len;
extern const unsigned char ew__js_message[]; extern const size_t ew__js_message_len;
extern const unsigned char ew__js_blob[]; extern const size_t ew__js_blob_len;

/* cache.js: the Cache API, loaded on the first read of the global `caches` (lib/bindings/cache.c). */
extern const unsigned char ew__js_cache[];
extern const size_t ew__js_cache_len;

/* r2.js: the R2 binding's JavaScript half, loaded on a bucket's first method call (lib/bindings/r2.c). */
extern const unsigned char ew__js_r2[]; extern const size_t ew__js_r2_len;
/* urlpattern.js: URLPattern, loaded on first use of the global (lib/web/urlpattern.c). */
extern const unsigned char ew__js_urlpattern[]; extern const size_t ew__js_urlpattern_len;
/* sclone.js: structured clone as JSON text, loaded on first use (lib/bindings/sclone.c: durable.js, Queues). */
extern const unsigned char ew__js_sclone[]; extern const size_t ew__js_sclone_len;
/* durable.js: Durable Objects' JavaScript surface, loaded on first use (lib/bindings/durable.c). */
extern const unsigned char ew__js_durable[]; extern const size_t ew__js_durable_len;
/* service.js: the caller's side of service binding and Durable Object calls, loaded on first use
 * (lib/bindings/durable.c ew__service_push_api). */
extern const unsigned char ew__js_service[]; extern const size_t ew__js_service_len;

#endif
