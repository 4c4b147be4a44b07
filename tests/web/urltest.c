/*
 * urltest.c — the WHATWG URL parser (lib/web/url_parse.c) from the command line, for the web-platform-tests
 * runner tests/e2e/test_url_wpt.py. It reads one case per line on stdin, every string hex-encoded UTF-8 so
 * that no escaping is needed, and answers one line per case:
 *
 *   P <input> <base or ->             parse (with a base when given)
 *   S <href> <setter> <value>         parse href, apply the setter (protocol, username, ..., hash)
 *
 * "=" stands for the empty string. The answer is FAIL, or the getters href origin protocol username password host hostname port pathname
 * search hash separated by tabs (all ASCII: a URL's serialization always is).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/url.h"

static size_t unhex(const char *s, size_t n, char *out)
{
    size_t o = 0;
    if (strcmp(s, "=") == 0)
        return 0; /* the empty string */
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned v;
        if (sscanf(s + i, "%2x", &v) != 1)
            break;
        out[o++] = (char) v;
    }
    return o;
}

static void print_url(const ew__url_t *u)
{
    static const ew__url_part_t parts[] = {EW__URL_PROTOCOL, EW__URL_USERNAME, EW__URL_PASSWORD, EW__URL_HOST,
                                           EW__URL_HOSTNAME, EW__URL_PORT,     EW__URL_PATHNAME, EW__URL_SEARCH,
                                           EW__URL_HASH};
    ew__buf_t origin;
    ew__buf_init(&origin);
    ew__url_origin(u, &origin);
    printf("%.*s\t%.*s", (int) u->len, u->href, (int) origin.len, origin.data ? origin.data : "");
    ew__buf_dispose(&origin);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        uint32_t b, n;
        ew__url_get(u, parts[i], &b, &n);
        printf("\t%.*s", (int) n, u->href + b);
    }
    printf("\n");
}

static const struct {
    const char *name;
    ew__url_part_t part;
} setters[] = {
    {"protocol", EW__URL_PROTOCOL}, {"username", EW__URL_USERNAME}, {"password", EW__URL_PASSWORD},
    {"host", EW__URL_HOST},         {"hostname", EW__URL_HOSTNAME}, {"port", EW__URL_PORT},
    {"pathname", EW__URL_PATHNAME}, {"search", EW__URL_SEARCH},     {"hash", EW__URL_HASH},
};

int main(void)
{
    static char line[1 << 20], a[1 << 19], b[1 << 19];
    while (fgets(line, sizeof(line), stdin) != NULL) {
        char *f[4] = {0};
        int nf = 0;
        for (char *tok = strtok(line, " \n"); tok != NULL && nf < 4; tok = strtok(NULL, " \n"))
            f[nf++] = tok;
        ew__url_t url, base;
        bool ok = false;
        if (nf >= 3 && f[0][0] == 'P') {
            size_t an = unhex(f[1], strlen(f[1]), a), bn = unhex(f[2], strlen(f[2]), b);
            bool has_base = strcmp(f[2], "-") != 0;
            if (!has_base || ew__url_parse(b, bn, NULL, &base)) {
                ok = ew__url_parse(a, an, has_base ? &base : NULL, &url);
                if (has_base)
                    ew__url_dispose(&base);
            }
        } else if (nf >= 3 && f[0][0] == 'S') {
            size_t an = unhex(f[1], strlen(f[1]), a), bn = nf > 3 ? unhex(f[3], strlen(f[3]), b) : 0;
            ok = ew__url_parse(a, an, NULL, &url);
            if (ok && strcmp(f[2], "href") == 0) {
                ew__url_t next;
                if (ew__url_parse(b, bn, NULL, &next)) {
                    ew__url_dispose(&url);
                    url = next;
                }
            }
            for (size_t i = 0; ok && i < sizeof(setters) / sizeof(setters[0]); i++) {
                if (strcmp(setters[i].name, f[2]) == 0)
                    ok = ew__url_set(&url, setters[i].part, b, bn);
            }
        }
        if (ok) {
            print_url(&url);
            ew__url_dispose(&url);
        } else {
            printf("FAIL\n");
        }
        fflush(stdout);
    }
    return 0;
}
