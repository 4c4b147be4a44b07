#!/usr/bin/env python3
"""Prepares Duktape's amalgamated source for libedgeworker's own build.

Copies duktape.c, duktape.h and duk_config.h from the Debian package (duktape-dev) into the build folder and
applies the few patches the design needs (ARCHITECTURE.md, DUKTAPE-NOTES.md):

  * duk_config.h: the /* __OVERRIDE_DEFINES__ */ marker becomes an include of ew_duk_config.h, so that our
    #define/#undef lines win over the generated defaults.
  * duktape.c: the regex executor checks the CPU deadline every 4096 steps (Duktape's native regex engine
    never reaches the bytecode interrupt, so a catastrophic pattern would ignore the CPU limit), the
    interrupt interval drops from 256k to 64k instructions (0.2-2.4 ms limit granularity, <= 3% overhead),
    ew__duk_interrupt_now(), ew__duk_clear_constructable(), ew__duk_class_number(), ew__duk_is_proxy(),
    ew__duk_buffer_detach(), ew__duk_pack(), ew__duk_push_dense_items(), ew__duk_push_own_data(),
    ew__duk_iter_is_index(), ew__duk_get_with_receiver() and ew__duk_set_with_receiver() are appended (see
    INTERRUPT_NOW, SUPER_GET, REFLECT_SET; Reflect.get/set take a receiver, Reflect.get/set/has/deleteProperty
    take Symbol keys), and the duk_*_prop_index API checks the
    deadline every 65536 calls (see NATIVE_LOOP_CHECK), JSON.stringify's fast path writes integers
    without sprintf, object literals append their new string-keyed properties directly, and
    duk_get_prop_literal()/duk_put_prop_literal() (and ew__duk_get_data_literal(), ew__duk_def_value_literal())
    take own properties of ordinary objects directly (OWN_PROPS),
    JSON.stringify's output buffer starts at 768 bytes and its fast path looks for toJSON in the property tables,
    and a short string concatenation is built on the C stack.

Every patch must match exactly once: a Duktape update that moves the code fails the build loudly instead
of silently losing a limit. Usage: prepare.py OUTDIR SRCDIR OVERRIDES_HEADER
"""
import os
import shutil
import sys


