/*
 * arena.c — the bump allocator that holds one compilation.
 *
 * Every node, list, string and atom of a compilation comes from here and is freed at once by
 * ew__arena_dispose: the parser makes no malloc per token or per node, and the lowering passes and the emitter
 * need no ownership rules for the tree. Chunks grow geometrically (64 KiB up to 4 MiB) so a big bundle costs a
 * few dozen mallocs; a request larger than a chunk gets a chunk of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct ew__arena_chunk {
    ew__arena_chunk_t *next;  /* older chunk */
    size_t size;              /* bytes after the header */
    max_align_t data[];       /* aligned start of the bytes */
};

#define ARENA_FIRST_CHUNK (64u * 1024u)
#define ARENA_MAX_CHUNK (4u * 1024u * 1024u)

void ew__arena_init(ew__arena_t *a)
{
    memset(a, 0, sizeof *a);
}

void ew__arena_dispose(ew__arena_t *a)
{
    ew__arena_chunk_t *c = a->head;
    while (c) {
        ew__arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    memset(a, 0, sizeof *a);
}

/* Slow path: a new chunk big enough for n bytes, twice the last one's size up to the cap. */
static void *arena_grow(ew__arena_t *a, size_t n)
{
    size_t size = a->head ? a->head->size * 2 : ARENA_FIRST_CHUNK;
    if (size > ARENA_MAX_CHUNK)
        size = ARENA_MAX_CHUNK;
    if (size < n)
        size = n;
    ew__arena_chunk_t *c = malloc(sizeof *c + size);
    if (!c)
        return NULL;
    c->size = size;
    c->next = a->head;
    a->head = c;
    a->total += size;
    char *p = (char *) c->data;
    a->ptr = p + n;
    a->end = p + size;
    return p;
}

void *ew__arena_alloc_slow(ew__arena_t *a, size_t n)
{
    n = (n + 7) & ~(size_t) 7;
    if (n == 0)
        n = 8;
    if (a->ptr && (size_t) (a->end - a->ptr) >= n) {
        void *p = a->ptr;
        a->ptr += n;
        return p;
    }
    return arena_grow(a, n);
}

void ew__arena_reset(ew__arena_t *a)
{
    ew__arena_chunk_t *keep = a->head;
    if (!keep)
        return;
    ew__arena_chunk_t *c = keep->next;
    while (c) {
        ew__arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    keep->next = NULL;
    a->total = keep->size;
    a->ptr = (char *) keep->data;
    a->end = a->ptr + keep->size;
}

void *ew__arena_zalloc(ew__arena_t *a, size_t n)
{
    void *p = ew__arena_alloc(a, n);
    if (p && n == sizeof(ew__node_t))
        memset(p, 0, sizeof(ew__node_t)); /* most calls: a constant size, stores inline instead of a libc call */
    else if (p)
        memset(p, 0, n);
    return p;
}

void ew__arena_shrink_last(ew__arena_t *a, void *p, size_t old_n, size_t n)
{
    old_n = (old_n + 7) & ~(size_t) 7;
    n = (n + 7) & ~(size_t) 7;
    /* Only the newest allocation can give bytes back; anything else keeps its size (harmless). */
    if ((char *) p + old_n == a->ptr && n <= old_n)
        a->ptr = (char *) p + n;
}

ew__atom_t *ew__atom_new(ew__arena_t *a, const char *s, size_t len)
{
    ew__atom_t *at = ew__arena_zalloc(a, sizeof *at);
    char *copy = ew__arena_alloc(a, len + 1);
    if (!at || !copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = 0;
    at->s = copy;
    at->len = (uint32_t) len;
    return at;
}
