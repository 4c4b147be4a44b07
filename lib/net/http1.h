/*
 * lib/net/http1.h — strict, incremental, zero-copy HTTP/1.1 message parser (http1.c), shared by ew-server
 * (requests) and the outbound fetch() client (responses).
 *
 * The parser never allocates after init, never copies bytes and never calls back: the caller pulls one event
 * at a time. The contract, in one loop:
 *
 *     for (;;) {
 *         size_t used;
 *         ew__h1_slice_t body;
 *         int ev = ew__h1_parse(&p, buf, len, &used, &body);
 *         // use what the event points at (it points into buf), THEN drop `used` bytes from the front of buf
 *         switch (ev) {
 *         case EW__H1_AGAIN: wait for more bytes, append them, loop;     // may have used framing bytes
 *         case EW__H1_HEAD:  p.msg has method, target, version, headers, framing, keep-alive...
 *         case EW__H1_BODY:  body.ptr/body.len: the next piece of the (de-chunked) body
 *         case EW__H1_DONE:  message complete (p.msg.trailers); the next call parses the next message
 *         case EW__H1_ERROR: answer p.error_status (p.error_reason for logs) and close the connection
 *         }
 *     }
 *
 * Bytes not reported as used must be passed again, at the front of buf, on the next call (they may have
 * moved: the parser keeps offsets, not pointers). This is what lets the whole head stay in one contiguous
 * buffer (e.g. a pulled-up evbuffer) and be handed out as slices: during the head the parser uses nothing
 * until the head is complete, and it never re-scans a byte it has seen. Stopping after any event and
 * resuming later with the remaining bytes is how pipelined requests are paused.
 *
 * Threads: a parser belongs to one thread; there is no global state (the tables are const).
 */
#ifndef EW_NET_HTTP1_H
#define EW_NET_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What ew__h1_parse() and ew__h1_finish() return. */
enum {
    EW__H1_ERROR = -1, /* malformed or over a limit: see error_status/error_reason; every later call fails
                        * too (until ew__h1_parser_reset); the connection must be closed after answering */
    EW__H1_AGAIN = 0,  /* all input examined; call again with the unused bytes plus more */
    EW__H1_HEAD = 1,   /* the head is complete: p->msg; its slices point into buf[0, used) */
    EW__H1_BODY = 2,   /* *body is the next piece of the body; it points into buf[0, used) */
    EW__H1_DONE = 3,   /* the message is complete; trailers (if any) point into buf[0, used). The next call
                        * starts the next message, except after a response with msg.upgrade (101, CONNECT
                        * tunnel): the rest of the connection is not HTTP, and any further byte is an error.
                        * A request with msg.upgrade is an ordinary message to the parser: the server decides
                        * whether to switch, and if it does it stops calling the parser. */
};

typedef enum ew__h1_mode {
    EW__H1_REQUEST,  /* server side: parse requests */
    EW__H1_RESPONSE, /* client side: parse responses (see ew__h1_parser_set_request) */
} ew__h1_mode_t;

/* How the body of the current message is delimited (RFC 9112 section 6.3). */
typedef enum ew__h1_framing {
    EW__H1_BODY_NONE,    /* no body: no Content-Length/Transfer-Encoding, Content-Length: 0, HEAD, 1xx, 204, 304 */
    EW__H1_BODY_LENGTH,  /* Content-Length bytes (msg.content_length > 0) */
    EW__H1_BODY_CHUNKED, /* Transfer-Encoding: chunked; body pieces come de-chunked, then trailers */
    EW__H1_BODY_CLOSE,   /* responses only: until the connection closes (ew__h1_finish ends the message) */
} ew__h1_framing_t;

/* Limits; a zero field takes the default. Exceeding one is an error with the status given. */
typedef struct ew__h1_config {
    size_t max_head_bytes;   /* start line + header fields + blank line (bytes), 0 = 32 KiB, at most 16 MiB -> 431;
                              * the same bound applies to a trailer section and to the chunk extensions of one body */
    size_t max_target_len;   /* request-target (bytes), 0 = 8 KiB -> 414 */
    size_t max_headers;      /* header fields per message (and trailer fields), 0 = 100, at most 65535 -> 431 */
    uint64_t max_body_bytes; /* body after de-chunking (bytes), 0 = 100 MiB, UINT64_MAX = no limit -> 413 */
} ew__h1_config_t;

/* A byte range inside the caller's buffer; not NUL-terminated. */
typedef struct ew__h1_slice {
    const char *ptr;
    size_t len;
} ew__h1_slice_t;

/* One header (or trailer) field: name as sent (compare case-insensitively), value with OWS trimmed. */
typedef struct ew__h1_header {
    const char *name;
    const char *value; /* may be empty; never contains CR, LF, NUL or other CTLs except HTAB */
    uint32_t name_len;
    uint32_t value_len;
} ew__h1_header_t;

/* The current message. Slices point into the caller's buffer and are valid from the EW__H1_HEAD event until
 * the caller drops or moves those bytes (trailers: from EW__H1_DONE likewise). Scalars stay valid until the
 * first ew__h1_parse() call after EW__H1_DONE, which starts the next message. */