# Appended to duktape.c: lets the allocator (lib/core/limits.c) make the running coroutine reach its
# interrupt check at the very next bytecode instruction once the memory limit is crossed, so that no catch
# block of the script runs after a limit fired.
INTERRUPT_NOW = """
/* libedgeworker: see lib/duk/prepare.py */
DUK_EXTERNAL void ew__duk_interrupt_now(duk_context *ctx) {
	duk_hthread *thr = (duk_hthread *) ctx;
	if (thr->heap->curr_thread != NULL) {
		thr->heap->curr_thread->interrupt_counter = 0;
	}
}

/* libedgeworker: built-in methods are not constructors (`new Map.prototype.get()` must throw TypeError and
 * IsConstructor must be false); Duktape makes every C function constructable. */
DUK_EXTERNAL void ew__duk_clear_constructable(duk_context *ctx, duk_idx_t idx) {
	duk_hobject *h = duk_require_hobject((duk_hthread *) ctx, idx);
	DUK_HOBJECT_CLEAR_CONSTRUCTABLE(h);
}

/* libedgeworker: the internal class number of the object at idx (-1 if not an object), e.g. to tell typed
 * arrays apart without duk_inspect_value (which allocates). Values are Duktape's DUK_HOBJECT_CLASS_*. */
DUK_EXTERNAL duk_int_t ew__duk_class_number(duk_context *ctx, duk_idx_t idx) {
	duk_hobject *h = duk_get_hobject((duk_hthread *) ctx, idx);
	return h != NULL ? (duk_int_t) DUK_HOBJECT_GET_CLASS_NUMBER(h) : -1;
}

/* libedgeworker: whether the value at idx is a Proxy (its traps make the C fast paths that enumerate an
 * object's own properties unobservably wrong, so those fall back to script). */
DUK_EXTERNAL duk_int_t ew__duk_is_proxy(duk_context *ctx, duk_idx_t idx) {
	duk_hobject *h = duk_get_hobject((duk_hthread *) ctx, idx);
	return h != NULL && DUK_HOBJECT_IS_PROXY(h);
}

/* libedgeworker: detaches the ArrayBuffer at idx (structuredClone's transfer, postMessage): it now views a
 * new empty buffer, so byteLength is 0 and views made from it afterwards are empty. Duktape has no detached
 * state; views made before keep the old bytes alive (they hold their own reference to them). Returns 0 if
 * the value is not an ArrayBuffer. */
DUK_EXTERNAL duk_int_t ew__duk_buffer_detach(duk_context *ctx, duk_idx_t idx) {
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_hobject *h = duk_get_hobject(thr, idx);
	duk_hbufobj *b;
	duk_hbuffer *nb, *old;
	if (h == NULL || DUK_HOBJECT_GET_CLASS_NUMBER(h) != DUK_HOBJECT_CLASS_ARRAYBUFFER) {
		return 0;
	}
	b = (duk_hbufobj *) h;
	(void) duk_push_fixed_buffer(thr, 0);
	nb = duk_known_hbuffer(thr, -1);
	DUK_HBUFFER_INCREF(thr, nb);
	old = b->buf;
	b->buf = nb;
	b->offset = 0;
	b->length = 0;
	if (old != NULL) {
		DUK_HBUFFER_DECREF_NORZ(thr, old);
	}
	duk_pop(thr);
	return 1;
}

/* libedgeworker: duk_pack, internal in 2.7: pops the count values on top into a new array, allocated once at
 * its size (lib/core/builtin_iterfast.c builds spread results with it). */
DUK_EXTERNAL void ew__duk_pack(duk_context *ctx, duk_idx_t count) {
	duk_pack((duk_hthread *) ctx, count);
}

/* libedgeworker: pushes the items of the Array at idx (not a Proxy) and returns their number, when every
 * index below its length is an own data item of its array part: then reading them runs no code and they are
 * exactly what its iterator would yield. Otherwise pushes nothing and returns -1 (lib/core/builtin_iterfast.c
 * takes the general path). */
DUK_EXTERNAL duk_int_t ew__duk_push_dense_items(duk_context *ctx, duk_idx_t idx) {
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_hobject *h = duk_get_hobject(thr, idx);
	duk_uint32_t i, n;
	if (h == NULL || !DUK_HOBJECT_HAS_EXOTIC_ARRAY(h) || DUK_HOBJECT_IS_PROXY(h) || !DUK_HOBJECT_HAS_ARRAY_PART(h)) {
		return -1;
	}
	n = ((duk_harray *) h)->length;
	if (n > DUK_HOBJECT_GET_ASIZE(h) || n > 100000U) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (DUK_TVAL_IS_UNUSED(DUK_HOBJECT_A_GET_VALUE_PTR(thr->heap, h, i))) {
			return -1;
		}
	}
	duk_require_stack(thr, (duk_idx_t) n); /* may run a GC that moves h's items: read them after */
	if (!DUK_HOBJECT_HAS_ARRAY_PART(h) || n > DUK_HOBJECT_GET_ASIZE(h)) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		duk_push_tval(thr, DUK_HOBJECT_A_GET_VALUE_PTR(thr->heap, h, i));
	}
	return (duk_int_t) n;
}

/* libedgeworker: whether the value at idx iterates as indexing it (lib/core/builtin_iterfast.c), found without
 * running any code: its @@iterator (k[0], a symbol) is a data property holding k[1] (Array.prototype.values),
 * %ArrayIteratorPrototype% (k[2]) has an own data property k[3] ("next") holding k[4], and no object on its
 * chain has k[5] ("return"). Returns 1 if so, 0 if not, -1 when that cannot be known without running code
 * (not an object, a Proxy, an accessor, a typed array, no @@iterator): the caller then reads with [[Get]].
 * With idx DUK_INVALID_INDEX, only the part about %ArrayIteratorPrototype% (-1: a Proxy on its chain). */
DUK_EXTERNAL duk_int_t ew__duk_iter_is_index(duk_context *ctx, duk_idx_t idx, void *const *k) {
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_hobject *h = idx == DUK_INVALID_INDEX ? NULL : duk_get_hobject(thr, idx), *o;
	duk_int_t e_idx, h_idx;
	duk_tval *tv = NULL;
	if (idx == DUK_INVALID_INDEX) {
		goto proto;
	}
	if (h == NULL || DUK_HOBJECT_IS_BUFOBJ(h)) {
		return -1;
	}
	for (o = h; o != NULL; o = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, o)) {
		if (DUK_HOBJECT_IS_PROXY(o)) {
			return -1;
		}
		if (duk_hobject_find_entry(thr->heap, o, (duk_hstring *) k[0], &e_idx, &h_idx)) {
			if (DUK_HOBJECT_E_SLOT_IS_ACCESSOR(thr->heap, o, e_idx)) {
				return -1;
			}
			tv = DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, o, e_idx);
			break;
		}
	}
	if (tv == NULL) {
		return -1;
	}
	if (!DUK_TVAL_IS_OBJECT(tv) || DUK_TVAL_GET_OBJECT(tv) != (duk_hobject *) k[1]) {
		return 0;
	}
proto:
	o = (duk_hobject *) k[2];
	tv = duk_hobject_find_entry_tval_ptr(thr->heap, o, (duk_hstring *) k[3]);
	if (tv == NULL || !DUK_TVAL_IS_OBJECT(tv) || DUK_TVAL_GET_OBJECT(tv) != (duk_hobject *) k[4]) {
		return 0;
	}
	for (; o != NULL; o = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, o)) {
		if (DUK_HOBJECT_IS_PROXY(o)) {
			return -1;
		}
		if (duk_hobject_find_entry(thr->heap, o, (duk_hstring *) k[5], &e_idx, &h_idx)) {
			return 0;
		}
	}
	return 1;
}

/* libedgeworker: pushes key, value, key, value... of the own enumerable properties of the plain object at idx
 * and returns their number, when all of them are data properties with string keys that are not array indices
 * and the object has no array part (so their order is the entry order, and reading them runs no code).
 * Otherwise pushes nothing and returns -1 (lib/core/builtin_object.c's objectSpread enumerates instead). */
DUK_EXTERNAL duk_int_t ew__duk_push_own_data(duk_context *ctx, duk_idx_t idx) {
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_hobject *h = duk_get_hobject(thr, idx);
	duk_uint_fast32_t i;
	duk_int_t count = 0;
	if (h == NULL || DUK_HOBJECT_GET_CLASS_NUMBER(h) != DUK_HOBJECT_CLASS_OBJECT || DUK_HOBJECT_IS_PROXY(h) ||
	    DUK_HOBJECT_HAS_ARRAY_PART(h) || DUK_HOBJECT_HAS_EXOTIC_BEHAVIOR(h)) {
		return -1;
	}
	for (i = 0; i < (duk_uint_fast32_t) DUK_HOBJECT_GET_ENEXT(h); i++) {
		duk_hstring *k = DUK_HOBJECT_E_GET_KEY(thr->heap, h, i);
		if (k == NULL || (DUK_HSTRING_HAS_SYMBOL(k) && DUK_HSTRING_HAS_HIDDEN(k)) ||
		    !DUK_HOBJECT_E_SLOT_IS_ENUMERABLE(thr->heap, h, i)) {
			continue;
		}
		if (DUK_HSTRING_HAS_SYMBOL(k) || DUK_HSTRING_HAS_ARRIDX(k) || DUK_HOBJECT_E_SLOT_IS_ACCESSOR(thr->heap, h, i)) {
			return -1;
		}
		count++;
	}
	duk_require_stack(thr, count * 2); /* may run a GC that compacts h: walk its entries again after */
	for (i = 0; i < (duk_uint_fast32_t) DUK_HOBJECT_GET_ENEXT(h); i++) {
		duk_hstring *k = DUK_HOBJECT_E_GET_KEY(thr->heap, h, i);
		if (k == NULL || DUK_HSTRING_HAS_SYMBOL(k) || !DUK_HOBJECT_E_SLOT_IS_ENUMERABLE(thr->heap, h, i)) {
			continue;
		}
		duk_push_hstring(thr, k);
		duk_push_tval(thr, DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, h, i));
	}
	return count;
}
"""


