/*
 * limits.c — CPU and memory limits for isolates, and the native stack check.
 *
 * CPU: Duktape calls ew__duk_exec_timeout() every 64k bytecode instructions (DUK_USE_EXEC_TIMEOUT_CHECK) and,
 * through our build-time patches (lib/duk/prepare.py), every 4096 regex steps and every 64k indexed property
 * accesses of native built-ins. It compares the entry's clock (wall time until a check finds more than
 * SAMPLE_AFTER_NS of it, the thread's CPU clock from then on) with the deadline of the running entry (isolate.c
 * charges each entry to a request). Once it has said "timeout" it keeps saying so (abort_reason) until the entry is
 * back in C, so no catch or finally block of the script runs another instruction (DUKTAPE-NOTES.md, "CPU limit").
 *
 * Memory: the heap's allocator counts bytes (a 16-byte header keeps each block's size). Crossing the soft
 * limit flags the isolate (abort_reason = EW_ERR_MEMORY_LIMIT: the request ends with 1102 at the next check
 * and the isolate is replaced); allocations keep succeeding up to a hard cap with headroom, past which they
 * fail, so that native loops that never reach an interrupt check (a huge join, repeat) stop too. The
 * headroom avoids Duktape's slow emergency GC at the cap (DUKTAPE-NOTES.md, "Memory limit").
 *
 * Stack: DUK_USE_NATIVE_STACK_CHECK() calls ew__duk_stack_check(), which compares the current frame with a
 * per-thread limit computed from the thread's real stack bounds, so deep recursion is a RangeError.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isolate.h"

#define ALLOC_HEADER 16          /* keeps max_align_t alignment for Duktape's blocks */
#define STACK_MARGIN (256 * 1024) /* room left for Duktape's error handling and our own frames */

static _Thread_local char *stack_limit; /* lowest address a frame may reach; NULL = not known yet */

uint64_t ew__cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

uint64_t ew__mono_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Called from ew__isolate_enter on every thread that runs JS; cheap after the first call. */
void ew__stack_limit_init(void)
{
    if (stack_limit != NULL)
        return;
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0 && size > 2 * STACK_MARGIN)
        stack_limit = (char *) addr + STACK_MARGIN;
    pthread_attr_destroy(&attr);
}

int ew__duk_stack_check(void)
{
    char here;
    return stack_limit != NULL && &here < stack_limit;
}

/* Until the first interrupt check of an entry, the entry clock is wall time, capped: at most 64k bytecode
 * instructions (or 4096 regex steps, or 64k indexed accesses) run before that check, a few milliseconds of
 * CPU at worst, so wall time beyond the cap is time the thread was preempted, which must not count
 * against the Worker on a loaded machine. */
#define PRE_SAMPLE_CAP_NS 5000000u

uint64_t ew__isolate_vclock(ew__isolate_t *iso)
{
    if (iso->cpu_sampled)
        return (uint64_t) ((int64_t) ew__cpu_now_ns() + iso->cpu_offset_ns);
    uint64_t wall = ew__mono_now_ns() - iso->entry_mono_ns;
    return wall < PRE_SAMPLE_CAP_NS ? wall : PRE_SAMPLE_CAP_NS;
}

/* The interrupt hook stays on the monotonic clock while this little wall time has passed since the entry
 * began (and the deadline is not reached): Duktape forces an interrupt at the first instruction of every
 * entry from C (duk_heap_switch_thread), so switching to the thread CPU clock at the first check would cost
 * every request two clock_gettime(CLOCK_THREAD_CPUTIME_ID) system calls (that clock has no vDSO path). A
 * script that keeps running reaches the next check 64k instructions later and switches then. */
#define SAMPLE_AFTER_NS 1000000u

/* Switches the entry clock to the thread CPU clock, continuing from the (capped) time elapsed so far. */
static uint64_t sample_cpu(ew__isolate_t *iso)
{
    uint64_t v = ew__isolate_vclock(iso);
    iso->cpu_offset_ns = (int64_t) v - (int64_t) ew__cpu_now_ns();
    iso->cpu_sampled = true;
    return v;
}

int ew__duk_exec_timeout(void *udata)
{
    ew__isolate_t *iso = udata;
    if (iso == NULL)
        return 0;
    if (iso->abort_reason != EW_OK)
        return 1;
    if (iso->deadline_ns == UINT64_MAX)
        return 0;
    if (!iso->cpu_sampled) {
        uint64_t wall = ew__mono_now_ns() - iso->entry_mono_ns;
        if (wall < SAMPLE_AFTER_NS && wall < iso->deadline_ns)
            return 0; /* wall time bounds the CPU time spent: nothing to charge precisely yet */
    }
    uint64_t v = iso->cpu_sampled ? ew__isolate_vclock(iso) : sample_cpu(iso);
    if (v >= iso->deadline_ns) {
        iso->abort_reason = EW_ERR_CPU_LIMIT;
        iso->abort_req = iso->running;
        return 1;
    }
    return 0;
}

/* Headroom above the soft limit before allocations fail: a quarter, at least 8 MiB. */
static size_t hard_cap(size_t soft)
{
    size_t extra = soft / 4 < (8u << 20) ? (8u << 20) : soft / 4;
    return soft > SIZE_MAX - extra ? SIZE_MAX : soft + extra;
}

