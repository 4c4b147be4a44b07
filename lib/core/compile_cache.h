/*
 * lib/core/compile_cache.h — compiled Workers, kept so that a second load of the same code skips the compiler:
 * in memory for the process (every runtime and thread; bounded, least recently used first out) and, when the
 * runtime has a state_dir, on disk in <state_dir>/cache/compile/<key>.ewbc (bytecode_file.h format, at most 128
 * files, least recently used deleted first) so a restarted server skips it too.
 *
 * The key is a SHA-256 of (build fingerprint, source form, entry file name, entry source). An entry also keeps
 * every file the compiler read from disk (imported modules, package.json) with its SHA-256; a lookup re-reads
 * and re-hashes them, so an edited import is a miss. Loads of the same key in several threads at once compile
 * once: the first reserves the key (a miss), the others wait for its put or abandon.
 */
#ifndef EW_CORE_COMPILE_CACHE_H
#define EW_CORE_COMPILE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytecode_file.h"

typedef struct ew__ccache_ticket {
    uint8_t key[32];
    bool reserved;      /* a miss reserved the key: call ew__ccache_put or ew__ccache_abandon */
} ew__ccache_ticket_t;

/* Looks the program up. Hit: true, *bc malloc'd copy of the bytecode (free()), *n its size. Miss: false and the
 * key reserved in *t. state_dir NULL: memory only. */
bool ew__ccache_get(const char *state_dir, const char *filename, const char *src, size_t len, int form, void **bc,
                    size_t *n, ew__ccache_ticket_t *t);
/* Stores what a miss compiled (copied) and releases the reservation; best effort on disk. */
void ew__ccache_put(const char *state_dir, ew__ccache_ticket_t *t, const ew__bc_dep_t *deps, size_t ndeps,
                    const void *bc, size_t n);
/* Releases a reservation without storing (the compile failed). */
void ew__ccache_abandon(ew__ccache_ticket_t *t);

/* Programs compiled by the library since the process started (tests: a hit does not count). */
unsigned long ew__ccache_compiles(void);
void ew__ccache_count_compile(void);
/* Empties the memory cache (tests; also run at process exit). */
void ew__ccache_clear(void);

#endif /* EW_CORE_COMPILE_CACHE_H */