# Native built-ins that loop over an array's length without calling back into bytecode (join, indexOf,
# lastIndexOf, reverse, ... on a huge sparse array) never reach the interrupt: `new Array(2e8).join('')`
# would hold the thread for minutes (DUKTAPE-NOTES.md). They all go through the duk_*_prop_index API, so
# every 65536th such call checks the CPU deadline there too.
NATIVE_LOOP_CHECK = """
/* libedgeworker: see lib/duk/prepare.py */
static _Thread_local unsigned int ew__native_loop_steps;
#define EW__NATIVE_LOOP_CHECK(thr) do { \\
\t\tif (DUK_UNLIKELY((++ew__native_loop_steps & 0xffffU) == 0) && \\
\t\t    DUK_USE_EXEC_TIMEOUT_CHECK((thr)->heap->heap_udata)) { \\
\t\t\t(thr)->interrupt_counter = 0; \\
\t\t\tDUK_ERROR_RANGE((thr), "execution timeout"); \\
\t\t} \\
\t} while (0)

"""


# Appended to duktape.c: `super[key]` read with the receiver the spec asks for (lib/core/class_helpers.c).
# The public API can only read a property with the holder as `this`, or build a descriptor object
# (~2k instructions); lowered `super.m()` calls do this lookup on every call.
SUPER_GET = """
/* libedgeworker: see lib/duk/prepare.py. Pushes the value of `key` (the value at key_idx, coerced in place
 * to a property key) looked up from `start` up its prototype chain, calling a getter with the value at
 * recv_idx as `this`; undefined if absent; returns 1. A Proxy on the chain ends the walk: pushes that Proxy
 * and returns 2 (the caller reads the key from it, which runs its traps). */
DUK_EXTERNAL duk_int_t ew__duk_get_with_receiver(duk_context *ctx, duk_idx_t start_idx, duk_idx_t key_idx,
                                                 duk_idx_t recv_idx) {
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_hobject *p = duk_require_hobject(thr, start_idx);
	duk_hstring *key;
	duk_propdesc desc;
	duk_int_t sanity = DUK_HOBJECT_PROTOTYPE_CHAIN_SANITY;
	recv_idx = duk_require_normalize_index(thr, recv_idx);
	key = duk_to_property_key_hstring(thr, key_idx);
	do {
		if (DUK_HOBJECT_IS_PROXY(p)) {
			duk_push_hobject(thr, p);
			return 2;
		}
		if (duk_hobject_get_own_propdesc(thr, p, key, &desc, DUK_GETDESC_FLAG_PUSH_VALUE)) {
			if (desc.flags & DUK_PROPDESC_FLAG_ACCESSOR) {
				if (desc.get != NULL) {
					duk_pop(thr); /* the undefined pushed for an accessor */
					duk_push_hobject(thr, desc.get);
					duk_dup(thr, recv_idx);
					duk_call_method(thr, 0);
				}
			}
			return 1;
		}
		p = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, p);
	} while (p != NULL && --sanity > 0);
	duk_push_undefined(thr);
	return 1;
}
"""


