/*
 * compile_cache.c — the process-wide compile cache (compile_cache.h): a mutex-protected LRU list in memory
 * capped at MAX_BYTES of bytecode, backed by <state_dir>/cache/compile/ when a state folder is configured.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "compile_cache.h"
#include "internal.h"

#define MAX_BYTES ((size_t) 64 << 20)
#define DISK_MAX_FILES 128 /* programs kept in <state_dir>/cache/compile/; the least recently used go first */

typedef struct entry {
    struct entry *prev, *next; /* most recently used first */
    uint8_t key[32];
    bool pending;              /* reserved by a loader that is compiling it */
    ew__bc_dep_t *deps;        /* owned */
    size_t ndeps;
    void *bc;                  /* owned */
    size_t n;
} entry_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static entry_t *head, *tail; /* owned list */
static size_t total;         /* bytes of bytecode held */
static unsigned long compiles;
static unsigned long seq;    /* for temporary file names */

unsigned long ew__ccache_compiles(void)
{
    pthread_mutex_lock(&lock);
    unsigned long c = compiles;
    pthread_mutex_unlock(&lock);
    return c;
}

EW_API uint64_t ew_compile_count(void)
{
    return ew__ccache_compiles();
}

void ew__ccache_count_compile(void)
{
    pthread_mutex_lock(&lock);
    compiles++;
    pthread_mutex_unlock(&lock);
}

