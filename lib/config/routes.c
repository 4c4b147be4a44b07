/*
 * routes.c — wrangler's route patterns ("example.com/" then '*', "*.example.com/api/" then '*', a custom domain) parsed and
 * matched against a request's URL, the way `wrangler dev` (Miniflare) picks the Worker of a request when one
 * server runs several. wrangler.c parses each route of a configuration through here (so a bad pattern is a
 * configuration error with its position); ew-server (server/project.c, serve.c) matches requests.
 *
 * Rules (Cloudflare's route patterns):
 *   [scheme://]host[/path]   scheme optional (http or https); no query string; no port needed
 *   a leading '*' in host     the host must end with the rest ("*example.com" matches example.com and any
 *                             subdomain; "*.example.com" subdomains only)
 *   a trailing '*' in path    the path must start with the rest; otherwise it must be equal
 *   '*' anywhere else         an error (Cloudflare has no infix wildcards)
 *   custom_domain = true      the pattern is a host name only, and every path of it matches
 * When several routes match, the most specific wins (more host labels first, then more path segments, a
 * wildcard costing two), then the one listed first.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wrangler.h"

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char) (*s - 'A' + 'a');
}

static size_t count(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

bool ew__route_parse(const char *pattern, bool custom_domain, ew__route_t *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    const char *p = pattern;
    if (pattern == NULL || *pattern == '\0') {
        snprintf(why, why_len, "a route pattern must not be empty");
        return false;
    }
    if (strchr(p, '?') != NULL || strchr(p, '#') != NULL) {
        snprintf(why, why_len, "route \"%.200s\" must not contain a query string or fragment", pattern);
        return false;
    }
    const char *sep = strstr(p, "://");
    if (sep != NULL) {
        size_t n = (size_t) (sep - p);
        if (!((n == 4 && strncasecmp(p, "http", 4) == 0) || (n == 5 && strncasecmp(p, "https", 5) == 0))) {
            snprintf(why, why_len, "route \"%.200s\": the scheme must be http or https", pattern);
            return false;
        }
        memcpy(out->scheme, p, n);
        out->scheme[n] = '\0';
        lower(out->scheme);
        p = sep + 3;
    }
    size_t hlen = strcspn(p, "/");
    const char *path = p + hlen;
    if (custom_domain && (*path != '\0' || strchr(p, '*') != NULL)) {
        snprintf(why, why_len, "custom domain \"%.200s\" must be a host name only (no path or wildcard)", pattern);
        return false;
    }
    if (*p == '*') {
        out->host_prefix = true;
        p++;
        hlen--;
    }
    size_t port = 0; /* ":8787" after the host is ignored: routes match host names */
    for (size_t i = 0; i < hlen; i++)
        if (p[i] == ':') {
            port = hlen - i;
            break;
        }
    if (hlen - port == 0 && !out->host_prefix) {
        snprintf(why, why_len, "route \"%.200s\" has no host name", pattern);
        return false;
    }
    if (hlen - port >= sizeof(out->host) || strlen(path) >= sizeof(out->path)) {
        snprintf(why, why_len, "route \"%.200s\" is too long", pattern);
        return false;
    }
    memcpy(out->host, p, hlen - port);
    out->host[hlen - port] = '\0';
    lower(out->host);
    snprintf(out->path, sizeof(out->path), "%s", *path ? path : "/");
    size_t plen = strlen(out->path);
    if (custom_domain) {
        out->path_prefix = true; /* a custom domain takes every path */
    } else if (plen > 0 && out->path[plen - 1] == '*') {
        out->path_prefix = true;
        out->path[plen - 1] = '\0';
    }
    if (strchr(out->host, '*') != NULL || strchr(out->path, '*') != NULL) {
        snprintf(why, why_len, "route \"%.200s\": a wildcard '*' may only start the host or end the path",
                 pattern);
        return false;
    }
    /* Specificity: host labels and path segments, a wildcard label or segment counting two less (as
     * Miniflare ranks, after Cloudflare's routing table): "*.example.com" 1, "example.com" 2; the path "/"
     * with a wildcard 0, "/api" 2, "/api/" with a wildcard 1. */
    int host_score = (int) count(out->host, '.') + 1 - (out->host_prefix && out->host[0] == '.' ? 2 : 0);
    int path_score = (int) count(out->path, '/') + 1 - (out->path_prefix && !custom_domain ? 2 : 0);
    out->specificity = host_score * 26 + path_score;
    return true;
}

bool ew__route_match(const ew__route_t *r, const char *scheme, const char *host, size_t host_len, const char *path,
                     size_t path_len)
{
    if (r->scheme[0] != '\0' && strcasecmp(r->scheme, scheme) != 0)
        return false;
    size_t rh = strlen(r->host);
    if (r->host_prefix ? host_len < rh : host_len != rh)
        return false;
    if (strncasecmp(host + host_len - rh, r->host, rh) != 0)
        return false;
    size_t rp = strlen(r->path);
    if (r->path_prefix ? path_len < rp : path_len != rp)
        return false;
    return memcmp(path, r->path, rp) == 0;
}

bool ew__route_split_url(const char *url, char *scheme, size_t scheme_cap, const char **host, size_t *host_len,
                         const char **path, size_t *path_len)
{
    const char *sep = strstr(url, "://");
    if (sep == NULL || (size_t) (sep - url) >= scheme_cap)
        return false;
    memcpy(scheme, url, (size_t) (sep - url));
    scheme[sep - url] = '\0';
    const char *h = sep + 3;
    size_t authority = strcspn(h, "/?#");
    const char *at = memchr(h, '@', authority); /* userinfo is not part of the host */
    if (at != NULL) {
        authority -= (size_t) (at + 1 - h);
        h = at + 1;
    }
    size_t hl = authority;
    if (hl > 0 && h[0] == '[') { /* an IPv6 literal keeps its colons */
        const char *close = memchr(h, ']', authority);
        hl = close != NULL ? (size_t) (close + 1 - h) : authority;
    } else {
        const char *colon = memchr(h, ':', authority);
        if (colon != NULL)
            hl = (size_t) (colon - h);
    }
    *host = h;
    *host_len = hl;
    const char *p = h + authority;
    if (*p == '/') {
        *path = p;
        *path_len = strcspn(p, "?#");
    } else {
        *path = "/";
        *path_len = 1;
    }
    return true;
}
