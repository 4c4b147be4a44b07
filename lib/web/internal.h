/*
 * lib/web/internal.h — the Fetch types implemented in C (Headers, Request, Response, the body mixin):
 * what lib/core calls (the first block) and what the files of lib/web share with each other (the rest).
 *
 * Every instance is a plain object whose prototype holds native methods and accessors; its state sits in a
 * few hidden-symbol properties, never in closures. Layouts:
 *
 *   Headers   EW__WEB_LIST  array [name0, value0, name1, value1, ...], lower-case names, insertion order
 *             EW__WEB_GUARD true when immutable (absent otherwise)
 *   Request   EW__WEB_STATE integer: kind | flags | redirect mode          (bits below)
 *             EW__WEB_HLIST header list (same layout as a Headers' list)
 *             EW__WEB_BODY  body storage (body.c), absent = null body
 *             "rm" method, "ru" url, "rc" cf (request.c), EW__WEB_HEADERS the Headers wrapper, made lazily
 *   Response  EW__WEB_STATE integer: kind | flags | status << 16
 *             EW__WEB_HLIST, EW__WEB_BODY, EW__WEB_HEADERS as for Request; EW__WEB_STATUS_TEXT and
 *             EW__WEB_CF only when given
 *
 * The body storage is a string (valid UTF-8 bytes), a fixed buffer, or a stream stand-in (body.c); a later
 * ReadableStream body is one more kind behind the same functions, so the classes need no rewrite.
 * Instances are recognized by the kind bits in EW__WEB_STATE, which scripts cannot read or forge.
 */
#ifndef EW_WEB_INTERNAL_H
#define EW_WEB_INTERNAL_H

#include "core/internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * What lib/core calls
 */

/* Installs Headers, Request and Response on the global object. Call once per heap, after
 * ew__promise_init(). May throw a Duktape error (allocation): call it inside a protected call. */
void ew__web_init(duk_context *ctx);

/* Validates a request coming from C: method is an HTTP token, url is absolute "http(s)://..." without
 * controls or spaces, header names are tokens and values have no CR, LF or NUL, body is not NULL when
 * body_len > 0. Returns EW_OK (err cleared), or EW_ERR_INVALID_ARG with a message naming the bad argument
 * or header (through ew__error_set). */
ew_status_t ew__request_check(const ew_request_t *req, ew_error_t *err);

/* Pushes a new Request built from C data that passed ew__request_check(). Everything is copied. Strings
 * (header values too) go through ew__push_utf8 (invalid UTF-8 becomes U+FFFD); header names are lower-cased
 * and values trimmed. The request has a body when req->body is not NULL (even with 0 bytes). Its headers
 * are immutable (workerd and the service-worker spec agree). request.cf is an empty object. May throw a
 * Duktape error (allocation). */
void ew__request_push(duk_context *ctx, const ew_request_t *req);

/* The same two with the URL parsed once: check_url also gives the parsed URL (when it returns EW_OK and
 * url_out is not NULL; the caller disposes it with ew__url_dispose), or, with url_known (the caller saw
 * this very URL pass before), checks everything but the URL; push_serialized takes req->url as
 * the URL's serialization (what check_url gave) without parsing it again. Used on every request's path. */
/* Gives the Request at idx (just made by ew__request_push*) the host's cf JSON (checked by
 * ew__json_is_object), the string on top (popped), decoded when the script first reads request.cf. May
 * throw (allocation). */
void ew__request_set_cf_json(duk_context *ctx, duk_idx_t idx);
struct ew__url;
ew_status_t ew__request_check_url(const ew_request_t *req, struct ew__url *url_out, ew_error_t *err, bool url_known);
void ew__request_push_serialized(duk_context *ctx, const ew_request_t *req);
/* A Request from C keeps its method, url and headers packed in C until script needs them (request.c):
 * code that reads EW__WEB_METHOD, EW__WEB_URL or EW__WEB_HLIST of a Request at idx calls this first. Does
 * nothing for anything else. May throw (allocation). */
