/*
 * assets.c — a Worker's static assets: the folder of [assets] served the way Cloudflare serves it.
 *
 * Resolution of a request path P (percent-decoded, dot segments refused):
 *   1. the HTML files P can mean (P.html, P/index.html, P itself when it ends in .html, …): one whose
 *      canonical URL under html_handling is P is served;
 *   2. a file at P that is not HTML (or any file under html_handling "none") is served;
 *   3. an HTML file P can mean whose canonical URL leads back to the same file: 307 to that URL (the query
 *      kept) — "safe" redirects only, so two files can never send a client round in circles;
 *   4. otherwise not_found_handling: the nearest 404.html (404), /index.html (200), or nothing (the Worker).
 * Canonical URLs: auto-trailing-slash /file and /folder/, force /file/ and /folder/, drop /file and /folder,
 * none the file's own path. Answers carry ETag (size and mtime), Last-Modified, and honour If-None-Match,
 * If-Modified-Since and a single byte Range.
 *
 * The files are read per request: nothing is cached, so edits show at once (as with wrangler dev).
 */
#include <errno.h>
#include <stdarg.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "web/internal.h"
#include "web/url.h"

#define ASSET_MAX_BYTES (25u << 20) /* Cloudflare's limit per asset */
#define ASSETS_KEY DUK_HIDDEN_SYMBOL("assets")

typedef struct queued {
    ew_response_t *resp;          /* owned until delivered */
    ew_response_fn cb;
    void *udata;
    struct queued *next;
} queued_t;

struct ew__assets {
    char *dir;                    /* owned, no trailing '/' */
    char *binding;                /* owned, NULL = no binding */
    ew_html_handling_t html;
    ew_not_found_handling_t not_found;
    bool worker_first;
    struct event *deliver_ev;     /* owned: hands queued answers to their callbacks */
    queued_t *head, *tail;        /* owned queue */
};

/* What a request asks of the folder (copies: request header values are not NUL-terminated). */
typedef struct asset_req {
    char path[PATH_MAX];          /* decoded pathname, starts with '/' */
    char query[2048];             /* "?a=b" or "" */
    bool head;
    bool has_inm, has_ims, has_range;
    char inm[1024], ims[64], range[64]; /* If-None-Match, If-Modified-Since, Range */
} asset_req_t;

/* A file found for a path. */
typedef struct found {
    char rel[PATH_MAX];           /* path inside the folder, starting with '/' */
    struct stat st;
} found_t;

/* ---------------------------------------------------------------------------------------------------------
 * Configuration
 */

static void on_deliver(evutil_socket_t fd, short what, void *arg);

ew_status_t ew__assets_new(const ew_assets_t *cfg, struct event_base *base, ew__assets_t **out, ew_error_t *err)
{
    *out = NULL;
    if (cfg == NULL)
        return EW_OK;
    if (cfg->directory == NULL || cfg->directory[0] == '\0')
        return ew__error_set(err, EW_ERR_INVALID_ARG, "assets: the directory is required");
    if ((unsigned) cfg->html_handling > EW_HTML_NONE)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "assets: unknown html_handling %d", (int) cfg->html_handling);
    if ((unsigned) cfg->not_found_handling > EW_NOT_FOUND_SPA)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "assets: unknown not_found_handling %d",
                             (int) cfg->not_found_handling);
    if (cfg->binding != NULL && cfg->binding[0] == '\0')
        return ew__error_set(err, EW_ERR_INVALID_ARG, "assets: the binding name is empty");
    struct stat st;
    if (stat(cfg->directory, &st) != 0)
        return ew__error_set(err, EW_ERR_IO, "assets: %s: %s", cfg->directory, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return ew__error_set(err, EW_ERR_INVALID_ARG, "assets: %s is not a folder", cfg->directory);
    ew__assets_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    a->dir = strdup(cfg->directory);
    a->binding = cfg->binding ? strdup(cfg->binding) : NULL;
    a->html = cfg->html_handling;
    a->not_found = cfg->not_found_handling;
    a->worker_first = cfg->run_worker_first != 0;
    if (a->dir == NULL || (cfg->binding && a->binding == NULL)) {
        ew__assets_free(a);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    }
    size_t n = strlen(a->dir);
    while (n > 1 && a->dir[n - 1] == '/')
        a->dir[--n] = '\0';
    if ((a->deliver_ev = event_new(base, -1, 0, on_deliver, a)) == NULL) {
        ew__assets_free(a);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    }
    *out = a;
    return EW_OK;
}

