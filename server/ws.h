/*
 * server/ws.h — ew-server's WebSocket connections (ws.c): the opening handshake's checks and answer, then
 * RFC 6455 frames (lib/net/ws.c) between the client socket and the Worker's end (the public ew_websocket_*
 * API), with back-pressure, ping/pong, the close handshake and timeouts. http.c hands a connection over
 * when the Worker answers an upgrade request with a 101.
 */
#ifndef EW_SERVER_WS_H
#define EW_SERVER_WS_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>

#include "edgeworker.h"

typedef struct srv_ws_group srv_ws_group_t;

typedef struct srv_ws_config {
    size_t max_message;          /* bytes of one message from a client; beyond: close 1009; 0 = 1 MiB */
    uint32_t write_timeout_ms;   /* no write progress for this long drops the connection; 0 = 30000 */
    uint32_t close_timeout_ms;   /* wait for the peer's close frame after ours; 0 = 5000 */
} srv_ws_config_t;

/* The upgraded connections of one listener. NULL on OOM. on_empty (may be NULL) runs when the last
 * connection of a draining group is gone. */
srv_ws_group_t *srv_ws_group_new(const srv_ws_config_t *cfg, void (*on_empty)(void *arg), void *arg);
/* Shutdown: every connection gets a close frame (1001 "server shutting down"), and its Worker end a
 * close event; connections go once the clients answer (or the close timeout passes). */
void srv_ws_group_drain(srv_ws_group_t *g);
/* Connections open now. */
uint32_t srv_ws_group_count(const srv_ws_group_t *g);
/* Drops every connection now and frees the group. NULL is ignored. */
void srv_ws_group_free(srv_ws_group_t *g);

/* Checks an upgrade request (RFC 6455 4.2.1): GET, "Upgrade: websocket", "Connection: upgrade",
 * Sec-WebSocket-Version 13 and a Sec-WebSocket-Key of 16 base64 bytes. Returns 0 and fills accept (the
 * Sec-WebSocket-Accept value), or the HTTP status to answer (400, or 426 for another version) with *why
 * set to a static text. `not_upgrade` is set when the request asked for no upgrade at all. */
int srv_ws_check_request(const char *method, const ew_header_t *hdrs, size_t nhdrs, char accept[29],
                         const char **why, bool *not_upgrade);

/* Takes the connection over: writes the 101 with `accept` and the Worker's response headers (hop-by-hop
 * ones left out), attaches resp->websocket, and serves frames until the connection ends. Takes ownership of
 * bev and resp in all cases; false when it could not (the connection is closed then). */
bool srv_ws_start(srv_ws_group_t *g, struct bufferevent *bev, ew_response_t *resp, const char *accept);

#endif
