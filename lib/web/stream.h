/*
 * lib/web/stream.h — ReadableStream from C: the interface other parts of the library use to produce and to
 * consume streams of bytes (implemented in lib/web/stream.c over lib/js/streams.js).
 *
 *   (a) a source fed from C: an outbound fetch() response body, an R2 object read, a decompressor
 *         src = ew__stream_src_push_new(ctx, &hooks, udata, hwm)   pushes a byte ReadableStream for script
 *         hooks.pull(udata)             the stream wants bytes (a reader waits or the queue is below hwm)
 *         ew__stream_src_enqueue(src, p, n) / ew__stream_src_close(src) / ew__stream_src_error(src, msg)
 *         hooks.cancel(udata)           the consumer cancelled, or the isolate is going away: stop producing
 *
 *   (b) a reader in C: ew-server's streamed responses (through ew_body_read), fetch() sending a streamed
 *       request body, R2/KV put of a stream
 *         r = ew__stream_reader_open(ctx, idx)       locks the stream (TypeError if locked or disturbed)
 *         ew__stream_reader_read(r, cb, udata)       one chunk: cb(ctx, udata, CHUNK, p, n) / END / ERROR
 *         ew__stream_reader_close(r)                 releases (cancels the stream if it had not ended)
 *
 * Back-pressure: a source is pulled only while there is demand (a pending read, or fewer than hwm bytes
 * queued); a C reader asks for one chunk at a time, so the stream's producer (a writer awaiting write() or
 * ready) waits until the reader's owner has room for more.
 *
 * Threads and re-entrancy: everything runs on the isolate's thread. The functions that take a handle may be
 * called from inside JavaScript (a native, a reaction) or from a libevent callback outside it: they enter the
 * heap themselves (ew__isolate_run), charged to the request that was running when the handle was made, and
 * run the microtasks before returning. Callbacks (pull, cancel, the read callback) run inside the heap; they
 * may call the handle functions again but must not destroy the isolate or the worker.
 *
 * History, for branches that merged it early: the interface landed in e13c500 (branch streams); 50e5e77
 * made calls from inside natives run on the running thread, which a user of an earlier copy needs.
 *
 * Lifetime: a source handle is owned by the producer until it calls close or error, or until cancel is
 * called (the handle is freed when the hook returns: do not use it afterwards). A reader handle is owned by
 * whoever opened it until ew__stream_reader_close. When the isolate is destroyed, sources get cancel and
 * readers go dead (reads then report ERROR with ctx NULL; close still frees them).
 */
#ifndef EW_WEB_STREAM_H
#define EW_WEB_STREAM_H

#include "core/internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Loading (lib/js/streams.js is loaded on first use of a stream global or of a body's .body)
 */

/* Defines the stream globals as lazy accessors (ReadableStream, WritableStream, TransformStream, the readers,
 * controllers, strategies, IdentityTransformStream, FixedLengthStream, TextEncoderStream, TextDecoderStream,
 * CompressionStream, DecompressionStream). Called by ew__web_init. May throw (allocation). */
