/*
 * server/selfsigned.h — the self-signed localhost certificate of `--local-protocol https` (selfsigned.c).
 */
#ifndef EW_SERVER_SELFSIGNED_H
#define EW_SERVER_SELFSIGNED_H

#include <stdbool.h>
#include <stddef.h>

/* Fills cert_path and key_path (cap bytes each) with STATE/tls/localhost.pem and localhost-key.pem, making
 * them first when missing, broken or about to expire. The state folder must exist. False with a message
 * printed on failure. */
bool srv_selfsigned_ensure(const char *state_dir, char *cert_path, char *key_path, size_t cap);

#endif
