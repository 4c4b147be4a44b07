/*
 * lib/net/ws.h — RFC 6455 WebSocket framing (ws.c), shared by ew-server (server role) and outbound
 * WebSockets (client role): an incremental frame parser that reassembles fragmented messages and checks
 * every rule a receiver must enforce, the frame-header writer, masking, close-code rules and the
 * Sec-WebSocket-Accept computation of the opening handshake.
 *
 * The parser is pull-based like the HTTP/1 parser (http1.h): the caller passes what has arrived, gets one
 * event (a whole message, a ping, a pong or a close) and how many bytes were used, and calls again with the
 * rest. On a protocol violation it returns EW__WS_ERROR with the close code to send (1002 protocol error,
 * 1007 invalid UTF-8, 1009 message too big) and a reason; the connection is then over.
 */
#ifndef EW_NET_WS_H
#define EW_NET_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    EW__WS_OP_CONT = 0x0,
    EW__WS_OP_TEXT = 0x1,
    EW__WS_OP_BINARY = 0x2,
    EW__WS_OP_CLOSE = 0x8,
    EW__WS_OP_PING = 0x9,
    EW__WS_OP_PONG = 0xA,
};

/* Close codes used by the library (RFC 6455 section 7.4.1). */
enum {
    EW__WS_CLOSE_NORMAL = 1000,
    EW__WS_CLOSE_GOING_AWAY = 1001,
    EW__WS_CLOSE_PROTOCOL = 1002,
    EW__WS_CLOSE_NO_STATUS = 1005,   /* never on the wire: the close frame had no code */
    EW__WS_CLOSE_ABNORMAL = 1006,    /* never on the wire: the connection dropped without a close frame */
    EW__WS_CLOSE_INVALID_DATA = 1007,
    EW__WS_CLOSE_TOO_BIG = 1009,
    EW__WS_CLOSE_INTERNAL = 1011,
};

typedef enum ew__ws_role {
    EW__WS_ROLE_SERVER, /* frames from the peer must be masked */
    EW__WS_ROLE_CLIENT  /* frames from the peer must not be masked */
} ew__ws_role_t;

/* Parser results. */
enum { EW__WS_AGAIN = 0, EW__WS_EVENT = 1, EW__WS_ERROR = -1 };

typedef enum ew__ws_event_type {
    EW__WS_EV_MESSAGE, /* a whole data message: opcode TEXT (valid UTF-8) or BINARY */
    EW__WS_EV_PING,
    EW__WS_EV_PONG,
    EW__WS_EV_CLOSE    /* code (1005 when the frame had none) and reason (valid UTF-8) */
} ew__ws_event_type_t;

typedef struct ew__ws_event {
    ew__ws_event_type_t type;
    int opcode;             /* EW__WS_OP_TEXT / EW__WS_OP_BINARY for a message */
    const uint8_t *data;    /* payload, or the close reason; valid until the next call on the parser */
    size_t len;
    int close_code;         /* EW__WS_EV_CLOSE only */
} ew__ws_event_t;

typedef struct ew__ws_parser {
    ew__ws_role_t role;
    size_t max_message;     /* bytes of one (reassembled) message; beyond: error 1009 */
    /* The frame being read. */
    uint8_t hdr[14];
    size_t hdr_len;         /* header bytes gathered so far */
    bool in_payload;        /* the header is complete; `remaining` payload bytes follow */
    uint8_t opcode;
    bool fin;
    bool masked;
    uint8_t mask[4];
    uint64_t remaining;
    uint64_t frame_pos;     /* payload bytes of this frame read so far (mask offset) */
    /* The message being reassembled (owned). */
    uint8_t msg_opcode;     /* TEXT/BINARY while a data message is open, 0 otherwise */
    uint8_t *msg;
    size_t msg_len, msg_cap;
    bool msg_done;          /* the last event handed out msg: reset it on the next call */
    uint8_t ctl[125];       /* a control frame's payload */
    size_t ctl_len;
    int error_code;         /* after EW__WS_ERROR: the close code to send */
    const char *error_reason; /* after EW__WS_ERROR: static text */
} ew__ws_parser_t;

/* Prepares p; max_message 0 = 1 MiB (workerd's default). */
void ew__ws_parser_init(ew__ws_parser_t *p, ew__ws_role_t role, size_t max_message);
void ew__ws_parser_dispose(ew__ws_parser_t *p);
/* Reads from buf (len bytes). Returns EW__WS_EVENT with *ev filled, EW__WS_AGAIN when every byte was used
 * and more are needed, or EW__WS_ERROR. *used is set in all cases: the bytes to drop from the input. */
int ew__ws_parse(ew__ws_parser_t *p, const uint8_t *buf, size_t len, size_t *used, ew__ws_event_t *ev);

/* Writes the header of a final frame (FIN set) with `opcode` and a payload of len bytes into out (room
 * for 14 bytes); mask NULL = unmasked (server to client). Returns the header's size. */
size_t ew__ws_frame_header(uint8_t *out, int opcode, uint64_t len, const uint8_t *mask);
/* XORs data with the mask, `offset` being the position of data[0] in the frame's payload. */
void ew__ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);
/* True for the codes an endpoint may put in a close frame (1000-1003, 1007-1014, 3000-4999). */
bool ew__ws_close_code_valid(int code);
/* True if the bytes are valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
bool ew__ws_utf8_valid(const uint8_t *s, size_t len);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)); out gets 28 chars + NUL.
 * Returns false when the key is not the base64 form of 16 bytes. */
bool ew__ws_accept_key(const char *key, size_t key_len, char out[29]);

#endif /* EW_NET_WS_H */