void ew__stream_init(duk_context *ctx, duk_idx_t global_idx);
/* True if the value at idx is a ReadableStream. Never loads the streams code (none can exist before). */
bool ew__stream_is_readable(duk_context *ctx, duk_idx_t idx);
/* Tells every C producer of the heap (cancel) and marks readers dead. Called before the heap is destroyed. */
void ew__stream_dispose(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * For the body mixin (lib/web/body.c). All may throw; all need a JS entry (they run inside natives).
 */

/* Pushes a new byte ReadableStream holding the bytes of the storage value at data_idx (a string of UTF-8 or
 * a buffer), closed after them. It remembers the storage, so ew__stream_take_bytes can skip the stream. */
void ew__stream_push_from_bytes(duk_context *ctx, duk_idx_t data_idx);
/* If the stream at idx is one of ew__stream_push_from_bytes's, unlocked and never read, pushes its storage
 * value and returns true (with claim: after locking and disturbing the stream, whose bytes are now taken);
 * otherwise pushes nothing and returns false. */
bool ew__stream_push_bytes(duk_context *ctx, duk_idx_t idx, bool claim);
bool ew__stream_is_locked(duk_context *ctx, duk_idx_t idx);
bool ew__stream_is_disturbed(duk_context *ctx, duk_idx_t idx);
/* Locks the stream at idx and pushes a promise of a Uint8Array of all its bytes (rejected with the
 * stream's error, or TypeError "This ReadableStream did not return bytes." for a chunk that is not an
 * ArrayBuffer or a view). */
void ew__stream_push_read_all(duk_context *ctx, duk_idx_t idx);
/* Tees the stream at idx: pushes its two branches (branch 1 first). */
void ew__stream_push_tee(duk_context *ctx, duk_idx_t idx);
/* The length a FixedLengthStream's readable side promises (Content-Length), or -1. Never throws. */
double ew__stream_expected_length(duk_context *ctx, duk_idx_t idx);
/* Records that the stream at idx will give exactly n bytes (a fetch() body with a Content-Length and no
 * decoding), so that a host sends it with that Content-Length. May throw (allocation). */
void ew__stream_set_expected_length(duk_context *ctx, duk_idx_t idx, double n);

/* ---------------------------------------------------------------------------------------------------------
 * (a) A ReadableStream fed from C
 */

typedef struct ew__stream_src ew__stream_src_t;

typedef struct ew__stream_src_hooks {
    /* Demand: a reader waits or the queue is below the high-water mark. Enqueue now or later; called again
     * after each enqueue while demand remains. May be NULL (a producer that pushes as data arrives). */
    void (*pull)(void *udata, ew__stream_src_t *src);
    /* The consumer cancelled the stream or the isolate is being destroyed: stop producing. src is freed
     * when this returns. May be NULL. */
    void (*cancel)(void *udata, ew__stream_src_t *src);
    /* A C reader bound to this source (C-to-C) will send the bytes on compressed as `coding` (an
     * ew__coding_t of net/encode.h): true if the source gives its bytes in that coding from now on (it
     * had them so and decoded nothing yet), so that the reader need not compress. May be NULL. */
    bool (*raw)(void *udata, ew__stream_src_t *src, int coding);
    /* A C reader bound to this source (C-to-C) with nothing queued asks for the next bytes to go straight
     * to the descriptor fd (zero-copy, splice(2)): up to max bytes, answered later, from the loop, with
     * ew__stream_src_spliced. Returns 1 if started, 0 if not now (nothing happens; bytes the source holds
     * must be enqueued first), -1 if never (this source's bytes cannot be spliced). max 0 only asks (fd is
     * not used): 0 if a splice could start once the queue is empty, -1 if never. Once a splice started, the source gives the
     * rest of its bytes only that way. fd < 0: the reader went away during a pending step: forget it at
     * once (no answer, fd is not touched again). May be NULL (never). */
    int (*splice)(void *udata, ew__stream_src_t *src, int fd, size_t max);
} ew__stream_src_hooks_t;

/* Pushes a new byte ReadableStream (BYOB readers work on it) fed by the returned handle; hooks are copied,
 * udata is passed to them as is. hwm: bytes the stream may queue ahead of its reader (0 = pull only when
 * a read waits). Inside a JS entry; may throw (allocation). While the handle is open it counts as I/O of
 * the isolate. */
ew__stream_src_t *ew__stream_src_push_new(duk_context *ctx, const ew__stream_src_hooks_t *hooks, void *udata,
                                          size_t hwm);
/* Queues a copy of n bytes (n > 0). EW_ERR_STATE once the stream was cancelled or errored (the bytes are
 * dropped), EW_ERR_NOMEM/EW_ERR_MEMORY_LIMIT when the copy could not be made. */
ew_status_t ew__stream_src_enqueue(ew__stream_src_t *src, const void *data, size_t n);
/* The same for the bytes of *buf, which is left empty (len 0): when a C reader takes the stream's bytes
 * directly and has none waiting, the buffers change hands instead of copying. */
ew_status_t ew__stream_src_enqueue_buf(ew__stream_src_t *src, ew__buf_t *buf);
/* How a splice step ended (ew__stream_src_spliced, ew__stream_reader_splice). */
typedef enum ew__stream_splice {
    EW__SPLICE_MORE,   /* moved > 0 bytes; more are to come */
    EW__SPLICE_FULL,   /* the descriptor took no more: ask again once it is writable (moved may be 0) */
    EW__SPLICE_END,    /* the body is complete (moved may be > 0) */
    EW__SPLICE_FAILED, /* the body broke or the descriptor failed (moved may be > 0): the body is done */
} ew__stream_splice_t;
/* The source's answer to hooks.splice. After END the source still calls close; after FAILED, error. */
void ew__stream_src_spliced(ew__stream_src_t *src, size_t moved, ew__stream_splice_t result);
/* Bytes the stream wants before it stops pulling (<= 0: wait for the next pull). */
double ew__stream_src_desired(ew__stream_src_t *src);
/* Ends the stream after the queued bytes and frees the handle. */
void ew__stream_src_close(ew__stream_src_t *src);
/* Errors the stream with TypeError(message) (queued bytes are dropped) and frees the handle. */
void ew__stream_src_error(ew__stream_src_t *src, const char *message);

/* ---------------------------------------------------------------------------------------------------------
 * (b) Reading a ReadableStream from C
 */

typedef struct ew__stream_reader ew__stream_reader_t;

typedef enum ew__stream_event {
    EW__STREAM_CHUNK = 0,  /* data/len: the chunk's bytes (len > 0), valid until the next read or close */
    EW__STREAM_END = 1,    /* the stream closed; no more events */
    EW__STREAM_ERROR = 2   /* the stream errored (the error value is on top of ctx's stack during the call; ctx
                              is NULL when the isolate went away); no more events */
} ew__stream_event_t;

typedef void (*ew__stream_read_fn)(duk_context *ctx, void *udata, ew__stream_event_t ev, const void *data,
                                   size_t len);

/* Locks the ReadableStream at idx to a new reader. Inside a JS entry. Throws TypeError if the value is not a
 * ReadableStream or is locked; returns NULL only on OOM (nothing locked then). */
ew__stream_reader_t *ew__stream_reader_open(duk_context *ctx, duk_idx_t idx);
/* Asks for the next chunk: cb runs once, maybe before this returns (a chunk was queued). One read at a time:
 * EW_ERR_STATE if a read is pending or the stream ended. Chunks that are not ArrayBuffers or views end the
 * stream with ERROR (TypeError "This ReadableStream did not return bytes.") and cancel it. */
ew_status_t ew__stream_reader_read(ew__stream_reader_t *r, ew__stream_read_fn cb, void *udata);
/* Frees the reader: cancels the stream if it has not ended (reason: TypeError "The reader was closed."),
 * drops a pending read's callback. NULL is ignored. */
void ew__stream_reader_close(ew__stream_reader_t *r);
/* From now on the reader delivers the stream's bytes compressed with `coding` (an ew__coding_t of
 * lib/net/encode.h): every chunk compressed and flushed, the trailer as a last chunk before END. Call
 * before the first read. False when no read may be pending, the coding is NONE, or memory ran out. */
bool ew__stream_reader_encode(ew__stream_reader_t *r, int coding);
/* Zero-copy: the reader's next bytes go straight from the source to the descriptor fd (Linux splice(2)),
 * when the reader took the stream C-to-C, nothing is queued or encoded, no read is pending, and the source
 * can (a fetch() body over plain HTTP/1.1 with Content-Length). cb runs once, outside the heap (it must
 * not call into it), with the bytes written to fd and how the step ended; not after the reader is closed.
 * EW_ERR_STATE (nothing started) when a splice is not possible now: read instead. Once a splice started,
 * the rest of the stream must be spliced; a stream that ended between steps answers END or FAILED (cb may
 * then run inside this call). */
typedef void (*ew__stream_splice_fn)(void *udata, size_t moved, ew__stream_splice_t result);
ew_status_t ew__stream_reader_splice(ew__stream_reader_t *r, int fd, size_t max, ew__stream_splice_fn cb,
                                     void *udata);
/* Whether ew__stream_reader_splice may start, now or after a read of what is queued (false: never). */
bool ew__stream_reader_splicable(ew__stream_reader_t *r);
/* The reader is the host's pump of a response body: when it reads a stream fed from C directly (C-to-C),
 * its deliveries are charged to no request (the Worker only passed the body on). */
void ew__stream_reader_uncharged(ew__stream_reader_t *r);

#endif /* EW_WEB_STREAM_H */