# Appended to duktape.c: own-property fast paths of duk_get_prop_literal()/duk_put_prop_literal(), the calls
# lib/ uses for the hidden state of every Web object (a Request's URL, a Headers' list, a URL's record):
# ~40 of them per request, ~300 (get) and ~700 (put) instructions each through the generic property code,
# which looks at exotic behaviours and, for a new key, at every prototype for a setter. On an object with no
# exotic behaviour and a key that is no array index the result is the same as the generic path's when:
#   get: the first object on the prototype chain that has the key has it as a data property (or none has
#        it: undefined), every object before it having no exotic behaviour either;
#   put: the key is an own writable data property (the value is replaced), or it is nowhere on the object
#        or its prototype chain (no setter, no read-only inherited property) and the object is extensible
#        (a new enumerable, writable, configurable property is appended, as the generic put creates it).
# Anything else returns 0 and the caller takes the generic path with the stack unchanged.
OWN_PROPS = """
/* libedgeworker: see lib/duk/prepare.py (OWN_PROPS). Stack: [... key] (get) or [... value key] (put);
 * obj_idx is normalized (put: may be DUK_INVALID_INDEX). get returns -1 to take the generic path, else the
 * result (1 found, 0 not) with the value (or undefined) where the key was; put returns 1 when done, with
 * value and key popped. */
DUK_LOCAL duk_int_t ew__duk_lit_get_own(duk_hthread *thr, duk_idx_t obj_idx) {
	duk_tval *tv_obj = DUK_GET_TVAL_POSIDX(thr, obj_idx);
	duk_hstring *key = duk_known_hstring(thr, -1);
	duk_hobject *obj;
	duk_int_t e_idx, h_idx;
	duk_int_t sanity = DUK_HOBJECT_PROTOTYPE_CHAIN_SANITY;
	if (!DUK_TVAL_IS_OBJECT(tv_obj) || DUK_HSTRING_HAS_ARRIDX(key)) {
		return -1;
	}
	for (obj = DUK_TVAL_GET_OBJECT(tv_obj); obj != NULL; obj = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, obj)) {
		if (DUK_HOBJECT_HAS_EXOTIC_BEHAVIOR(obj) || --sanity <= 0) {
			return -1;
		}
		if (duk_hobject_find_entry(thr->heap, obj, key, &e_idx, &h_idx)) {
			if (DUK_HOBJECT_E_SLOT_IS_ACCESSOR(thr->heap, obj, e_idx)) {
				return -1; /* a getter: the generic path calls it */
			}
			/* the literal key stays pinned (literal cache) when it leaves the stack */
			DUK_TVAL_SET_TVAL_UPDREF(thr, DUK_GET_TVAL_NEGIDX(thr, -1), DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, obj, e_idx));
			return 1;
		}
	}
	DUK_TVAL_SET_UNDEFINED_UPDREF(thr, DUK_GET_TVAL_NEGIDX(thr, -1)); /* nowhere on the chain */
	return 0;
}

DUK_LOCAL duk_bool_t ew__duk_lit_put_own(duk_hthread *thr, duk_idx_t obj_idx) {
	duk_tval *tv_obj;
	duk_hstring *key = duk_known_hstring(thr, -1);
	duk_hobject *obj, *p;
	duk_int_t e_idx, h_idx;
	duk_tval *tv;
	duk_int_t sanity = DUK_HOBJECT_PROTOTYPE_CHAIN_SANITY;
	if (obj_idx < 0 || DUK_HSTRING_HAS_ARRIDX(key)) {
		return 0;
	}
	tv_obj = DUK_GET_TVAL_POSIDX(thr, obj_idx);
	if (!DUK_TVAL_IS_OBJECT(tv_obj)) {
		return 0;
	}
	obj = DUK_TVAL_GET_OBJECT(tv_obj);
	if (DUK_HOBJECT_HAS_EXOTIC_BEHAVIOR(obj)) {
		return 0;
	}
	if (duk_hobject_find_entry(thr->heap, obj, key, &e_idx, &h_idx)) {
		if (DUK_HOBJECT_E_SLOT_IS_ACCESSOR(thr->heap, obj, e_idx) ||
		    !DUK_HOBJECT_E_SLOT_IS_WRITABLE(thr->heap, obj, e_idx)) {
			return 0;
		}
	} else {
		if (!DUK_HOBJECT_HAS_EXTENSIBLE(obj)) {
			return 0;
		}
		for (p = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, obj); p != NULL; p = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, p)) {
			if (DUK_HOBJECT_HAS_EXOTIC_BEHAVIOR(p) || --sanity <= 0 ||
			    duk_hobject_find_entry(thr->heap, p, key, &e_idx, &h_idx)) {
				return 0;
			}
		}
		e_idx = duk__hobject_alloc_entry_checked(thr, obj, key); /* increases key refcount */
		DUK_HOBJECT_E_SET_FLAGS(thr->heap, obj, e_idx, DUK_PROPDESC_FLAGS_WEC);
		DUK_TVAL_SET_UNDEFINED(DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, obj, e_idx));
	}
	tv = DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, obj, e_idx);
	DUK_TVAL_SET_TVAL_UPDREF(thr, tv, DUK_GET_TVAL_NEGIDX(thr, -2)); /* side effects, as the generic put's */
	duk_pop_2_unsafe(thr);
	return 1;
}

/* libedgeworker: reads the literal key of the object at obj_idx without running script: pushes the value
 * (undefined when absent) and returns 1 (found) or 0, or returns -1 with nothing pushed when a getter or an
 * exotic object (Proxy) is in the way, for the caller to take a protected generic read. */
DUK_EXTERNAL duk_int_t ew__duk_get_data_literal(duk_context *ctx, duk_idx_t obj_idx, const char *key, duk_size_t key_len) {
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_int_t rc;
	obj_idx = duk_require_normalize_index(thr, obj_idx);
	(void) duk_push_literal_raw(thr, key, key_len);
	rc = ew__duk_lit_get_own(thr, obj_idx);
	if (rc < 0) {
		duk_pop_unsafe(thr);
	}
	return rc;
}

/* libedgeworker: duk_def_prop(obj_idx, key, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE |
 * DUK_DEFPROP_FORCE) with the value on top (popped) for an ordinary object, without the generic define's
 * descriptor validation (~300 instructions): an own data property gets the value and is made writable, a
 * missing key is added writable, neither enumerable nor configurable. Returns 0 with the stack unchanged for
 * anything else (an accessor, an exotic object, an index key). */
DUK_EXTERNAL duk_int_t ew__duk_def_value_literal(duk_context *ctx, duk_idx_t obj_idx, const char *key, duk_size_t key_len) {
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_tval *tv_obj;
	duk_hobject *obj;
	duk_hstring *h_key;
	duk_int_t e_idx, h_idx;
	duk_tval *tv;
	obj_idx = duk_require_normalize_index(thr, obj_idx);
	tv_obj = DUK_GET_TVAL_POSIDX(thr, obj_idx);
	if (!DUK_TVAL_IS_OBJECT(tv_obj) || DUK_HOBJECT_HAS_EXOTIC_BEHAVIOR(DUK_TVAL_GET_OBJECT(tv_obj))) {
		return 0;
	}
	obj = DUK_TVAL_GET_OBJECT(tv_obj);
	h_key = duk_push_literal_raw(thr, key, key_len) != NULL ? duk_known_hstring(thr, -1) : NULL;
	if (h_key == NULL || DUK_HSTRING_HAS_ARRIDX(h_key)) {
		duk_pop_unsafe(thr);
		return 0;
	}
	if (duk_hobject_find_entry(thr->heap, obj, h_key, &e_idx, &h_idx)) {
		if (DUK_HOBJECT_E_SLOT_IS_ACCESSOR(thr->heap, obj, e_idx)) {
			duk_pop_unsafe(thr);
			return 0;
		}
		DUK_HOBJECT_E_SET_FLAGS(thr->heap, obj, e_idx,
		                        DUK_HOBJECT_E_GET_FLAGS(thr->heap, obj, e_idx) | DUK_PROPDESC_FLAG_WRITABLE);
	} else {
		e_idx = duk__hobject_alloc_entry_checked(thr, obj, h_key); /* increases key refcount */
		DUK_HOBJECT_E_SET_FLAGS(thr->heap, obj, e_idx, DUK_PROPDESC_FLAG_WRITABLE);
		DUK_TVAL_SET_UNDEFINED(DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, obj, e_idx));
	}
	tv = DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, obj, e_idx);
	DUK_TVAL_SET_TVAL_UPDREF(thr, tv, DUK_GET_TVAL_NEGIDX(thr, -2)); /* side effects, as duk_def_prop's */
	duk_pop_2_unsafe(thr);
	return 1;
}

/* libedgeworker: JSON.stringify's fast path asks, for every object, whether it has a toJSON property
 * anywhere on its prototype chain (~160 instructions through the generic lookup). The same answer from the
 * property tables: an Array's exotic behaviour concerns indices and "length" only; any other exotic object on
 * the chain takes the generic lookup. */
DUK_LOCAL duk_bool_t ew__duk_json_has_tojson(duk_hthread *thr, duk_hobject *obj) {
	duk_hstring *key = DUK_HTHREAD_STRING_TO_JSON(thr);
	duk_hobject *p;
	duk_int_t e_idx, h_idx;
	duk_int_t sanity = DUK_HOBJECT_PROTOTYPE_CHAIN_SANITY;
	for (p = obj; p != NULL; p = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, p)) {
		if (DUK_HEAPHDR_CHECK_FLAG_BITS(&p->hdr, DUK_HOBJECT_EXOTIC_BEHAVIOR_FLAGS & ~DUK_HOBJECT_FLAG_EXOTIC_ARRAY) ||
		    --sanity <= 0) {
			return duk_hobject_hasprop_raw(thr, obj, key);
		}
		if (duk_hobject_find_entry(thr->heap, p, key, &e_idx, &h_idx)) {
			return 1;
		}
	}
	return 0;
}
"""