/* Accounts for `grow` more bytes; returns false if the block must be refused.
 *
 * The byte count includes garbage that only mark-and-sweep frees (large buffers made and dropped by the
 * script). So the first allocation that would cross the soft limit is refused once: Duktape's allocator
 * then runs a mark-and-sweep and asks again. If the block fits after the collection it is granted; if not,
 * the limit is real and the isolate is flagged as before. One collection per crossing, never a loop: the
 * retry always gets an answer (granted up to the hard cap). */
static bool account(ew__isolate_t *iso, size_t grow)
{
    size_t after = iso->heap_bytes + grow;
    if (after <= iso->heap_limit) {
        iso->gc_tried = false;
    } else {
        if (!iso->gc_tried && iso->abort_reason == EW_OK && iso->heap_limit != SIZE_MAX) {
            iso->gc_tried = true;
            return false; /* Duktape collects and retries */
        }
        if (iso->abort_reason == EW_OK && iso->depth > 0) {
            iso->abort_reason = EW_ERR_MEMORY_LIMIT;
            iso->abort_req = iso->running;
            ew__duk_interrupt_now(iso->ctx);
        }
        if (after > hard_cap(iso->heap_limit))
            return false;
    }
    iso->heap_bytes = after;
    return true;
}

/* Small blocks (most of a request's objects, strings and property tables) are recycled per isolate: a
 * free list per 16-byte size class, at most SMALL_KEEP blocks each, in front of malloc. A request makes and
 * drops dozens of them, and malloc + free cost ~200 instructions a pair against ~20 here. Accounting is
 * unchanged (the requested size); the kept blocks are the allocator's, not the script's. */
#define SMALL_MAX (EW__SMALL_CLASSES * 16 - 8)
#define SMALL_KEEP 32

/* Bytes a block of `size` really gets: small sizes round up to their class, 16k + 8 bytes, which is what
 * glibc's malloc gives a request of size + ALLOC_HEADER anyway (16-byte chunks with an 8-byte header), so
 * the classes cost no memory. Class c holds capacity 16c + 8. */
static size_t capacity(size_t size)
{
    if (size > SMALL_MAX)
        return size;
    return (((size + 7) >> 4) << 4) + 8;
}

void *ew__heap_alloc(void *udata, duk_size_t size)
{
    ew__isolate_t *iso = udata;
    if (size > SIZE_MAX - ALLOC_HEADER || !account(iso, size + ALLOC_HEADER))
        return NULL;
    size_t cap = capacity(size);
    char *p = NULL;
    if (cap <= SMALL_MAX) {
        size_t c = cap >> 4;
        p = iso->small_free[c];
        if (p != NULL) {
            memcpy(&iso->small_free[c], p, sizeof(void *));
            iso->small_count[c]--;
        }
    }
    if (p == NULL)
        p = malloc(cap + ALLOC_HEADER);
    if (p == NULL) {
        iso->heap_bytes -= size + ALLOC_HEADER;
        return NULL;
    }
    memcpy(p, &size, sizeof(size));
    return p + ALLOC_HEADER;
}

void *ew__heap_realloc(void *udata, void *ptr, duk_size_t size)
{
    ew__isolate_t *iso = udata;
    if (ptr == NULL)
        return ew__heap_alloc(udata, size);
    char *base = (char *) ptr - ALLOC_HEADER;
    size_t old;
    memcpy(&old, base, sizeof(old));
    if (size == 0) {
        /* Duktape never asks for this, but realloc(p, 0) must not leak the accounting. */
        ew__heap_free(udata, ptr);
        return NULL;
    }
    if (size > SIZE_MAX - ALLOC_HEADER)
        return NULL;
    if (old <= SMALL_MAX || size <= SMALL_MAX) {
        if (capacity(old) == capacity(size)) { /* the same size class: the block already fits */
            if (size > old && !account(iso, size - old))
                return NULL;
            if (size < old)
                iso->heap_bytes -= old - size;
            memcpy(base, &size, sizeof(size));
            return ptr;
        }
        void *moved = ew__heap_alloc(udata, size); /* to or from a size class: a new block */
        if (moved == NULL)
            return NULL;
        memcpy(moved, ptr, old < size ? old : size);
        ew__heap_free(udata, ptr);
        return moved;
    }
    if (size > old && !account(iso, size - old))
        return NULL;
    char *p = realloc(base, size + ALLOC_HEADER);
    if (p == NULL) {
        if (size > old)
            iso->heap_bytes -= size - old;
        return NULL;
    }
    if (size < old)
        iso->heap_bytes -= old - size;
    memcpy(p, &size, sizeof(size));
    return p + ALLOC_HEADER;
}

void ew__heap_free(void *udata, void *ptr)
{
    ew__isolate_t *iso = udata;
    if (ptr == NULL)
        return;
    char *base = (char *) ptr - ALLOC_HEADER;
    size_t size;
    memcpy(&size, base, sizeof(size));
    iso->heap_bytes -= size + ALLOC_HEADER;
    size_t cap = capacity(size);
    if (cap <= SMALL_MAX) {
        size_t c = cap >> 4;
        if (iso->small_count[c] < SMALL_KEEP) {
            memcpy(base, &iso->small_free[c], sizeof(void *));
            iso->small_free[c] = base;
            iso->small_count[c]++;
            return;
        }
    }
    free(base);
}

void ew__heap_release_cache(ew__isolate_t *iso)
{
    for (size_t c = 0; c < EW__SMALL_CLASSES; c++) {
        while (iso->small_free[c] != NULL) {
            void *p = iso->small_free[c];
            memcpy(&iso->small_free[c], p, sizeof(void *));
            free(p);
        }
        iso->small_count[c] = 0;
    }
}