void ew__request_unpack(duk_context *ctx, duk_idx_t idx);
/* Pushes the packed buffer of the Request at idx and returns true; false (nothing pushed) when not packed. */
bool ew__request_push_packed(duk_context *ctx, duk_idx_t idx);
/* Pushes the header list made from the packed buffer at buf_idx (names lower-cased, values UTF-8 decoded). */
void ew__request_push_packed_list(duk_context *ctx, duk_idx_t buf_idx);
/* Looks up the lower-case header name (len bytes) in the packed buffer at buf_idx: returns how many entries
 * match; with push_value, pushes their values joined by ", " when there is at least one. */
int ew__request_packed_get(duk_context *ctx, duk_idx_t buf_idx, const char *lname, size_t len, bool push_value);
/* headers.c: pushes an immutable Headers over the packed buffer at packed_idx (a Request from C): get()
 * and has() read the bytes, anything else makes the list first. */
void ew__headers_push_packed_wrapper(duk_context *ctx, duk_idx_t packed_idx);

/* Converts the value at idx, which must be a Response made by this module, into a new ew_response_t:
 * status, status text ("" when the script gave none), one header entry per stored value in insertion order
 * (lower-case names; set-cookie values stay separate), the body bytes; every string NUL-terminated; UTF-8;
 * outcome EW_OK. Marks the Response's body used. Never throws; the stack is unchanged.
 * Errors: EW_ERR_BAD_RESPONSE (not a Response, Response.error(), body already used; message like workerd's
 * "TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'."), EW_ERR_NOMEM, or
 * EW_ERR_MEMORY_LIMIT when the isolate's limit fired while copying. *out is NULL on failure; release a
 * result with ew_response_destroy(). */
ew_status_t ew__response_extract(duk_context *ctx, duk_idx_t idx, ew_response_t **out, ew_error_t *err);
struct ew__stream_reader;
/* body_encode.c: compresses the response's body per its Content-Encoding header (gzip, deflate, br) unless
 * manual: a buffered body at once, a streamed one through reader (NULL when the body is buffered).
 * EW_ERR_NOMEM when memory ran out. */
ew_status_t ew__response_encode(ew_response_t *resp, bool manual, struct ew__stream_reader *reader);
/* The same, except that a body that is a ReadableStream (other than one of known bytes) is not copied:
 * the stream is locked to a new C reader returned in *reader (the response's body is then empty, and the
 * caller reads the bytes: lib/web/stream.h). *reader is NULL for other bodies. A locked stream is
 * EW_ERR_BAD_RESPONSE. */
ew_status_t ew__response_extract_stream(duk_context *ctx, duk_idx_t idx, ew_response_t **out,
                                        struct ew__stream_reader **reader, ew_error_t *err);

/* Pushes the webSocket of the Response at idx and returns true; pushes undefined and returns false when it
 * has none (or is not a Response). Never throws. */
bool ew__response_push_websocket(duk_context *ctx, duk_idx_t idx);

/* Makes a response in C (error pages 1101/1102): `status`, empty status text, a content-type header when
 * content_type is not NULL, a copy of `body_len` bytes of `body` (NULL allowed when 0), and `outcome`.
 * NULL on OOM. Release with ew_response_destroy(). */
/* The allocation every ew_response_t of the library has (ew_response_destroy frees it): one block for the
 * struct, nheaders headers and `strings` bytes of NUL-terminated strings (*string_area points at them), and
 * a body buffer of body_len + 1 bytes (NUL after). NULL on OOM. */
ew_response_t *ew__response_alloc(size_t nheaders, size_t strings, size_t body_len, char **string_area);
/* Copies len bytes + NUL to *area, advances it, and returns where the copy starts. */
char *ew__response_put_string(char **area, const void *s, size_t len);
ew_response_t *ew__response_make(int status, const char *content_type, const char *body, size_t body_len,
                                 ew_status_t outcome);

/* fetch.c: installs the global fetch(). Call once per heap after Request exists (ew__web_init does). */
void ew__fetch_init(duk_context *ctx, duk_idx_t global_idx);
/* Cancels the fetches a finishing request left pending: the network requests stop and their promises are
 * dropped unsettled (as workerd drops a finished request's I/O). Called by lib/core when it frees a request. */
struct ew__isolate;
void ew__fetch_cancel_req(struct ew__isolate *iso, uint32_t req_id);
/* Cancels every fetch of an isolate about to be destroyed (no JS runs). */
void ew__fetch_cancel_all(struct ew__isolate *iso);