static void deliver_all(ew__assets_t *a)
{
    while (a->head != NULL) {
        queued_t *q = a->head;
        a->head = q->next;
        if (a->head == NULL)
            a->tail = NULL;
        q->cb(q->udata, q->resp, NULL);
        free(q);
    }
}

void ew__assets_free(ew__assets_t *a)
{
    if (a == NULL)
        return;
    deliver_all(a);
    if (a->deliver_ev != NULL)
        event_free(a->deliver_ev);
    free(a->dir);
    free(a->binding);
    free(a);
}

/* ---------------------------------------------------------------------------------------------------------
 * Resolution
 */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Looks up rel (a path inside the folder) as a regular file. */
static bool file_exists(const ew__assets_t *a, const char *rel, found_t *f)
{
    if (strcmp(rel, "/_headers") == 0 || strcmp(rel, "/_redirects") == 0 || strcmp(rel, "/.assetsignore") == 0)
        return false;
    char full[PATH_MAX * 2];
    if ((size_t) snprintf(full, sizeof(full), "%s%s", a->dir, rel) >= sizeof(full))
        return false;
    struct stat st;
    if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    if (f != NULL) {
        snprintf(f->rel, sizeof(f->rel), "%s", rel);
        f->st = st;
    }
    return true;
}

/* The canonical URL of an HTML file under the worker's html_handling, written to out. */
static void canonical(const ew__assets_t *a, const char *rel, char *out, size_t cap)
{
    size_t n = strlen(rel);
    bool index = ends_with(rel, n, "/index.html");
    switch (a->html) {
    case EW_HTML_AUTO_TRAILING_SLASH:
        snprintf(out, cap, "%.*s", (int) (n - (index ? 10 : 5)), rel);
        return;
    case EW_HTML_FORCE_TRAILING_SLASH:
        snprintf(out, cap, index ? "%.*s" : "%.*s/", (int) (n - (index ? 10 : 5)), rel);
        return;
    case EW_HTML_DROP_TRAILING_SLASH:
        if (index && n == 11)
            snprintf(out, cap, "/");
        else
            snprintf(out, cap, "%.*s", (int) (n - (index ? 11 : 5)), rel);
        return;
    case EW_HTML_NONE:
        break;
    }
    snprintf(out, cap, "%s", rel);
}

/* The HTML files path p can mean, most specific first. Returns how many (at most 3). */
static int candidates(const char *p, char out[3][PATH_MAX])
{
    size_t n = strlen(p);
    int k = 0;
#define CAND(...) (void) (snprintf(out[k], PATH_MAX, __VA_ARGS__) < PATH_MAX ? k++ : k)
    if (ends_with(p, n, "/index.html")) {
        CAND("%s", p);
        CAND("%.*s.html", (int) (n - 11), p);
    } else if (ends_with(p, n, ".html")) {
        CAND("%s", p);
        CAND("%.*s/index.html", (int) (n - 5), p);
    } else if (ends_with(p, n, "/index")) {
        CAND("%s.html", p);
        CAND("%.*s.html", (int) (n - 6), p);
    } else if (p[n - 1] == '/') {
        CAND("%sindex.html", p);
        if (n > 1)
            CAND("%.*s.html", (int) (n - 1), p);
    } else {
        CAND("%s.html", p);
        CAND("%s/index.html", p);
    }
#undef CAND
    return k;
}

/* Steps 1 and 2: the file served at p without redirects, if any. */
static bool serve_at(const ew__assets_t *a, const char *p, found_t *f)
{
    char cand[3][PATH_MAX], canon[PATH_MAX];
    int k = candidates(p, cand);
    for (int i = 0; i < k; i++) {
        canonical(a, cand[i], canon, sizeof(canon));
        if (strcmp(canon, p) == 0 && file_exists(a, cand[i], f))
            return true;
    }
    size_t n = strlen(p);
    if ((a->html == EW_HTML_NONE || !ends_with(p, n, ".html")) && p[n - 1] != '/')
        return file_exists(a, p, f);
    return false;
}