# Appended to duktape.c: Reflect.set(target, key, value, receiver) with a receiver other than target, which
# Duktape refuses ("unsupported"): OrdinarySet (ES2022 10.1.9.2) — the property found up target's chain
# decides; a setter runs with the receiver as `this`, a writable data property is created or updated on the
# receiver. A Proxy on target's chain takes the set through its trap (Duktape passes traps no receiver); a
# Proxy receiver stands for its target (Duktape's proxies trap neither getOwnPropertyDescriptor nor
# defineProperty). The common `set(t, k, v, receiver) { return Reflect.set(t, k, v, receiver); }` trap of a
# Proxy handler needs this.
REFLECT_SET = """
/* libedgeworker: see lib/duk/prepare.py. Returns the boolean Reflect.set answers; never throws for a refused
 * write (a setter's own throw propagates). */
DUK_EXTERNAL duk_bool_t ew__duk_set_with_receiver(duk_context *ctx, duk_idx_t target_idx, duk_idx_t key_idx,
                                                 duk_idx_t val_idx, duk_idx_t recv_idx) {
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_hobject *p = duk_require_hobject(thr, target_idx);
	duk_hobject *r;
	duk_hstring *key;
	duk_propdesc desc;
	duk_bool_t found = 0;
	duk_int_t sanity = DUK_HOBJECT_PROTOTYPE_CHAIN_SANITY;
	key_idx = duk_require_normalize_index(thr, key_idx);
	val_idx = duk_require_normalize_index(thr, val_idx);
	recv_idx = duk_require_normalize_index(thr, recv_idx);
	key = duk_to_property_key_hstring(thr, key_idx);
	do {
		if (DUK_HOBJECT_IS_PROXY(p)) {
			duk_bool_t ok;
			duk_push_hobject(thr, p);
			ok = duk_hobject_putprop(thr, duk_get_tval(thr, -1), duk_get_tval(thr, key_idx),
			                         duk_get_tval(thr, val_idx), 0 /*throw_flag*/);
			duk_pop(thr);
			return ok;
		}
		if (duk_hobject_get_own_propdesc(thr, p, key, &desc, 0)) {
			found = 1;
			break;
		}
		p = DUK_HOBJECT_GET_PROTOTYPE(thr->heap, p);
	} while (p != NULL && --sanity > 0);
	if (found && (desc.flags & DUK_PROPDESC_FLAG_ACCESSOR)) {
		if (desc.set == NULL) {
			return 0;
		}
		duk_push_hobject(thr, desc.set);
		duk_dup(thr, recv_idx);
		duk_dup(thr, val_idx);
		duk_call_method(thr, 1);
		duk_pop(thr);
		return 1;
	}
	if (found && !(desc.flags & DUK_PROPDESC_FLAG_WRITABLE)) {
		return 0;
	}
	r = duk_get_hobject(thr, recv_idx);
	while (r != NULL && DUK_HOBJECT_IS_PROXY(r) && --sanity > 0) {
		r = ((duk_hproxy *) r)->target;
	}
	if (r == NULL || DUK_HOBJECT_IS_PROXY(r)) {
		return 0;
	}
	if (duk_hobject_get_own_propdesc(thr, r, key, &desc, 0)) {
		if ((desc.flags & DUK_PROPDESC_FLAG_ACCESSOR) || !(desc.flags & DUK_PROPDESC_FLAG_WRITABLE)) {
			return 0;
		}
		return duk_hobject_define_property_helper(thr, DUK_DEFPROP_HAVE_VALUE, r, key, val_idx, NULL, NULL, 0);
	}
	return duk_hobject_define_property_helper(thr, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC, r, key, val_idx,
	                                          NULL, NULL, 0);
}
"""