/* Both functions above allocate an ew_response_t as two blocks (response_c.c): the struct with its header
 * array and all strings, and the body. Its fields are read-only: never free or replace one of them. */

/* ---------------------------------------------------------------------------------------------------------
 * Shared by the files of lib/web
 */

/* Hidden properties: short keys, interned once per heap. */
#define EW__WEB_LIST DUK_HIDDEN_SYMBOL("hl")         /* Headers: its list */
#define EW__WEB_GUARD DUK_HIDDEN_SYMBOL("hg")        /* Headers: true = immutable */
#define EW__WEB_STATE DUK_HIDDEN_SYMBOL("rs")        /* Request/Response: state integer */
#define EW__WEB_HLIST DUK_HIDDEN_SYMBOL("rl")        /* Request/Response: header list */
#define EW__WEB_BODY DUK_HIDDEN_SYMBOL("rb")         /* Request/Response: body storage */
#define EW__WEB_HEADERS DUK_HIDDEN_SYMBOL("rh")      /* Request/Response: Headers wrapper (lazy) */
#define EW__WEB_STATUS_TEXT DUK_HIDDEN_SYMBOL("rt")  /* Response: statusText when given */
#define EW__WEB_CF DUK_HIDDEN_SYMBOL("rc")           /* Request/Response: cf when given */
#define EW__WEB_METHOD DUK_HIDDEN_SYMBOL("rm")        /* Request: method */
#define EW__WEB_URL DUK_HIDDEN_SYMBOL("ru")           /* Request: url; Response: url (fetch() responses only) */
#define EW__WEB_STREAM_DATA DUK_HIDDEN_SYMBOL("sd")  /* stream stand-in: its bytes, null once taken */
#define EW__WEB_PROTO_KEY DUK_HIDDEN_SYMBOL("wp")    /* stash: array of prototypes (ew__proto_t) */
#define EW__WEB_WEBSOCKET DUK_HIDDEN_SYMBOL("rw")    /* Response: the WebSocket of a 101, when given */
/* True if the value at idx is a WebSocket (lib/js/websocket.js keeps its state under EW__WS_STATE_KEY). */
#define ew__web_is_websocket(ctx, idx) (duk_is_object((ctx), (idx)) && duk_has_prop_literal((ctx), (idx), EW__WS_STATE_KEY))

/* Kind bits of the state integer (an instance's brand). */
#define EW__KIND_REQUEST 0x1u
#define EW__KIND_RESPONSE 0x2u
#define EW__STATE_KIND_MASK 0x3u
/* Flags. */
#define EW__STATE_USED 0x4u        /* the body was read or transferred (only ever set on a non-null body) */
#define EW__STATE_IMMUTABLE 0x8u   /* the Headers wrapper is made immutable */
#define EW__STATE_CF_LAZY 0x10u    /* Request from C: cf is an empty object made on first access */
#define EW__STATE_TYPE_ERROR 0x20u /* Response.error() */
#define EW__STATE_REDIRECT_SHIFT 6 /* Request: 2 bits, 0 follow, 1 manual, 2 error */
#define EW__STATE_REDIRECTED 0x40u /* Response: fetch() followed a redirect to get it */
#define EW__STATE_NO_STORE 0x100u  /* Request: cache: 'no-store' (fetch() sends no-cache headers) */
#define EW__STATE_ENCODE_MANUAL 0x200u /* Response: encodeBody "manual" (the body is sent as it is) */
#define EW__STATE_PACKED 0x1000u   /* Request from C: method, url and headers still packed (request.c) */
#define EW__STATE_LIST_SHIFT 10    /* Response: 2 bits, a header list not made yet (response.c): */
#define EW__STATE_LIST_MASK (3u << EW__STATE_LIST_SHIFT)
#define EW__LIST_EMPTY 1u          /*   no headers */
#define EW__LIST_TEXT 2u           /*   content-type: text/plain;charset=UTF-8 */
#define EW__LIST_JSON 3u           /*   content-type: application/json */
#define EW__STATE_STATUS_SHIFT 16  /* Response: status code */

