/*
 * server/log.h — ew-server's output formats (log.c): `--log-format pretty` (the default: wrangler-like lines)
 * or `json` (one JSON object per line, for log collectors). The format is chosen once at start, before the
 * loop threads run, and only read afterwards.
 */
#ifndef EW_SERVER_LOG_H
#define EW_SERVER_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "edgeworker.h"

/* Selects the format; false for a name other than "pretty" or "json". Call before any thread starts. */
bool srv_log_set_format(const char *name);
bool srv_log_json(void);
/* One request, JSON form: {"time":…,"level":"info","type":"request","method":…,"path":…,"status":…,
 * "ms":…,"protocol":…}. The pretty form is written by http.c itself (its hot path). */
void srv_log_request_json(const char *method, const char *path, int status, double ms, const char *protocol);
/* A line from the library (Worker console output, runtime warnings): pretty "[worker] text" (stderr for
 * warnings and errors, stdout otherwise), or JSON {"time","level","worker","message"} on stdout. */
void srv_log_message(ew_log_level_t level, const char *worker, const char *msg, size_t len);

#endif