def patch_once(text, old, new, what):
    count = text.count(old)
    if count != 1:
        sys.exit("prepare.py: patch '%s' matched %d times (expected 1): Duktape source changed?" % (what, count))
    return text.replace(old, new)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: prepare.py OUTDIR SRCDIR OVERRIDES_HEADER")
    outdir, srcdir, overrides = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)

    with open(os.path.join(srcdir, "duk_config.h"), encoding="utf-8") as f:
        config = f.read()
    config = patch_once(config, "/* __OVERRIDE_DEFINES__ */", '#include "ew_duk_config.h"', "override marker")

    with open(os.path.join(srcdir, "duktape.c"), encoding="utf-8") as f:
        source = f.read()
    source = patch_once(
        source,
        "\t\tre_ctx->steps_count++;\n",
        "\t\tre_ctx->steps_count++;\n"
        "\t\tif ((re_ctx->steps_count & 0xfffU) == 0 &&\n"
        "\t\t    DUK_USE_EXEC_TIMEOUT_CHECK(re_ctx->thr->heap->heap_udata)) {\n"
        "\t\t\tre_ctx->thr->interrupt_counter = 0; /* catch blocks must not run either */\n"
        "\t\t\tDUK_ERROR_RANGE(re_ctx->thr, \"execution timeout\");\n"
        "\t\t\tDUK_WO_NORETURN(return NULL;);\n"
        "\t\t}\n",
        "regex deadline check")
    for fn in ("get", "put", "del", "has"):
        head = ("DUK_EXTERNAL duk_bool_t duk_%s_prop_index(duk_hthread *thr, duk_idx_t obj_idx, "
                "duk_uarridx_t arr_idx) {\n\tDUK_ASSERT_API_ENTRY(thr);\n" % fn)
        source = patch_once(source, head, head + "\tEW__NATIVE_LOOP_CHECK(thr);\n", "%s_prop_index check" % fn)
    source = NATIVE_LOOP_CHECK + source
    source = patch_once(
        source,
        "#define DUK_HTHREAD_INTCTR_DEFAULT (256L * 1024L)",
        "#define DUK_HTHREAD_INTCTR_DEFAULT (64L * 1024L)",
        "interrupt interval")

    # JSON.stringify's fast path formats every integer with sprintf("%lld"), ~700 instructions each (a
    # third of a small API response's stringify): digits by hand instead.
    source = patch_once(
        source,
        "\tDUK_SPRINTF((char *) buf, \"%lld\", (long long) v);\n",
        "\t{ /* libedgeworker: see lib/duk/prepare.py */\n"
        "\t\tduk_uint8_t rev[21];\n"
        "\t\tduk_small_int_t n = 0, k = 0;\n"
        "\t\tduk_uint64_t u = v < 0 ? (duk_uint64_t) 0 - (duk_uint64_t) v : (duk_uint64_t) v;\n"
        "\t\tdo {\n"
        "\t\t\trev[n++] = (duk_uint8_t) ('0' + (duk_small_int_t) (u % 10U));\n"
        "\t\t\tu /= 10U;\n"
        "\t\t} while (u != 0U);\n"
        "\t\tif (v < 0) {\n"
        "\t\t\tbuf[k++] = '-';\n"
        "\t\t}\n"
        "\t\twhile (n > 0) {\n"
        "\t\t\tbuf[k++] = rev[--n];\n"
        "\t\t}\n"
        "\t\tbuf[k] = 0;\n"
        "\t}\n",
        "json fastint digits")
    # JSON.stringify starts its output buffer at 128 bytes and grows it by an eighth plus spare, with a
    # worst-case reservation per string (6 bytes a character): a 300-byte API response was resized twice
    # (~950 instructions each). 768 bytes cover typical responses in one allocation (under 1 KiB with the
    # headers, so that malloc serves it from its small bins without consolidating), freed after the call.
    source = patch_once(
        source,
        "#define DUK__JSON_STRINGIFY_BUFSIZE 128\n",
        "#define DUK__JSON_STRINGIFY_BUFSIZE 768 /* libedgeworker: see lib/duk/prepare.py */\n",
        "json stringify buffer size")
    # String concatenation (`+`, and template literals lowered to it) joined two strings through a temporary
    # fixed buffer (alloc, copy, intern, free: ~1,200 instructions for "item-" + 7). A short result is built
    # on the C stack and interned directly.
    source = patch_once(
        source,
        "\tbuf = (duk_uint8_t *) duk_push_fixed_buffer_nozero(thr, len);\n"
        "\tDUK_ASSERT(buf != NULL);\n\n"
        "\tduk_memcpy((void *) buf, (const void *) DUK_HSTRING_GET_DATA(h1), (size_t) len1);\n",
        "\tif (len <= 256) { /* libedgeworker: see lib/duk/prepare.py */\n"
        "\t\tduk_uint8_t ew_tmp[256];\n"
        "\t\tduk_memcpy((void *) ew_tmp, (const void *) DUK_HSTRING_GET_DATA(h1), (size_t) len1);\n"
        "\t\tduk_memcpy((void *) (ew_tmp + len1), (const void *) DUK_HSTRING_GET_DATA(h2), (size_t) len2);\n"
        "\t\t(void) duk_push_lstring(thr, (const char *) ew_tmp, len);\n"
        "\t\tduk_replace(thr, -3);\n"
        "\t\tduk_pop_unsafe(thr);\n"
        "\t\treturn;\n"
        "\t}\n"
        "\tbuf = (duk_uint8_t *) duk_push_fixed_buffer_nozero(thr, len);\n"
        "\tDUK_ASSERT(buf != NULL);\n\n"
        "\tduk_memcpy((void *) buf, (const void *) DUK_HSTRING_GET_DATA(h1), (size_t) len1);\n",
        "concat_2 short results")
    source = patch_once(
        source,
        "DUK_LOCAL duk_bool_t duk__json_stringify_fast_value(duk_json_enc_ctx *js_ctx, duk_tval *tv) {\n",
        "DUK_LOCAL_DECL duk_bool_t ew__duk_json_has_tojson(duk_hthread *thr, duk_hobject *obj);\n"
        "DUK_LOCAL duk_bool_t duk__json_stringify_fast_value(duk_json_enc_ctx *js_ctx, duk_tval *tv) {\n",
        "json toJSON check declaration")
    source = patch_once(
        source,
        "\t\tif (duk_hobject_hasprop_raw(js_ctx->thr, obj, DUK_HTHREAD_STRING_TO_JSON(js_ctx->thr)) ||\n",
        "\t\tif (ew__duk_json_has_tojson(js_ctx->thr, obj) || /* libedgeworker: see lib/duk/prepare.py */\n",
        "json toJSON check")
    # Object literals (MPUTOBJ) define each property through the generic duk_def_prop (~470 instructions).
    # A literal's target is a fresh plain object: a string key that is no array index and not yet an own
    # property is appended directly to the property table (what duk_def_prop ends up doing there, without
    # looking the key up again); anything else (a duplicate key,
    # an index, a computed non-string key) keeps the generic path.
    source = patch_once(
        source,
        "\t\t\tdo {\n"
        "\t\t\t\t/* XXX: faster initialization (direct access or better primitives) */\n"
        "\t\t\t\tduk_dup(thr, (duk_idx_t) idx);\n",
        "\t\t\tdo {\n"
        "\t\t\t\t{ /* libedgeworker: see lib/duk/prepare.py */\n"
        "\t\t\t\t\tduk_tval *ew_tv_key = duk_get_tval(thr, (duk_idx_t) idx);\n"
        "\t\t\t\t\tduk_hobject *ew_obj = duk_known_hobject(thr, obj_idx);\n"
        "\t\t\t\t\tduk_int_t ew_e_idx, ew_h_idx;\n"
        "\t\t\t\t\tif (ew_tv_key != NULL && DUK_TVAL_IS_STRING(ew_tv_key) &&\n"
        "\t\t\t\t\t    !DUK_HSTRING_HAS_ARRIDX(DUK_TVAL_GET_STRING(ew_tv_key)) &&\n"
        "\t\t\t\t\t    !DUK_HOBJECT_HAS_EXOTIC_ARRAY(ew_obj) && !DUK_HOBJECT_IS_PROXY(ew_obj) &&\n"
        "\t\t\t\t\t    DUK_HOBJECT_GET_CLASS_NUMBER(ew_obj) == DUK_HOBJECT_CLASS_OBJECT &&\n"
        "\t\t\t\t\t    !duk_hobject_find_entry(thr->heap, ew_obj, DUK_TVAL_GET_STRING(ew_tv_key), &ew_e_idx, &ew_h_idx)) {\n"
        "\t\t\t\t\t\tew_e_idx = duk__hobject_alloc_entry_checked(thr, ew_obj, DUK_TVAL_GET_STRING(ew_tv_key));\n"
        "\t\t\t\t\t\tDUK_HOBJECT_E_SET_FLAGS(thr->heap, ew_obj, ew_e_idx, DUK_PROPDESC_FLAGS_WEC);\n"
        "\t\t\t\t\t\tDUK_TVAL_SET_UNDEFINED(DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, ew_obj, ew_e_idx));\n"
        "\t\t\t\t\t\tDUK_TVAL_SET_TVAL_UPDREF(thr, DUK_HOBJECT_E_GET_VALUE_TVAL_PTR(thr->heap, ew_obj, ew_e_idx),\n"
        "\t\t\t\t\t\t                         duk_get_tval(thr, (duk_idx_t) (idx + 1)));\n"
        "\t\t\t\t\t\tidx += 2;\n"
        "\t\t\t\t\t\tcontinue;\n"
        "\t\t\t\t\t}\n"
        "\t\t\t\t}\n"
        "\t\t\t\tduk_dup(thr, (duk_idx_t) idx);\n",
        "object literal fast path")
    source = patch_once(
        source,
        "DUK_EXTERNAL duk_bool_t duk_get_prop_literal_raw(duk_hthread *thr, duk_idx_t obj_idx, const char *key, "
        "duk_size_t key_len) {\n",
        "DUK_LOCAL_DECL duk_int_t ew__duk_lit_get_own(duk_hthread *thr, duk_idx_t obj_idx);\n"
        "DUK_LOCAL_DECL duk_bool_t ew__duk_lit_put_own(duk_hthread *thr, duk_idx_t obj_idx);\n"
        "DUK_EXTERNAL duk_bool_t duk_get_prop_literal_raw(duk_hthread *thr, duk_idx_t obj_idx, const char *key, "
        "duk_size_t key_len) {\n",
        "get_prop_literal declarations")
    source = patch_once(
        source,
        "\t(void) duk_push_literal_raw(thr, key, key_len);\n\treturn duk_get_prop(thr, obj_idx);\n",
        "\t(void) duk_push_literal_raw(thr, key, key_len);\n"
        "\t{ /* libedgeworker: see lib/duk/prepare.py */\n"
        "\t\tduk_int_t ew_rc = ew__duk_lit_get_own(thr, obj_idx);\n"
        "\t\tif (ew_rc >= 0) {\n"
        "\t\t\treturn (duk_bool_t) ew_rc;\n"
        "\t\t}\n"
        "\t}\n"
        "\treturn duk_get_prop(thr, obj_idx);\n",
        "get_prop_literal own fast path")
    source = patch_once(
        source,
        "\t(void) duk_push_literal_raw(thr, key, key_len);\n\treturn duk__put_prop_shared(thr, obj_idx, -1);\n",
        "\t(void) duk_push_literal_raw(thr, key, key_len);\n"
        "\tif (ew__duk_lit_put_own(thr, obj_idx)) { /* libedgeworker: see lib/duk/prepare.py */\n"
        "\t\treturn 1;\n"
        "\t}\n"
        "\treturn duk__put_prop_shared(thr, obj_idx, -1);\n",
        "put_prop_literal own fast path")
    # Reflect.get/set/has/deleteProperty coerce the key with ToString, which throws for a Symbol
    # (`Reflect.get(a, Symbol.iterator)`): ToPropertyKey as the spec says; the receivers of Reflect.get and Reflect.set
    # (SUPER_GET, REFLECT_SET).
    for fn in ("delete_property", "get", "has", "set"):
        head = "DUK_INTERNAL duk_ret_t duk_bi_reflect_object_%s(duk_hthread *thr) {\n" % fn
        start = source.find(head)
        end = source.find("\t(void) duk_to_string(thr, 1);\n", start)
        if start < 0 or end < 0 or source.count(head) != 1 or end - start > 400:
            sys.exit("prepare.py: patch 'Reflect.%s key' did not match: Duktape source changed?" % fn)
        source = source[:end] + "\t(void) duk_to_property_key_hstring(thr, 1); /* libedgeworker */\n" + \
            source[end + len("\t(void) duk_to_string(thr, 1);\n"):]
    source = patch_once(
        source,
        "\tif (nargs >= 4 && !duk_strict_equals(thr, 0, 3)) {\n"
        "\t\t/* XXX: [[Set]] receiver currently unsupported */\n"
        "\t\tDUK_ERROR_UNSUPPORTED(thr);\n"
        "\t\tDUK_WO_NORETURN(return 0;);\n"
        "\t}\n",
        "\tif (nargs >= 4 && !duk_strict_equals(thr, 0, 3)) {\n"
        "\t\t/* libedgeworker: see lib/duk/prepare.py */\n"
        "\t\tduk_push_boolean(thr, ew__duk_set_with_receiver(thr, 0, 1, 2, 3));\n"
        "\t\treturn 1;\n"
        "\t}\n",
        "Reflect.set receiver")
    source = patch_once(
        source,
        "DUK_INTERNAL duk_ret_t duk_bi_reflect_object_set(duk_hthread *thr) {\n",
        "DUK_EXTERNAL_DECL duk_bool_t ew__duk_set_with_receiver(duk_context *ctx, duk_idx_t target_idx,\n"
        "                                                      duk_idx_t key_idx, duk_idx_t val_idx,\n"
        "                                                      duk_idx_t recv_idx);\n"
        "DUK_INTERNAL duk_ret_t duk_bi_reflect_object_set(duk_hthread *thr) {\n",
        "Reflect.set declaration")
    source = patch_once(
        source,
        "\tif (nargs >= 3 && !duk_strict_equals(thr, 0, 2)) {\n"
        "\t\t/* XXX: [[Get]] receiver currently unsupported */\n"
        "\t\tDUK_ERROR_UNSUPPORTED(thr);\n"
        "\t\tDUK_WO_NORETURN(return 0;);\n"
        "\t}\n",
        "\tif (nargs >= 3 && !duk_strict_equals(thr, 0, 2)) {\n"
        "\t\t/* libedgeworker: see lib/duk/prepare.py (a Proxy on the chain is read through its trap) */\n"
        "\t\tif (ew__duk_get_with_receiver(thr, 0, 1, 2) == 2) {\n"
        "\t\t\tduk_dup(thr, 1);\n"
        "\t\t\tduk_get_prop(thr, -2);\n"
        "\t\t}\n"
        "\t\treturn 1;\n"
        "\t}\n",
        "Reflect.get receiver")
    source = patch_once(
        source,
        "DUK_INTERNAL duk_ret_t duk_bi_reflect_object_get(duk_hthread *thr) {\n",
        "DUK_EXTERNAL_DECL duk_int_t ew__duk_get_with_receiver(duk_context *ctx, duk_idx_t start_idx,\n"
        "                                                     duk_idx_t key_idx, duk_idx_t recv_idx);\n"
        "DUK_INTERNAL duk_ret_t duk_bi_reflect_object_get(duk_hthread *thr) {\n",
        "Reflect.get declaration")
    source += INTERRUPT_NOW
    source += REFLECT_SET
    source += OWN_PROPS
    source += SUPER_GET

    with open(os.path.join(outdir, "duk_config.h"), "w", encoding="utf-8") as f:
        f.write(config)
    with open(os.path.join(outdir, "duktape.c"), "w", encoding="utf-8") as f:
        f.write(source)
    shutil.copyfile(os.path.join(srcdir, "duktape.h"), os.path.join(outdir, "duktape.h"))
    shutil.copyfile(overrides, os.path.join(outdir, "ew_duk_config.h"))


if __name__ == "__main__":
    main()