/* Prototypes kept in the stash, by index. */
typedef enum ew__proto {
    EW__PROTO_HEADERS = 0,
    EW__PROTO_ITERATOR = 1,
    EW__PROTO_REQUEST = 2,
    EW__PROTO_RESPONSE = 3,
    EW__PROTO_BODY_STREAM = 4,
    EW__PROTO_ARRAY_CTOR = 5  /* not a prototype: the original Array constructor (ew__web_push_array) */
} ew__proto_t;

/* One native accessor of a class table. */
typedef struct ew__getter {
    const char *name;
    duk_c_function get;
} ew__getter_t;

/* A JS class made of native functions (web.c installs it). Tables end with a NULL name; NULL = none. */
typedef struct ew__class {
    const char *name;               /* global name, constructor .name and Symbol.toStringTag */
    duk_c_function ctor;
    duk_idx_t ctor_nargs;
    int ctor_length;                /* constructor .length */
    const ew__method_t *methods;    /* on the prototype */
    const ew__getter_t *getters;    /* on the prototype */
    const ew__method_t *statics;    /* on the constructor */
    ew__proto_t proto_slot;
} ew__class_t;

/* web.c */
/* Defines the class on the global object and registers its prototype; leaves the prototype pushed and
 * returns its index. */
duk_idx_t ew__web_def_class(duk_context *ctx, duk_idx_t global_idx, const ew__class_t *cls);
void ew__web_register_proto(duk_context *ctx, duk_idx_t proto_idx, ew__proto_t slot);
void ew__web_push_proto(duk_context *ctx, ew__proto_t which);
/* Pushes a new array of length n whose first min(n, 64) slots are preallocated. Duktape's fast path for
 * writing an array index needs the slot to exist: appending to an empty array goes through the slow path,
 * which turns every index into a string. Fill all n slots. */
void ew__web_push_array(duk_context *ctx, duk_uarridx_t n);
/* Pops count (0 or >= 2) values and pushes an array of them, sized exactly (the Array constructor packs). */
void ew__web_pack(duk_context *ctx, duk_idx_t count);
/* Pushes the header list of the Request or Response at self whose state is `state`, making it first when
 * it is still packed (a Request from C) or implied by the state (a Response's default list). Every read
 * of EW__WEB_HLIST goes through here (or ew__request_unpack). May throw (allocation). */
void ew__web_push_hlist(duk_context *ctx, duk_idx_t self, uint32_t state);
/* response.c: the content type a lazy list code stands for (NULL for EW__LIST_EMPTY). */
const char *ew__response_list_type(uint32_t code);
/* Pushes a new object with the registered prototype; returns its index. */
duk_idx_t ew__web_push_instance(duk_context *ctx, ew__proto_t which);
/* In a constructor: throws TypeError without `new`; pushes `this` and returns its index. */
duk_idx_t ew__web_construct_this(duk_context *ctx, const char *class_name);
/* State integer of the value at obj_idx (0 for anything that is not one of ours). */
uint32_t ew__web_state(duk_context *ctx, duk_idx_t obj_idx);
void ew__web_set_state(duk_context *ctx, duk_idx_t obj_idx, uint32_t state);
/* Pushes `this` and returns its state; throws TypeError "Illegal invocation" unless its kind is in kinds. */
uint32_t ew__web_require_this(duk_context *ctx, uint32_t kinds);
/* Pushes the normalized absolute URL for ToString(value at idx), or pushes nothing and returns false.
 * Minimal until the URL parser lands: "scheme://..." required, scheme and host lower-cased, "/" path added. */
bool ew__web_push_url(duk_context *ctx, duk_idx_t idx);
/* Pushes a string with a static address (a literal, or a table of literals): Duktape's literal cache then
 * finds it without hashing and keeps it interned, so common names and types cost no allocation. */
void ew__web_push_static(duk_context *ctx, const char *s);
/* Copies hidden property `key` (a literal) from the object at from to the one at to, if it is defined. */
#define EW__WEB_COPY_HIDDEN(ctx, from, to, key)                                                              \
    do {                                                                                                     \
        duk_get_prop_literal((ctx), (from), key);                                                            \
        if (duk_is_undefined((ctx), -1))                                                                     \
            duk_pop(ctx);                                                                                    \
        else                                                                                                 \
            duk_put_prop_literal((ctx), (to), key);                                                          \
    } while (0)
