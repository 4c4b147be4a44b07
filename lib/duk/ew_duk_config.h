/* Overrides for Duktape's generated duk_config.h, included at its __OVERRIDE_DEFINES__ marker by
 * lib/duk/prepare.py. Every option here is a decision recorded in DUKTAPE-NOTES.md: CPU limits via the
 * interrupt counter, fastint and the JSON fast path for speed, a native stack check so that deep
 * recursion is a RangeError instead of a crash, and no exported duk_ symbols from libedgeworker.so. */
#ifndef EW_DUK_CONFIG_H
#define EW_DUK_CONFIG_H

/* Implemented in lib/core/limits.c. Both must be cheap: they run every 64k bytecode instructions, every
 * 4096 regex steps, and on every native call. */
extern __attribute__((visibility("hidden"))) int ew__duk_exec_timeout(void *heap_udata);
extern __attribute__((visibility("hidden"))) int ew__duk_stack_check(void);
/* Appended to duktape.c by prepare.py: the running coroutine checks for interrupts at its next instruction. */
struct duk_hthread;
extern __attribute__((visibility("hidden"))) void ew__duk_interrupt_now(struct duk_hthread *ctx);
/* Also appended: make the function at idx non-constructable; the object's internal class number. */
extern __attribute__((visibility("hidden"))) void ew__duk_clear_constructable(struct duk_hthread *ctx, int idx);
extern __attribute__((visibility("hidden"))) int ew__duk_class_number(struct duk_hthread *ctx, int idx);
/* Also appended: whether the value at idx is a Proxy. */
extern __attribute__((visibility("hidden"))) int ew__duk_is_proxy(struct duk_hthread *ctx, int idx);
/* Also appended: detach the ArrayBuffer at idx (returns 0 if it is not one). */
extern __attribute__((visibility("hidden"))) int ew__duk_buffer_detach(struct duk_hthread *ctx, int idx);
/* Also appended: read a data property without running script (-1: a getter or Proxy is in the way). */
extern __attribute__((visibility("hidden"))) int ew__duk_get_data_literal(struct duk_hthread *ctx, int idx,
                                                                         const char *key, unsigned long key_len);
/* Also appended: duk_def_prop(HAVE_VALUE | SET_WRITABLE | FORCE) of a literal key on an ordinary object
 * (0: not done, the caller defines it the generic way). */
extern __attribute__((visibility("hidden"))) int ew__duk_def_value_literal(struct duk_hthread *ctx, int idx,
                                                                          const char *key, unsigned long key_len);
/* Also appended: duk_pack (internal in 2.7): the count values on top become a new array. */
extern __attribute__((visibility("hidden"))) void ew__duk_pack(struct duk_hthread *ctx, int count);
/* Also appended: push a dense Array's items / a plain object's own enumerable data properties (or -1). */
extern __attribute__((visibility("hidden"))) int ew__duk_push_dense_items(struct duk_hthread *ctx, int idx);
extern __attribute__((visibility("hidden"))) int ew__duk_push_own_data(struct duk_hthread *ctx, int idx);
/* Also appended: whether iterating the value at idx is indexing it, found without running code (or -1). */
extern __attribute__((visibility("hidden"))) int ew__duk_iter_is_index(struct duk_hthread *ctx, int idx, void *const *k);
/* Also appended: push obj[key] looked up from the object at start_idx with a getter called on recv_idx (super.x),
 * returns 1; or push the Proxy met on the way and return 2. */
extern __attribute__((visibility("hidden"))) int ew__duk_get_with_receiver(struct duk_hthread *ctx, int start_idx,
                                                                           int key_idx, int recv_idx);

#define DUK_USE_INTERRUPT_COUNTER
#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) ew__duk_exec_timeout((udata))
#define DUK_USE_NATIVE_STACK_CHECK() ew__duk_stack_check()
#define DUK_USE_FASTINT
#define DUK_USE_JSON_STRINGIFY_FASTPATH
/* Mark-and-sweep recursion limit before it falls back to slow rescans: 256 makes marking long linked
 * structures (a 100k-long promise chain) quadratic (3-5 s); 4096 takes it to 0.45 s. Costs native stack
 * during GC (a few hundred KB at most): threads that run JS get at least 2 MB of stack. */
/* An array that grows (push, a[n] = x) gets at least 8 slots at its first growth instead of 2: with the
 * default (16 + size) / 8, every other push of a small array left Array.prototype.push's fast path for a
 * resize (~1.5k instructions each). Arrays made at their size (literals, new Array(n)) are not affected. */
#undef DUK_USE_HOBJECT_ARRAY_MINGROW_ADD
#define DUK_USE_HOBJECT_ARRAY_MINGROW_ADD 64
#undef DUK_USE_MARK_AND_SWEEP_RECLIMIT
#define DUK_USE_MARK_AND_SWEEP_RECLIMIT 4096

/* Keep Duktape's API inside libedgeworker: only ew_ symbols leave the shared library. */
#undef DUK_EXTERNAL_DECL
#undef DUK_EXTERNAL
#define DUK_EXTERNAL_DECL __attribute__((visibility("hidden"))) extern
#define DUK_EXTERNAL __attribute__((visibility("hidden")))

#endif