static void unlink_entry(entry_t *e)
{
    *(e->prev ? &e->prev->next : &head) = e->next;
    *(e->next ? &e->next->prev : &tail) = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(entry_t *e)
{
    e->prev = NULL;
    e->next = head;
    *(head ? &head->prev : &tail) = e;
    head = e;
}

static void free_entry(entry_t *e)
{
    total -= e->n;
    ew__bc_deps_free(e->deps, e->ndeps);
    free(e->bc);
    free(e);
}

static entry_t *find(const uint8_t key[32])
{
    for (entry_t *e = head; e != NULL; e = e->next)
        if (memcmp(e->key, key, 32) == 0)
            return e;
    return NULL;
}

static void evict(void)
{
    entry_t *e = tail;
    while (total > MAX_BYTES && e != NULL) {
        entry_t *prev = e->prev;
        if (!e->pending) {
            unlink_entry(e);
            free_entry(e);
        }
        e = prev;
    }
}

void ew__ccache_clear(void)
{
    pthread_mutex_lock(&lock);
    for (entry_t *e = head, *next; e != NULL; e = next) {
        next = e->next;
        if (!e->pending) {
            unlink_entry(e);
            free_entry(e);
        }
    }
    pthread_mutex_unlock(&lock);
}

/* The process ends: nothing is left allocated (leak checkers). */
__attribute__((destructor)) static void ccache_fini(void)
{
    ew__ccache_clear();
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    ew__buf_t b;
    ew__buf_init(&b);
    char chunk[65536];
    size_t got;
    bool ok = true;
    while (ok && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ok = ew__buf_append(&b, chunk, got);
    if (ferror(f))
        ok = false;
    fclose(f);
    if (!ok || b.data == NULL) {
        ew__buf_dispose(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

/* Every file the program was compiled from still has the content it had then. */
static bool deps_fresh(const ew__bc_dep_t *deps, size_t ndeps)
{
    for (size_t i = 0; i < ndeps; i++) {
        size_t len = 0;
        char *data = read_whole(deps[i].path, &len);
        uint8_t sha[32];
        if (data == NULL && len == 0) {
            FILE *f = fopen(deps[i].path, "rb"); /* an empty file reads as NULL too */
            if (f == NULL)
                return false;
            fclose(f);
        }
        ew__bc_sha256(data ? data : "", len, sha);
        free(data);
        if (memcmp(sha, deps[i].sha, 32) != 0)
            return false;
    }
    return true;
}

static void key_hex(const uint8_t key[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", key[i]);
}

static char *disk_path(const char *state_dir, const uint8_t key[32])
{
    char hex[65];
    key_hex(key, hex);
    size_t n = strlen(state_dir) + sizeof("/cache/compile/") + 64 + sizeof(".ewbc");
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/cache/compile/%s.ewbc", state_dir, hex);
    return p;
}

/* The entry of <state_dir>/cache/compile/<key>.ewbc when it is valid for this build and fresh; NULL otherwise
 * (a damaged or foreign file is ignored and will be replaced). */
static entry_t *disk_get(const char *state_dir, const uint8_t key[32])
{
    char *path = disk_path(state_dir, key);
    size_t len = 0;
    char *data = path ? read_whole(path, &len) : NULL;
    entry_t *e = NULL;
    const void *bc;
    size_t n;
    ew__bc_dep_t *deps;
    size_t ndeps;
    if (data != NULL && ew__bc_decode(path, data, len, &bc, &n, &deps, &ndeps, NULL) == EW_OK) {
        if (deps_fresh(deps, ndeps) && (e = calloc(1, sizeof(*e))) != NULL && (e->bc = malloc(n)) != NULL) {
            memcpy(e->key, key, 32);
            memcpy(e->bc, bc, n);
            e->n = n;
            e->deps = deps;
            e->ndeps = ndeps;
            deps = NULL;
            (void) utimes(path, NULL); /* used now: the disk's least-recently-used order is by mtime */
        } else if (e != NULL) {
            free(e);
            e = NULL;
        }
        ew__bc_deps_free(deps, deps ? ndeps : 0);
    }
    free(data);
    free(path);
    return e;
}

static void make_dirs(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        (void) mkdir(path, 0777);
        *p = '/';
    }
}

/* Keeps at most DISK_MAX_FILES programs in the folder: every edit of a Worker makes a new one. */
static void disk_prune(const char *folder)
{
    DIR *d = opendir(folder);
    if (d == NULL)
        return;
    struct old {
        char name[80];
        time_t mtime;
    } *files = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    char path[4200];
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        struct stat st;
        if (len != 64 + 5 || strcmp(de->d_name + 64, ".ewbc") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", folder, de->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (n == cap) {
            struct old *bigger = realloc(files, (cap = cap ? cap * 2 : 64) * sizeof(*files));
            if (bigger == NULL)
                break;
            files = bigger;
        }
        memcpy(files[n].name, de->d_name, len + 1);
        files[n++].mtime = st.st_mtime;
    }
    closedir(d);
    while (n > DISK_MAX_FILES) {
        size_t oldest = 0;
        for (size_t i = 1; i < n; i++)
            if (files[i].mtime < files[oldest].mtime)
                oldest = i;
        snprintf(path, sizeof(path), "%s/%s", folder, files[oldest].name);
        (void) unlink(path);
        files[oldest] = files[--n];
    }
    free(files);
}

/* Writes the entry atomically (temporary file + rename): a reader sees the old file, the new one, or none. */
static void disk_put(const char *state_dir, const entry_t *e, unsigned long id)
{
    void *file;
    size_t len;
    if (ew__bc_encode(e->bc, e->n, e->deps, e->ndeps, &file, &len, NULL) != EW_OK)
        return;
    char *path = disk_path(state_dir, e->key);
    size_t tn = path ? strlen(path) + 48 : 0;
    char *tmp = path ? malloc(tn) : NULL;
    if (tmp != NULL) {
        snprintf(tmp, tn, "%s.%ld.%lu.tmp", path, (long) getpid(), id);
        make_dirs(tmp);
        FILE *f = fopen(tmp, "wb");
        bool ok = f != NULL && fwrite(file, 1, len, f) == len;
        if (f != NULL && fclose(f) != 0)
            ok = false;
        if (!ok || rename(tmp, path) != 0)
            (void) unlink(tmp);
        else { /* after a compile, which costs far more than listing the folder */
            *strrchr(path, '/') = '\0';
            if (strlen(path) < 4000)
                disk_prune(path);
        }
    }
    free(tmp);
    free(path);
    free(file);
}

static void make_key(const char *filename, const char *src, size_t len, int form, uint8_t key[32])
{
    /* SHA-256 over a small prefix and the source: the prefix separates the fields without ambiguity. */
    size_t fl = strlen(filename);
    size_t total_len = 8 + 1 + fl + 1 + len;
    uint8_t *buf = malloc(total_len);
    if (buf == NULL) {
        memset(key, 0, 32);
        return;
    }
    uint64_t fp = ew__bc_fingerprint();
    memcpy(buf, &fp, 8);
    buf[8] = (uint8_t) form;
    memcpy(buf + 9, filename, fl + 1);
    memcpy(buf + 10 + fl, src, len);
    ew__bc_sha256(buf, total_len, key);
    free(buf);
}

bool ew__ccache_get(const char *state_dir, const char *filename, const char *src, size_t len, int form, void **bc,
                    size_t *n, ew__ccache_ticket_t *t)
{
    make_key(filename, src, len, form, t->key);
    t->reserved = false;
    pthread_mutex_lock(&lock);
    entry_t *e;
    while ((e = find(t->key)) != NULL && e->pending)
        pthread_cond_wait(&done, &lock);
    if (e != NULL && !deps_fresh(e->deps, e->ndeps)) {
        unlink_entry(e);
        free_entry(e);
        e = NULL;
    }
    if (e == NULL && state_dir != NULL && (e = disk_get(state_dir, t->key)) != NULL) {
        push_front(e);
        total += e->n;
        evict();
    }
    if (e != NULL && (*bc = malloc(e->n)) != NULL) {
        memcpy(*bc, e->bc, e->n);
        *n = e->n;
        unlink_entry(e);
        push_front(e);
        pthread_mutex_unlock(&lock);
        return true;
    }
    if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
        memcpy(e->key, t->key, 32);
        e->pending = true;
        push_front(e);
        t->reserved = true;
    }
    pthread_mutex_unlock(&lock);
    return false;
}

void ew__ccache_abandon(ew__ccache_ticket_t *t)
{
    if (!t->reserved)
        return;
    t->reserved = false;
    pthread_mutex_lock(&lock);
    entry_t *e = find(t->key);
    if (e != NULL && e->pending) {
        unlink_entry(e);
        free(e);
    }
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
}

void ew__ccache_put(const char *state_dir, ew__ccache_ticket_t *t, const ew__bc_dep_t *deps, size_t ndeps,
                    const void *bc, size_t n)
{
    if (!t->reserved)
        return;
    entry_t copy = {0};
    copy.bc = malloc(n);
    copy.deps = ndeps ? calloc(ndeps, sizeof(*copy.deps)) : NULL;
    bool ok = copy.bc != NULL && (ndeps == 0 || copy.deps != NULL);
    for (size_t i = 0; ok && i < ndeps; i++) {
        copy.deps[i].path = strdup(deps[i].path);
        memcpy(copy.deps[i].sha, deps[i].sha, 32);
        copy.ndeps = i + 1;
        ok = copy.deps[i].path != NULL;
    }
    if (!ok || n > MAX_BYTES) {
        ew__bc_deps_free(copy.deps, copy.ndeps);
        free(copy.bc);
        ew__ccache_abandon(t);
        return;
    }
    memcpy(copy.bc, bc, n);
    copy.n = n;
    memcpy(copy.key, t->key, 32);
    pthread_mutex_lock(&lock);
    unsigned long id = ++seq;
    entry_t *e = find(t->key);
    if (e != NULL && e->pending) {
        e->deps = copy.deps;
        e->ndeps = copy.ndeps;
        e->bc = copy.bc;
        e->n = copy.n;
        e->pending = false;
        total += n;
        evict();
        copy.deps = NULL;
        copy.ndeps = 0;
        copy.bc = NULL;
    }
    t->reserved = false;
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    if (state_dir != NULL) {
        entry_t tmp = {0};
        memcpy(tmp.key, t->key, 32);
        tmp.deps = (ew__bc_dep_t *) deps;
        tmp.ndeps = ndeps;
        tmp.bc = (void *) bc;
        tmp.n = n;
        disk_put(state_dir, &tmp, id);
    }
    ew__bc_deps_free(copy.deps, copy.ndeps);
    free(copy.bc);
}