typedef enum { R_NONE, R_FILE, R_REDIRECT } resolved_kind_t;

static resolved_kind_t resolve(const ew__assets_t *a, const char *p, found_t *f, char *location, size_t cap)
{
    if (serve_at(a, p, f))
        return R_FILE;
    if (a->html == EW_HTML_NONE)
        return R_NONE; /* exact paths only: nothing to redirect to */
    char cand[3][PATH_MAX], canon[PATH_MAX];
    int k = candidates(p, cand);
    for (int i = 0; i < k; i++) {
        found_t target, back;
        if (!file_exists(a, cand[i], &target))
            continue;
        canonical(a, cand[i], canon, sizeof(canon));
        if (strcmp(canon, p) != 0 && serve_at(a, canon, &back) && strcmp(back.rel, target.rel) == 0) {
            snprintf(location, cap, "%s", canon);
            return R_REDIRECT;
        }
    }
    return R_NONE;
}

/* Step 4. true with f set (and *status) when the not-found handling names a file. */
static bool not_found_file(const ew__assets_t *a, const char *p, found_t *f, int *status)
{
    if (a->not_found == EW_NOT_FOUND_SPA) {
        *status = 200;
        return file_exists(a, "/index.html", f);
    }
    if (a->not_found == EW_NOT_FOUND_404_PAGE) {
        char dir[PATH_MAX], try[PATH_MAX + 16];
        snprintf(dir, sizeof(dir), "%s", p);
        char *slash;
        while ((slash = strrchr(dir, '/')) != NULL) {
            *slash = '\0';
            snprintf(try, sizeof(try), "%s/404.html", dir);
            if (file_exists(a, try, f)) {
                *status = 404;
                return true;
            }
        }
    }
    return false;
}

/* ---------------------------------------------------------------------------------------------------------
 * Answers
 */

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"}, {"js", "application/javascript"}, {"mjs", "application/javascript"},
    {"json", "application/json"}, {"map", "application/json"}, {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"}, {"xml", "application/xml"},
    {"svg", "image/svg+xml"}, {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
    {"gif", "image/gif"}, {"webp", "image/webp"}, {"avif", "image/avif"}, {"ico", "image/x-icon"},
    {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"ttf", "font/ttf"}, {"otf", "font/otf"},
    {"wasm", "application/wasm"}, {"pdf", "application/pdf"}, {"zip", "application/zip"},
    {"mp4", "video/mp4"}, {"webm", "video/webm"}, {"mp3", "audio/mpeg"}, {"wav", "audio/wav"},
    {"webmanifest", "application/manifest+json"},
};

static const char *content_type(const char *rel)
{
    const char *dot = strrchr(rel, '.');
    if (dot != NULL && strchr(dot, '/') == NULL) {
        for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++) {
            if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
                return mime_types[i].type;
        }
    }
    return "application/octet-stream";
}

typedef struct header_list {
    const char *name[8];
    char value[8][160];
    size_t n;
} header_list_t;

static void add_header(header_list_t *h, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_header(header_list_t *h, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    h->name[h->n] = name;
    vsnprintf(h->value[h->n], sizeof(h->value[0]), fmt, ap);
    va_end(ap);
    h->n++;
}

/* Builds the response; takes `body` (malloc'd, may be NULL when len is 0). NULL on OOM (body freed). */
static ew_response_t *make(int status, const header_list_t *h, char *body, size_t len)
{
    size_t strings = 1;
    for (size_t i = 0; i < h->n; i++)
        strings += strlen(h->name[i]) + 1 + strlen(h->value[i]) + 1;
    char *area;
    ew_response_t *r = ew__response_alloc(h->n, strings, 0, &area);
    if (r == NULL) {
        free(body);
        return NULL;
    }
    r->status = status;
    r->outcome = EW_OK;
    r->status_text = ew__response_put_string(&area, "", 0);
    for (size_t i = 0; i < h->n; i++) {
        r->headers[i].name_len = strlen(h->name[i]);
        r->headers[i].name = ew__response_put_string(&area, h->name[i], r->headers[i].name_len);
        r->headers[i].value_len = strlen(h->value[i]);
        r->headers[i].value = ew__response_put_string(&area, h->value[i], r->headers[i].value_len);
    }
    if (body != NULL) {
        free(r->body);
        r->body = (uint8_t *) body;
        r->body_len = len;
    }
    return r;
}

static ew_response_t *make_text(int status, const char *text)
{
    header_list_t h = {.n = 0};
    add_header(&h, "content-type", "text/plain; charset=utf-8");
    size_t len = strlen(text);
    char *body = malloc(len + 1);
    if (body == NULL)
        return NULL;
    memcpy(body, text, len + 1);
    return make(status, &h, body, len);
}

static void http_date(time_t t, char *out, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static time_t parse_http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != '\0')
        return (time_t) -1;
    return timegm(&tm);
}