typedef struct ew__h1_message {
    ew__h1_slice_t method;     /* requests: a token, e.g. "GET" (case-sensitive) */
    ew__h1_slice_t target;     /* requests: request-target as sent (origin-, absolute-, authority- or asterisk-form) */
    int status;                /* responses: 100..999 */
    ew__h1_slice_t reason;     /* responses: reason phrase, may be empty */
    int version_minor;         /* 0 or 1: HTTP/1.0 or HTTP/1.1 */
    ew__h1_header_t *headers;  /* nheaders fields in arrival order (storage owned by the parser) */
    size_t nheaders;
    ew__h1_header_t *trailers; /* at EW__H1_DONE of a chunked message: ntrailers fields (same storage as headers) */
    size_t ntrailers;
    ew__h1_slice_t host;       /* requests: the Host field value (empty if absent, which only HTTP/1.0 allows) */
    ew__h1_framing_t framing;  /* how the body is delimited */
    uint64_t content_length;   /* the Content-Length value (bytes) if one was sent, else 0; the body size when
                                * framing == EW__H1_BODY_LENGTH (a HEAD or 304 response may carry one without body) */
    bool keep_alive;           /* the connection may carry another message after this one */
    bool expect_continue;      /* requests: HTTP/1.1 with Expect: 100-continue */
    bool upgrade;              /* requests: Connection: upgrade + Upgrade field (HTTP/1.1 only);
                                * responses: status 101, or a 2xx to CONNECT */
} ew__h1_message_t;

/* The parser: a struct the caller owns (e.g. inside its connection), set up with ew__h1_parser_init and
 * released with ew__h1_parser_dispose. Fields other than msg, error_status and error_reason are private. */
typedef struct ew__h1_parser {
    ew__h1_message_t msg;     /* the message being parsed (see above) */
    int error_status;         /* after EW__H1_ERROR: HTTP status to answer with (400, 413, 414, 431, 501, 505;
                               * 502 for every error in response mode) */
    const char *error_reason; /* after EW__H1_ERROR: short static description, e.g. "bare LF in header" */

    /* private */
    ew__h1_config_t cfg;
    ew__h1_mode_t mode;
    uint8_t phase, state;  /* what is being parsed; where inside it */
    uint8_t vpos;          /* bytes of "HTTP/x.y" matched so far */
    bool in_trailers;      /* the head scanner is reading a trailer section */
    bool req_head, req_connect; /* response mode: the request was HEAD / CONNECT */
    uint32_t pos;          /* scan position in the unused bytes (head and trailer sections) */
    uint32_t mark;         /* start of the element being scanned */
    uint32_t name_end;     /* end of the current field name */
    uint32_t method_off, method_end, target_off, target_end, reason_off, reason_end;
    uint32_t host_idx;     /* index + 1 of the Host field, 0 = none */
    uint32_t flags;        /* framing facts seen in the head (http1.c F_*) */
    uint64_t remaining;    /* body bytes left in the message (LENGTH) or in the chunk (CHUNKED) */
    uint64_t body_total;   /* de-chunked bytes so far */
    uint64_t chunk_ext;    /* chunk-extension bytes so far */
    uint32_t chunk_digits; /* hex digits of the chunk size so far */
    uint32_t nfields, cap; /* fields scanned so far; capacity of the arrays */
    ew__h1_header_t *fields; /* cap entries: the header/trailer array handed out in msg */
    uint32_t *offs;          /* cap * 2 entries: name and value offsets while the section is incomplete */
} ew__h1_parser_t;

/* Sets up p for one connection. cfg may be NULL (all defaults); it is copied. Allocates the header array
 * (max_headers entries) once. Returns 0, or -1 if out of memory (then p needs no dispose). */
int ew__h1_parser_init(ew__h1_parser_t *p, ew__h1_mode_t mode, const ew__h1_config_t *cfg);
/* Frees what init allocated. p may be reused only after another init. */
void ew__h1_parser_dispose(ew__h1_parser_t *p);
/* Forgets any message in progress and any error, keeping mode, limits and storage (e.g. for a new connection). */
void ew__h1_parser_reset(ew__h1_parser_t *p);

/* Response mode: the method of the request the next response answers (HEAD means no body; a 2xx to CONNECT
 * is a tunnel). Call before the response's head completes; it holds across 1xx interim responses and
 * reverts to "GET" once a final response is done. Not copied past the call. */
void ew__h1_parser_set_request(ew__h1_parser_t *p, const char *method, size_t len);

/* Parses the bytes buf[0, len): the unused bytes from the previous call first (same content, maybe moved),
 * then any new ones; len may be 0 (buf may then be NULL). Returns one event (see the enum) and sets *used
 * to how many bytes of buf the caller may drop once it is done with what the event points at, and *body
 * for EW__H1_BODY ({NULL, 0} otherwise). After EW__H1_HEAD of a message without body, or after its last
 * body piece, the next call returns EW__H1_DONE without needing input. buf is never written and never kept
 * across calls. */
int ew__h1_parse(ew__h1_parser_t *p, const char *buf, size_t len, size_t *used, ew__h1_slice_t *body);

/* Body bytes the current message still has to come when its body is framed by Content-Length and the
 * head has been parsed, else 0 (no such body, or another framing). */
uint64_t ew__h1_length_left(const ew__h1_parser_t *p);
/* The caller moved n (<= ew__h1_length_left) body bytes past the parser without handing them to it (a
 * zero-copy splice): they count as parsed; once none is left, the next ew__h1_parse returns EW__H1_DONE. */
void ew__h1_length_skip(ew__h1_parser_t *p, uint64_t n);

/* The peer closed the connection (no more bytes will come). Returns EW__H1_DONE if that ended a
 * close-delimited response body, EW__H1_AGAIN if no message was in progress (a clean close), or
 * EW__H1_ERROR if a message was cut short ("connection closed mid-message"). */
int ew__h1_finish(ew__h1_parser_t *p);

/* The standard reason phrase for status ("OK", "Not Found", ...), or "Unknown". Static storage. */
const char *ew__h1_reason_phrase(int status);

#endif
