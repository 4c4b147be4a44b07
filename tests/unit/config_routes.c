/*
 * Route patterns (lib/config/routes.c): parsing wrangler's patterns, matching hosts and paths the way
 * wrangler dev picks a Worker, the specificity order, URL splitting, and the patterns refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "config/wrangler.h"

static ew__route_t parse(const char *pattern, bool custom)
{
    ew__route_t r;
    char why[400];
    cr_assert(ew__route_parse(pattern, custom, &r, why, sizeof(why)), "%s: %s", pattern, why);
    return r;
}

static bool matches(const char *pattern, bool custom, const char *url)
{
    ew__route_t r = parse(pattern, custom);
    char scheme[16];
    const char *host, *path;
    size_t hl, pl;
    cr_assert(ew__route_split_url(url, scheme, sizeof(scheme), &host, &hl, &path, &pl), "%s", url);
    return ew__route_match(&r, scheme, host, hl, path, pl);
}

Test(config_routes, trailing_wildcard_matches_path_prefixes)
{
    cr_assert(matches("example.com/*", false, "http://example.com/"));
    cr_assert(matches("example.com/*", false, "http://example.com/a/b?q=1"));
    cr_assert(matches("example.com/api/*", false, "https://example.com/api/users"));
    cr_assert(!matches("example.com/api/*", false, "https://example.com/apix"));
    cr_assert(matches("example.com/api*", false, "https://example.com/apix"));
    cr_assert(!matches("example.com/*", false, "http://www.example.com/"));
}

Test(config_routes, without_wildcard_the_path_must_be_equal)
{
    cr_assert(matches("example.com/login", false, "http://example.com/login?next=/"));
    cr_assert(!matches("example.com/login", false, "http://example.com/login/"));
    cr_assert(matches("example.com", false, "http://example.com/"));
    cr_assert(!matches("example.com", false, "http://example.com/x"));
}

Test(config_routes, leading_wildcard_matches_host_suffixes)
{
    cr_assert(matches("*example.com/*", false, "http://example.com/x"));
    cr_assert(matches("*example.com/*", false, "http://a.b.example.com/x"));
    cr_assert(matches("*.example.com/*", false, "http://a.example.com/x"));
    cr_assert(!matches("*.example.com/*", false, "http://example.com/x"));
    cr_assert(!matches("*.example.com/*", false, "http://a.example.org/x"));
}

Test(config_routes, hosts_compare_without_case_or_port)
{
    cr_assert(matches("Example.COM/*", false, "http://EXAMPLE.com:8787/x"));
    cr_assert(matches("example.com:8080/*", false, "http://example.com/x"));
    cr_assert(matches("example.com/*", false, "http://user:pw@example.com:1/x"));
}

Test(config_routes, a_scheme_restricts_the_match)
{
    cr_assert(matches("https://example.com/*", false, "https://example.com/"));
    cr_assert(!matches("https://example.com/*", false, "http://example.com/"));
}

Test(config_routes, custom_domains_take_every_path)
{
    cr_assert(matches("shop.example.com", true, "http://shop.example.com/"));
    cr_assert(matches("shop.example.com", true, "http://shop.example.com/cart/1"));
    cr_assert(!matches("shop.example.com", true, "http://example.com/"));
}

Test(config_routes, more_specific_routes_rank_higher)
{
    int star_host = parse("*.example.com/*", false).specificity;
    int any = parse("example.com/*", false).specificity;
    int api = parse("example.com/api/*", false).specificity;
    int exact = parse("example.com/api", false).specificity;
    int sub = parse("a.example.com/*", false).specificity;
    cr_assert_lt(star_host, any);
    cr_assert_lt(any, api);
    cr_assert_lt(api, exact);
    cr_assert_lt(exact, sub, "more host labels outrank any path");
}

Test(config_routes, invalid_patterns_are_refused_with_a_reason)
{
    static const struct {
        const char *pattern;
        bool custom;
        const char *why;
    } bad[] = {
        {"", false, "must not be empty"},
        {"example.com/a?b", false, "query string"},
        {"ex*ample.com/", false, "may only start the host or end the path"},
        {"example.com/*/x", false, "may only start the host or end the path"},
        {"ftp://example.com/*", false, "scheme must be http or https"},
        {"/path/*", false, "has no host name"},
        {"example.com/x", true, "host name only"},
        {"*.example.com", true, "host name only"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ew__route_t r;
        char why[400];
        cr_assert(!ew__route_parse(bad[i].pattern, bad[i].custom, &r, why, sizeof(why)), "%s", bad[i].pattern);
        cr_assert(strstr(why, bad[i].why) != NULL, "%s: %s", bad[i].pattern, why);
    }
}

Test(config_routes, urls_split_into_scheme_host_and_path)
{
    char scheme[16];
    const char *host, *path;
    size_t hl, pl;
    cr_assert(ew__route_split_url("https://[::1]:8443/a/b?c#d", scheme, sizeof(scheme), &host, &hl, &path, &pl));
    cr_assert_str_eq(scheme, "https");
    cr_assert_eq(hl, 5);
    cr_assert(strncmp(host, "[::1]", 5) == 0);
    cr_assert_eq(pl, 4);
    cr_assert(strncmp(path, "/a/b", 4) == 0);
    cr_assert(ew__route_split_url("http://h?x", scheme, sizeof(scheme), &host, &hl, &path, &pl));
    cr_assert_eq(hl, 1);
    cr_assert_str_eq(path, "/");
    cr_assert(!ew__route_split_url("no-scheme", scheme, sizeof(scheme), &host, &hl, &path, &pl));
}
