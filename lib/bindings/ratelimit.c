/*
 * ratelimit.c — rate limiting bindings: env.NAME.limit({key}) → Promise<{success}>.
 *
 * One process-wide table of fixed-window counters, keyed by namespace and key, behind a mutex: ew-server's
 * loop threads each have their own runtime, and a client must not get N times the limit by landing on N
 * threads. A counter whose window has passed is reset when next used and dropped when its hash chain is
 * walked; the table never holds more than the keys seen in the current windows (plus a bounded sweep).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ratelimit.h"

#define RL_KEY DUK_HIDDEN_SYMBOL("ratelimit")
#define NBUCKETS 4096
#define KEY_MAX 1024 /* bytes of a key; longer keys are refused with a TypeError */

typedef struct counter {
    struct counter *next;
    int64_t window;               /* now / period when the count started */
    uint32_t period;
    uint32_t count;
    size_t ns_len, key_len;
    char text[];                  /* ns, then key (not NUL-terminated) */
} counter_t;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static counter_t *table[NBUCKETS]; /* owned chains, under table_lock */

static uint32_t hash(const char *ns, size_t ns_len, const char *key, size_t key_len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < ns_len; i++)
        h = (h ^ (unsigned char) ns[i]) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (size_t i = 0; i < key_len; i++)
        h = (h ^ (unsigned char) key[i]) * 16777619u;
    return h;
}

int ew__ratelimit_take(const char *ns, const char *key, size_t key_len, uint32_t limit, uint32_t period,
                       int64_t now)
{
    size_t ns_len = strlen(ns);
    int64_t window = now / (int64_t) period;
    uint32_t b = hash(ns, ns_len, key, key_len) % NBUCKETS;
    pthread_mutex_lock(&table_lock);
    counter_t *found = NULL;
    for (counter_t **pp = &table[b]; *pp != NULL;) {
        counter_t *c = *pp;
        if (c->ns_len == ns_len && c->key_len == key_len && c->period == period &&
            memcmp(c->text, ns, ns_len) == 0 && memcmp(c->text + ns_len, key, key_len) == 0) {
            found = c;
            pp = &c->next;
        } else if (c->window < now / (int64_t) c->period) {
            *pp = c->next; /* another key whose window has passed */
            free(c);
        } else {
            pp = &c->next;
        }
    }
    if (found == NULL) {
        found = malloc(sizeof(*found) + ns_len + key_len);
        if (found == NULL) {
            pthread_mutex_unlock(&table_lock);
            return -1;
        }
        *found = (counter_t) {.next = table[b], .window = window, .period = period, .ns_len = ns_len,
                              .key_len = key_len};
        memcpy(found->text, ns, ns_len);
        memcpy(found->text + ns_len, key, key_len);
        table[b] = found;
    }
    if (found->window != window) {
        found->window = window;
        found->count = 0;
    }
    if (found->count < UINT32_MAX)
        found->count++;
    int ok = found->count <= limit;
    pthread_mutex_unlock(&table_lock);
    return ok;
}

__attribute__((destructor)) static void table_free(void)
{
    for (size_t b = 0; b < NBUCKETS; b++) {
        while (table[b] != NULL) {
            counter_t *c = table[b];
            table[b] = c->next;
            free(c);
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The bindings of a worker
 */

typedef struct binding {
    char *name;                   /* owned */
    char *ns;                     /* owned */
    uint32_t limit, period;
} binding_t;

struct ew__ratelimits {
    binding_t *items;             /* owned array */
    size_t n;
};

void ew__ratelimits_free(ew__ratelimits_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].name);
        free(r->items[i].ns);
    }
    free(r->items);
    free(r);
}

static bool is_positive_integer(const char *s)
{
    if (s == NULL || *s == '\0' || *s == '0' || strlen(s) > 19)
        return false;
    for (; *s != '\0'; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

ew_status_t ew__ratelimits_new(const ew_ratelimit_t *cfg, size_t n, ew__ratelimits_t **out, ew_error_t *err)
{
    *out = NULL;
    if (n == 0)
        return EW_OK;
    if (cfg == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ratelimits: NULL with nratelimits = %zu", n);
    ew__ratelimits_t *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->items = calloc(n, sizeof(*r->items))) == NULL) {
        free(r);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    }
    for (size_t i = 0; i < n; i++) {
        const ew_ratelimit_t *c = &cfg[i];
        const char *why = c->binding == NULL || c->binding[0] == '\0' ? "the binding name is empty"
                          : !is_positive_integer(c->namespace_id)   ? "namespace_id must be a positive integer"
                          : c->limit == 0                           ? "limit must be at least 1"
                          : c->period != 10 && c->period != 60      ? "period must be 10 or 60 (seconds)"
                                                                    : NULL;
        if (why != NULL) {
            ew__ratelimits_free(r);
            return ew__error_set(err, EW_ERR_INVALID_ARG, "ratelimits[%zu] (%s): %s", i,
                                 c->binding ? c->binding : "(null)", why);
        }
        binding_t *b = &r->items[r->n++];
        b->name = strdup(c->binding);
        b->ns = strdup(c->namespace_id);
        b->limit = c->limit;
        b->period = c->period;
        if (b->name == NULL || b->ns == NULL) {
            ew__ratelimits_free(r);
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
        }
    }
    *out = r;
    return EW_OK;
}

/* limit(options) -> Promise<{success}>; bad options reject with a TypeError, as the promise API does. */
static duk_ret_t rl_limit(duk_context *ctx)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, RL_KEY);
    const binding_t *b = duk_get_pointer(ctx, -1);
    duk_pop_2(ctx);
    if (b == NULL)
        return duk_type_error(ctx, "Illegal invocation");
    const char *why = NULL;
    if (!duk_is_object(ctx, 0)) {
        why = "limit(): the options must be an object such as { key: \"...\" }";
    } else {
        duk_get_prop_literal(ctx, 0, "key");
        if (!duk_is_string(ctx, -1))
            why = "limit(): options.key must be a string";
    }
    if (why == NULL) {
        size_t len;
        const char *key = ew__to_utf8(ctx, -1, &len);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int ok = len > KEY_MAX ? -2 : ew__ratelimit_take(b->ns, key, len, b->limit, b->period, ts.tv_sec);
        if (ok == -2) {
            why = "limit(): options.key is longer than 1024 bytes";
        } else if (ok < 0) {
            duk_push_error_object(ctx, DUK_ERR_ERROR, "limit(): out of memory counting the key");
            ew__promise_push_rejected(ctx);
            return 1;
        } else {
            duk_push_object(ctx);
            duk_push_boolean(ctx, ok == 1);
            duk_put_prop_literal(ctx, -2, "success");
            ew__promise_push_resolved(ctx);
            return 1;
        }
    }
    duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "%s", why);
    ew__promise_push_rejected(ctx);
    return 1;
}

void ew__ratelimits_install(duk_context *ctx, const ew__ratelimits_t *r, duk_idx_t env_idx)
{
    if (r == NULL)
        return;
    env_idx = duk_require_normalize_index(ctx, env_idx);
    for (size_t i = 0; i < r->n; i++) {
        duk_push_object(ctx);
        duk_push_pointer(ctx, &r->items[i]);
        duk_put_prop_literal(ctx, -2, RL_KEY);
        duk_push_literal(ctx, "limit");
        duk_push_c_function(ctx, rl_limit, 1);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE);
        /* service-worker scripts see their bindings as globals, as on Cloudflare */
        duk_dup_top(ctx);
        duk_put_global_string(ctx, r->items[i].name);
        duk_put_prop_string(ctx, env_idx, r->items[i].name);
    }
}