/* True if the If-None-Match list names etag (or is "*"); weak comparison, as for GET. */
static bool etag_listed(const char *list, const char *etag)
{
    size_t elen = strlen(etag);
    for (const char *p = list; *p != '\0';) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *e = p;
        while (*e != '\0' && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t) (t - p) == elen && memcmp(p, etag, elen) == 0)
            return true;
        p = e;
    }
    return false;
}

/* Parses "bytes=a-b", "bytes=a-", "bytes=-n" against size. 1: range set; 0: ignore the header (not a single
 * byte range); -1: unsatisfiable. */
static int parse_range(const char *s, uint64_t size, uint64_t *from, uint64_t *to)
{
    if (strncmp(s, "bytes=", 6) != 0 || strchr(s, ',') != NULL)
        return 0;
    s += 6;
    char *end;
    if (*s == '-') {
        errno = 0;
        unsigned long long n = strtoull(s + 1, &end, 10);
        if (end == s + 1 || *end != '\0' || errno != 0)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    unsigned long long a = strtoull(s, &end, 10);
    if (*end != '-' || errno != 0)
        return 0;
    const char *b = end + 1;
    unsigned long long z = size ? size - 1 : 0;
    if (*b != '\0') {
        z = strtoull(b, &end, 10);
        if (end == b || *end != '\0' || errno != 0 || z < a)
            return 0;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = z >= size ? size - 1 : z;
    return 1;
}

static ew_response_t *serve_file(const ew__assets_t *a, const asset_req_t *r, const found_t *f, int status)
{
    header_list_t h = {.n = 0};
    char etag[64], date[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"", (unsigned long long) f->st.st_size,
             (unsigned long long) f->st.st_mtim.tv_sec, (unsigned long) f->st.st_mtim.tv_nsec);
    http_date(f->st.st_mtim.tv_sec, date, sizeof(date));
    add_header(&h, "content-type", "%s", content_type(f->rel));
    add_header(&h, "etag", "%s", etag);
    add_header(&h, "last-modified", "%s", date);
    add_header(&h, "cache-control", "public, max-age=0, must-revalidate");
    if (status == 200) {
        bool fresh = false;
        if (r->has_inm) {
            fresh = etag_listed(r->inm, etag);
        } else if (r->has_ims) {
            time_t since = parse_http_date(r->ims);
            fresh = since != (time_t) -1 && f->st.st_mtim.tv_sec <= since;
        }
        if (fresh)
            return make(304, &h, NULL, 0);
    }
    uint64_t size = (uint64_t) f->st.st_size, from = 0, to = size ? size - 1 : 0;
    int ranged = status == 200 && r->has_range ? parse_range(r->range, size, &from, &to) : 0;
    add_header(&h, "accept-ranges", "bytes");
    if (ranged < 0) {
        add_header(&h, "content-range", "bytes */%llu", (unsigned long long) size);
        return make(416, &h, NULL, 0);
    }
    if (size > ASSET_MAX_BYTES)
        return make_text(500, "asset larger than 25 MiB\n");
    size_t want = size == 0 ? 0 : (size_t) (to - from + 1);
    char full[PATH_MAX * 2];
    snprintf(full, sizeof(full), "%s%s", a->dir, f->rel);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return make_text(500, "asset could not be read\n");
    char *body = malloc(want + 1);
    size_t got = 0;
    while (body != NULL && got < want) {
        ssize_t k = pread(fd, body + got, want - got, (off_t) (from + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t) k;
    }
    close(fd);
    if (body == NULL)
        return NULL;
    if (got != want) {
        free(body);
        return make_text(500, "asset changed while being read\n");
    }
    body[got] = '\0'; /* ew_response_t bodies are NUL-terminated */
    if (ranged > 0) {
        add_header(&h, "content-range", "bytes %llu-%llu/%llu", (unsigned long long) from,
                   (unsigned long long) to, (unsigned long long) size);
        status = 206;
    }
    return make(status, &h, body, got);
}

/* The answer for r, or NULL when the folder has nothing for it (the Worker takes it); *oom on OOM. */
static ew_response_t *answer(const ew__assets_t *a, const asset_req_t *r, bool *handled)
{
    found_t f;
    char location[PATH_MAX];
    *handled = true;
    switch (resolve(a, r->path, &f, location, sizeof(location))) {
    case R_FILE:
        return serve_file(a, r, &f, 200);
    case R_REDIRECT: {
        header_list_t h = {.n = 0};
        /* Location: the canonical path, percent-encoded as a path, with the query kept. */
        ew__buf_t enc = {0};
        static const char hex[] = "0123456789ABCDEF";
        for (const unsigned char *p = (const unsigned char *) location; *p != '\0'; p++) {
            char tmp[3] = {(char) *p, 0, 0};
            size_t k = 1;
            if (*p <= 0x20 || *p >= 0x7f || *p == '%' || *p == '?' || *p == '#' || *p == '"')
                tmp[0] = '%', tmp[1] = hex[*p >> 4], tmp[2] = hex[*p & 15], k = 3;
            if (!ew__buf_append(&enc, tmp, k)) {
                free(enc.data);
                return NULL;
            }
        }
        if (!ew__buf_append(&enc, r->query, strlen(r->query)) || !ew__buf_append(&enc, "", 1)) {
            free(enc.data);
            return NULL;
        }
        h.name[h.n] = "location";
        snprintf(h.value[h.n], sizeof(h.value[0]), "%s", (const char *) enc.data);
        h.n++;
        bool fits = strlen((const char *) enc.data) < sizeof(h.value[0]);
        free(enc.data);
        if (!fits)
            return make_text(414, "redirect location too long\n");
        return make(307, &h, NULL, 0);
    }
    case R_NONE:
        break;
    }
    int status = 404;
    if (not_found_file(a, r->path, &f, &status))
        return serve_file(a, r, &f, status);
    *handled = false;
    return NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 32;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies a header value into a fixed buffer; false when it does not fit (then it is treated as absent). */
static bool copy_value(char *dst, size_t cap, const char *v, size_t len)
{
    if (len >= cap)
        return false;
    memcpy(dst, v, len);
    dst[len] = '\0';
    return true;
}

/* Fills r from a request's URL (absolute), method and headers. False: not something the folder answers
 * (another method, or a path that decodes to something outside it). */
static bool read_request(const char *url, size_t url_len, const char *method, const ew_header_t *headers,
                         size_t nheaders, asset_req_t *r)
{
    memset(r, 0, sizeof(*r));
    r->head = strcmp(method, "HEAD") == 0;
    if (!r->head && strcmp(method, "GET") != 0)
        return false;
    ew__url_t u;
    if (!ew__url_parse(url, url_len, NULL, &u))
        return false;
    uint32_t ps, pl, qs, ql;
    ew__url_get(&u, EW__URL_PATHNAME, &ps, &pl);
    ew__url_get(&u, EW__URL_SEARCH, &qs, &ql);
    const char *path = u.href + ps;
    bool ok = pl > 0 && path[0] == '/' && copy_value(r->query, sizeof(r->query), u.href + qs, ql);
    size_t o = 0;
    for (uint32_t i = 0; ok && i < pl; i++) {
        char c = path[i];
        if (c == '%' && i + 2 < pl && hexval(path[i + 1]) >= 0 && hexval(path[i + 2]) >= 0) {
            c = (char) (hexval(path[i + 1]) * 16 + hexval(path[i + 2]));
            i += 2;
        }
        if (c == '\0' || o + 1 >= sizeof(r->path))
            ok = false;
        else
            r->path[o++] = c;
    }
    r->path[o] = '\0';
    ew__url_dispose(&u);
    /* The URL parser removed "." and ".." segments; decoding may have made new ones ("%2e%2e%2f"). */
    for (const char *p = r->path; ok && (p = strstr(p, "/.")) != NULL; p++) {
        if (p[2] == '/' || p[2] == '\0' || (p[2] == '.' && (p[3] == '/' || p[3] == '\0')))
            ok = false;
    }
    if (!ok)
        return false;
    for (size_t i = 0; i < nheaders; i++) {
        const ew_header_t *hd = &headers[i];
        if (hd->name_len == 13 && strncasecmp(hd->name, "if-none-match", 13) == 0)
            r->has_inm = copy_value(r->inm, sizeof(r->inm), hd->value, hd->value_len);
        else if (hd->name_len == 17 && strncasecmp(hd->name, "if-modified-since", 17) == 0)
            r->has_ims = copy_value(r->ims, sizeof(r->ims), hd->value, hd->value_len);
        else if (hd->name_len == 5 && strncasecmp(hd->name, "range", 5) == 0)
            r->has_range = copy_value(r->range, sizeof(r->range), hd->value, hd->value_len);
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Serving before the Worker (ew_worker_fetch)
 */

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    deliver_all(arg);
}

ew_response_t *ew__assets_fetch_now(ew__assets_t *a, const ew_request_t *req)
{
    asset_req_t r;
    if (a == NULL || a->worker_first ||
        !read_request(req->url, strlen(req->url), req->method, req->headers, req->nheaders, &r))
        return NULL;
    bool handled;
    ew_response_t *resp = answer(a, &r, &handled);
    if (handled && resp == NULL)
        resp = ew__response_make(500, "text/plain; charset=utf-8", "out of memory\n", 14, EW_ERR_NOMEM);
    return resp;
}

bool ew__assets_fetch(ew__assets_t *a, const ew_request_t *req, ew_response_fn cb, void *udata)
{
    ew_response_t *resp = ew__assets_fetch_now(a, req);
    if (resp == NULL)
        return false;
    queued_t *q = malloc(sizeof(*q));
    if (q == NULL) {
        ew_response_destroy(resp);
        return false; /* the Worker takes it after all */
    }
    *q = (queued_t){resp, cb, udata, NULL};
    if (a->tail != NULL)
        a->tail->next = q;
    else
        a->head = q;
    a->tail = q;
    event_active(a->deliver_ev, 0, 0);
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * env.ASSETS.fetch(input[, init]) -> Promise<Response>
 */

/* Pushes input.headers.get(name) as a string, or undefined when absent. */
static void push_header(duk_context *ctx, duk_idx_t req_idx, const char *name)
{
    duk_get_prop_literal(ctx, req_idx, "headers");
    if (!duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        duk_push_undefined(ctx);
        return;
    }
    duk_push_literal(ctx, "get");
    duk_push_string(ctx, name);
    duk_call_prop(ctx, -3, 1);
    duk_remove(ctx, -2);
    if (duk_is_null(ctx, -1)) {
        duk_pop(ctx);
        duk_push_undefined(ctx);
    }
}

/* Pushes a JS Response made from r (which the caller still owns). */
static void push_js_response(duk_context *ctx, const ew_response_t *r, bool head)
{
    ew__web_push_proto(ctx, EW__PROTO_RESPONSE);
    duk_get_prop_literal(ctx, -1, "constructor");
    duk_remove(ctx, -2);
    bool null_body = head || r->status == 304 || r->status == 204 || (r->status == 307 && r->body_len == 0);
    if (null_body) {
        duk_push_null(ctx);
    } else {
        void *p = duk_push_fixed_buffer(ctx, r->body_len);
        if (r->body_len > 0)
            memcpy(p, r->body, r->body_len);
        duk_push_buffer_object(ctx, -1, 0, r->body_len, DUK_BUFOBJ_UINT8ARRAY);
        duk_remove(ctx, -2);
    }
    duk_push_object(ctx);
    duk_push_int(ctx, r->status);
    duk_put_prop_literal(ctx, -2, "status");
    duk_push_array(ctx);
    for (size_t i = 0; i < r->nheaders; i++) {
        duk_push_array(ctx);
        duk_push_lstring(ctx, r->headers[i].name, r->headers[i].name_len);
        duk_put_prop_index(ctx, -2, 0);
        duk_push_lstring(ctx, r->headers[i].value, r->headers[i].value_len);
        duk_put_prop_index(ctx, -2, 1);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t) i);
    }
    duk_put_prop_literal(ctx, -2, "headers");
    duk_new(ctx, 2);
}

/* Safe-call body: [head] -> [promise of the Response made from udata (an ew_response_t)]. */
static duk_ret_t build_response(duk_context *ctx, void *udata)
{
    bool head = duk_get_boolean(ctx, -1);
    duk_pop(ctx);
    push_js_response(ctx, udata, head);
    ew__promise_push_resolved(ctx);
    return 1;
}

static duk_ret_t assets_fetch(duk_context *ctx)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, ASSETS_KEY);
    ew__assets_t *a = duk_get_pointer(ctx, -1);
    duk_pop_2(ctx);
    if (a == NULL)
        return duk_type_error(ctx, "Illegal invocation");
    /* input: a URL string (or URL object), or a Request; init.method may override the method. Every string
     * used below stays on the value stack for the whole call. */
    const char *method = "GET";
    ew_header_t headers[3];
    size_t nheaders = 0;
    duk_idx_t url_idx = 0;
    if (duk_is_object(ctx, 0) && duk_has_prop_literal(ctx, 0, "method") && duk_has_prop_literal(ctx, 0, "url")) {
        duk_get_prop_literal(ctx, 0, "url");
        url_idx = duk_get_top_index(ctx);
        duk_get_prop_literal(ctx, 0, "method");
        method = duk_to_string(ctx, -1);
        static const char *const names[] = {"if-none-match", "if-modified-since", "range"};
        for (size_t i = 0; i < 3; i++) {
            push_header(ctx, 0, names[i]);
            if (!duk_is_undefined(ctx, -1)) {
                size_t len;
                const char *v = ew__to_utf8(ctx, -1, &len);
                headers[nheaders++] = (ew_header_t){names[i], strlen(names[i]), v, len};
            }
        }
    }
    if (duk_is_object(ctx, 1) && duk_has_prop_literal(ctx, 1, "method")) {
        duk_get_prop_literal(ctx, 1, "method");
        method = duk_to_string(ctx, -1);
    }
    size_t url_len;
    const char *url = ew__to_utf8(ctx, url_idx, &url_len);
    ew__url_t check;
    if (!ew__url_parse(url, url_len, NULL, &check))
        return duk_type_error(ctx, "Invalid URL: %s", url);
    ew__url_dispose(&check);
    asset_req_t r;
    ew_response_t *resp = NULL;
    if (read_request(url, url_len, method, headers, nheaders, &r)) {
        bool handled;
        resp = answer(a, &r, &handled);
        if (handled && resp == NULL)
            return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
    }
    if (resp == NULL) {
        bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
        resp = get ? make_text(404, "Not Found\n") : make_text(405, "Method Not Allowed\n");
        if (resp == NULL)
            return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
    }
    /* built in a safe call so that resp is freed even when Duktape throws (memory limit) */
    duk_push_boolean(ctx, r.head);
    int rc = duk_safe_call(ctx, build_response, resp, 1, 1);
    ew_response_destroy(resp);
    if (rc != DUK_EXEC_SUCCESS)
        return duk_throw(ctx);
    return 1;
}

void ew__assets_install(duk_context *ctx, ew__assets_t *a, duk_idx_t env_idx)
{
    if (a == NULL || a->binding == NULL)
        return;
    env_idx = duk_require_normalize_index(ctx, env_idx);
    duk_push_object(ctx);
    duk_push_pointer(ctx, a);
    duk_put_prop_literal(ctx, -2, ASSETS_KEY);
    duk_push_literal(ctx, "fetch");
    duk_push_c_function(ctx, assets_fetch, 2);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    /* service-worker scripts see their bindings as globals, as on Cloudflare */
    duk_dup_top(ctx);
    duk_put_global_string(ctx, a->binding);
    duk_put_prop_string(ctx, env_idx, a->binding);
}