/* json.c: true if the bytes are one JSON object (RFC 8259, UTF-8, surrounding whitespace allowed), nesting
 * at most 64 deep. Allocates nothing. */
bool ew__json_is_object(const char *s, size_t len);
/* Reason phrase of an HTTP status ("" when unknown). */
const char *ew__web_reason_phrase(int status);
bool ew__http_is_token(const char *s, size_t len);
bool ew__http_is_ws(char c);

/* headers.c (list_idx: a header list array) */
void ew__headers_init(duk_context *ctx, duk_idx_t global_idx);
/* Fills the list from a HeadersInit value (undefined, Headers, pairs, record) as the constructor does;
 * throws TypeError on bad names/values. */
void ew__headers_fill(duk_context *ctx, duk_idx_t list_idx, duk_idx_t init_idx);
/* Appends (lname, value on top, popped) without validation: for values this module made. */
void ew__headers_list_add(duk_context *ctx, duk_idx_t list_idx, const char *lname);
bool ew__headers_list_has(duk_context *ctx, duk_idx_t list_idx, const char *lname);
/* Pushes a copy of the list. */
void ew__headers_list_copy(duk_context *ctx, duk_idx_t list_idx);
/* Pushes a Headers object over the list (shared, not copied). */
void ew__headers_push_wrapper(duk_context *ctx, duk_idx_t list_idx, bool immutable);
/* Pushes the list of the Headers at idx and returns true, or pushes undefined and returns false. */
bool ew__headers_push_list(duk_context *ctx, duk_idx_t idx);

/* body.c */
void ew__body_init(duk_context *ctx);
/* Defines text/json/arrayBuffer/bytes, headers, body, bodyUsed on the prototype: new functions when
 * from_idx is DUK_INVALID_INDEX, else the same function objects as the prototype at from_idx. */
void ew__body_install(duk_context *ctx, duk_idx_t proto_idx, duk_idx_t from_idx);
/* Extracts BodyInit at idx: null/undefined give no body (false, nothing pushed); otherwise pushes the
 * storage and returns true. Strings (and other values, through ToString) set *content_type to
 * "text/plain;charset=UTF-8" when it is NULL; URLSearchParams, Blob (with a type) and FormData set theirs
 * (push it with ew__body_push_type, the only way to read a type made at run time). A stream stand-in is taken (its owner's body becomes used);
 * TypeError if it was already taken. */
bool ew__body_extract(duk_context *ctx, duk_idx_t idx, const char **content_type);
/* Pushes the Content-Type string ew__body_extract gave (a static string, or one made at run time for a Blob's
 * type or a multipart boundary, which this hands over once). */
void ew__body_push_type(duk_context *ctx, const char *content_type);
/* Pushes ToString(value at idx) as storage: the string itself when its bytes are already UTF-8, else an
 * exact-size buffer of its UTF-8 form (surrogate pairs joined, lone surrogates as U+FFFD). */
void ew__body_push_utf8(duk_context *ctx, duk_idx_t idx);
/* True if the value at idx is what .body returned (a stream stand-in; later a ReadableStream). */
bool ew__body_is_stream(duk_context *ctx, duk_idx_t idx);
/* True if the body of the Request/Response at obj_idx (with its state) was read or transferred. */
bool ew__body_is_used(duk_context *ctx, duk_idx_t obj_idx, uint32_t state);
/* For clone(): pushes the body storage to share and returns true, or returns false for a null body. */
bool ew__body_push_shared(duk_context *ctx, duk_idx_t obj_idx);
/* Takes the body: pushes its storage, marks the owner used, returns true; false for a null body. */
bool ew__body_take(duk_context *ctx, duk_idx_t obj_idx);
/* The same with the object's body storage already pushed (popped or replaced) and its state known. */
bool ew__body_take_pushed(duk_context *ctx, duk_idx_t obj_idx, uint32_t state);
/* Bytes of a storage value (string or buffer) at data_idx. */
const void *ew__body_bytes(duk_context *ctx, duk_idx_t data_idx, size_t *len);

/* request.c, response.c */
void ew__request_init(duk_context *ctx, duk_idx_t global_idx);
void ew__response_init(duk_context *ctx, duk_idx_t global_idx);

#endif /* EW_WEB_INTERNAL_H */
