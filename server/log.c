/*
 * log.c — the two output formats of ew-server (log.h). JSON lines carry an RFC 3339 UTC time with
 * milliseconds and escape strings per RFC 8259 (control characters as \u00XX; bytes >= 0x80 are copied,
 * since the library hands out UTF-8). Lines go to stdout, which serve.c flushes ten times a second.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static bool json_format;

bool srv_log_set_format(const char *name)
{
    if (strcmp(name, "json") == 0)
        json_format = true;
    else if (strcmp(name, "pretty") == 0)
        json_format = false;
    else
        return false;
    return true;
}

bool srv_log_json(void)
{
    return json_format;
}

static void put_time(FILE *f)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "{\"time\":\"%s.%03ldZ\"", buf, ts.tv_nsec / 1000000);
}

static void put_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static const char *level_name(ew_log_level_t level)
{
    return level == EW_LOG_DEBUG ? "debug" : level == EW_LOG_WARN ? "warn" : level == EW_LOG_ERROR ? "error" : "info";
}

void srv_log_request_json(const char *method, const char *path, int status, double ms, const char *protocol)
{
    flockfile(stdout);
    put_time(stdout);
    fputs(",\"level\":\"info\",\"type\":\"request\",\"method\":", stdout);
    put_string(stdout, method, strlen(method));
    fputs(",\"path\":", stdout);
    put_string(stdout, path, strlen(path));
    fprintf(stdout, ",\"status\":%d,\"ms\":%.1f,\"protocol\":\"%s\"}\n", status, ms, protocol);
    funlockfile(stdout);
}

void srv_log_message(ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    if (!json_format) {
        FILE *f = level >= EW_LOG_WARN ? stderr : stdout;
        if (worker[0])
            fprintf(f, "[%s] %.*s\n", worker, (int) len, msg);
        else
            fprintf(f, "%.*s\n", (int) len, msg);
        return;
    }
    flockfile(stdout);
    put_time(stdout);
    fprintf(stdout, ",\"level\":\"%s\",\"worker\":", level_name(level));
    put_string(stdout, worker, strlen(worker));
    fputs(",\"message\":", stdout);
    put_string(stdout, msg, len);
    fputs("}\n", stdout);
    funlockfile(stdout);
}
