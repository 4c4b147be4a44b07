/*
 * coro.js — async functions, generators and async generators on Duktape coroutines (ES5, compiled to
 * bytecode at build time by lib/js/js2c.c). The contract for the compiler's lowering is docs/coroutines.md.
 *
 * Called once per isolate by lib/core/coro.c (ew__coro_init) as `function (native, global)`; returns
 * { helpers, steps }: the helpers go onto the compiler's helper object ($ew), the step functions are what
 * coro.c calls when an awaited promise settles (C cannot resume a thread itself: it calls these, and they
 * call Duktape.Thread.resume from ECMAScript). Every body runs on a pooled thread whose entry is a loop, so
 * between the thread's entry and each yield there are ECMAScript frames only (entry -> body -> helpers).
 *
 * A coroutine tells its driver why it stopped through `kind`, set just before it yields: AWAIT (0; plain
 * `$ew.await`/`$ew.yield` are Duktape.Thread.yield itself and leave it 0), AG_YIELD (an async generator's
 * yield), RAW (a sync yield* passing an inner result object through), DONE or THROW (the body finished;
 * its value is in `res`). Drivers reset `kind` before every resume, so a limit that aborted a coroutine
 * between setting it and yielding leaves nothing stale behind.
 *
 * native: Thread, keys (hidden property names), then, newPromise(), settle(p, v, reject),
 *         settled(v, reject), promiseResolve(v), startAwait(t, v), subscribe(v, target, step),
 *         finish(t, v, reject), bareArray()
 */
function (native, global) {
    'use strict';

    var Thread = native.Thread;
    var resume = Thread.resume;
    var yield_ = Thread['yield'];
    var apply = global.Function.prototype.apply;
    var call = global.Function.prototype.call;
    var then = native.then;
    var TypeError = global.TypeError;
    var Object_ = global.Object;
    var create = Object_.create;
    var defineProperty = Object_.defineProperty;
    var setPrototypeOf = Object_.setPrototypeOf;
    var symIterator = global.Symbol.iterator;
    var symAsyncIterator = global.Symbol.asyncIterator;
    var symToStringTag = global.Symbol.toStringTag;
    var newPromise = native.newPromise;
    var settle = native.settle;
    var settled = native.settled;
    var promiseResolve = native.promiseResolve;
    var startAwait = native.startAwait;
    var subscribe = native.subscribe;
    var finish = native.finish;
    var K_GEN = native.keys.gen;     /* generator object -> its record */
    var K_AGEN = native.keys.agen;   /* async generator object -> its record */
    var K_AFS = native.keys.afs;     /* async-from-sync iterator -> [iterator, next] */

    /* Why a coroutine stopped (see the header). */
    var AWAIT = 0, AG_YIELD = 1, RAW = 2, DONE = 3, THROW = 4;
    /* Steps coro.c calls when a promise that a coroutine awaits settles: indexes into `steps` below. */
    var STEP_ASYNC = 0, STEP_AGEN = 1, STEP_AGEN_RETURN = 2;
    /* Generator states and resumption modes. */
    var G_START = 0, G_YIELD = 1, G_RUNNING = 2, G_DONE = 3, G_AWAIT_RETURN = 4;
    var M_NEXT = 0, M_THROW = 1, M_RETURN = 2;
    /* A generator record: [state, thread, body, this, arguments, return value, queue head, queue tail]. */
    var R_STATE = 0, R_THREAD = 1, R_BODY = 2, R_SELF = 3, R_ARGS = 4, R_RETVAL = 5, R_QHEAD = 6, R_QTAIL = 7;

    /* The sentinel thrown into a generator body by return(): finally blocks run, the lowered code's catch
     * clauses rethrow it (docs/coroutines.md), and the driver turns it into a return completion. */
    var RET = create(null, { toString: { value: function () { return '[generator return sentinel]'; } } });

    var kind = AWAIT;
    var res;                          /* value of a finished body */
    var nBody, nSelf, nArgs;          /* the body the next started thread runs */
    var curGen;                       /* record of the generator whose coroutine runs now */
    var inMode = M_NEXT;              /* async generators: how the driver resumed a yield */

    /* ---- Threads: a pooled thread runs bodies in a loop, so it can be reused. ---- */

    /* Pooling saves ~0.3 us per async call and ~0.5 us per generator (docs/coroutines.md); an idle thread
     * costs ~2.9 KB, so the pool stays small: it serves the common sequential reuse, not bursts. */
    var POOL_MAX = 4;
    var pool = native.bareArray();
    var poolN = 0;

    function entry() {
        for (;;) {
            var body = nBody, self = nSelf, args = nArgs;
            nBody = nSelf = nArgs = undefined;
            try {
                res = apply.call(body, self, args);
                kind = DONE;
            } catch (e) {
                res = e;
                kind = THROW;
            }
            body = self = args = undefined;
            yield_();
        }
    }

    function take() {
        if (poolN === 0) {
            return new Thread(entry);
        }
        var t = pool[--poolN];
        pool[poolN] = undefined;
        return t;
    }

    function give(t) {
        if (poolN < POOL_MAX) {
            pool[poolN++] = t;
        }
    }

    /* Takes the completion value of a finished body. */
    function takeRes() {
        var v = res;
        res = undefined;
        return v;
    }

    /* For error messages: never calls user code (String(obj) would run its toString). */
    function describe(v) {
        return isObject(v) ? typeof v : typeof v === 'symbol' ? 'symbol' : String(v);
    }

    function isObject(v) {
        return v !== null && (typeof v === 'object' || typeof v === 'function');
    }

    function iterResult(value, done) {
        return { value: value, done: done };
    }

    function hide(obj, name, value) {
        defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    function tag(obj, name) {
        defineProperty(obj, symToStringTag, { value: name, writable: false, configurable: true, enumerable: false });
    }

    /* ---- Async functions ---- */

    /* $ew.async(body, self, args): runs body.apply(self, args) on a coroutine up to its first await and
     * returns the promise of its completion. */
    function async(body, self, args) {
        var t = take();
        nBody = body;
        nSelf = self;
        nArgs = args;
        kind = AWAIT;
        var v = resume(t), k = kind;
        kind = AWAIT;
        if (k === AWAIT) {
            return startAwait(t, v);
        }
        v = takeRes();
        give(t);
        return settled(v, k === THROW);
    }

    /* Step STEP_ASYNC: the promise the async body at t awaits has settled (e: it was rejected). */
    function asyncStep(t, v, e) {
        kind = AWAIT;
        v = resume(t, v, e);
        var k = kind;
        kind = AWAIT;
        if (k === AWAIT) {
            subscribe(v, t, STEP_ASYNC);
            return;
        }
        finish(t, takeRes(), k === THROW);
        give(t);
    }

    /* $ew.asyncNoAwait(body, self, args): for bodies without any await: no coroutine at all. */
    function asyncNoAwait(body, self, args) {
        var v;
        try {
            v = apply.call(body, self, args);
        } catch (e) {
            return settled(e, true);
        }
        return settled(v, false);
    }

    /* ---- Generators ---- */

    var GeneratorFunctionPrototype = create(global.Function.prototype);
    var GeneratorPrototype = create(native.IteratorPrototype);
    var AsyncFunctionPrototype = create(global.Function.prototype);
    var AsyncIteratorPrototype = create(Object_.prototype);
    var AsyncGeneratorFunctionPrototype = create(global.Function.prototype);
    var AsyncGeneratorPrototype = create(AsyncIteratorPrototype);
    var AsyncFromSyncIteratorPrototype = create(AsyncIteratorPrototype);

    /* The object a generator call returns: proto from fn.prototype (OrdinaryCreateFromConstructor). */
    function makeGenerator(key, fallback, fn, body, self, args) {
        var proto = fn === undefined ? fallback : fn.prototype;
        var g = create(isObject(proto) ? proto : fallback);
        /* A hidden key is never enumerable and no setter can exist for it: plain assignment is enough, and
         * half the cost of defineProperty. */
        g[key] = [G_START, undefined, body, self, args, undefined, undefined, undefined];
        return g;
    }

    /* $ew.generator(fn, body, self, args): the generator object of a call of generator function fn (its
     * prototype comes from fn.prototype; fn undefined: %GeneratorPrototype%). body.apply(self, args) runs
     * on a coroutine from the first next(). */
    function generator(fn, body, self, args) {
        return makeGenerator(K_GEN, GeneratorPrototype, fn, body, self, args);
    }

    function genRecord(o, key, method) {
        var r = isObject(o) ? o[key] : undefined;
        if (r === undefined) {
            throw new TypeError(method + ' method called on incompatible receiver ' + describe(o));
        }
        return r;
    }

    /* Starts the record's body on a thread; returns what resume returned. */
    function startRecord(r) {
        var t = take();
        r[R_THREAD] = t;
        nBody = r[R_BODY];
        nSelf = r[R_SELF];
        nArgs = r[R_ARGS];
        r[R_BODY] = r[R_SELF] = r[R_ARGS] = undefined;
        return resume(t);
    }

    /* Marks the record completed and returns its thread to the pool. */
    function closeRecord(r) {
        var t = r[R_THREAD];
        r[R_STATE] = G_DONE;
        r[R_THREAD] = r[R_BODY] = r[R_SELF] = r[R_ARGS] = undefined;
        if (t !== undefined) {
            give(t);
        }
    }

    /* GeneratorResume / GeneratorResumeAbrupt. */
    function genResume(r, mode, v) {
        var st = r[R_STATE];
        if (st === G_RUNNING) {
            throw new TypeError('Generator is already running');
        }
        if (st === G_START && mode !== M_NEXT) {
            closeRecord(r);
            st = G_DONE;
        }
        if (st === G_DONE) {
            if (mode === M_THROW) {
                throw v;
            }
            return iterResult(mode === M_RETURN ? v : undefined, true);
        }
        r[R_STATE] = G_RUNNING;
        var prev = curGen;
        curGen = r;
        kind = AWAIT;
        if (st === G_START) {
            v = startRecord(r);
        } else if (mode === M_RETURN) {
            r[R_RETVAL] = v;
            v = resume(r[R_THREAD], RET, true);
        } else {
            v = resume(r[R_THREAD], v, mode === M_THROW);
        }
        curGen = prev;
        var k = kind;
        kind = AWAIT;
        if (k === AWAIT) {
            r[R_STATE] = G_YIELD;
            return iterResult(v, false);
        }
        if (k === RAW) {
            r[R_STATE] = G_YIELD;
            return v;
        }
        v = takeRes();
        closeRecord(r);
        if (k === THROW) {
            if (v !== RET) {
                throw v;
            }
            v = r[R_RETVAL];
            r[R_RETVAL] = undefined;
        }
        return iterResult(v, true);
    }

    /* GetIterator(obj, sync) */
    function getIterator(obj) {
        var m = obj == null ? undefined : obj[symIterator];
        if (typeof m !== 'function') {
            throw new TypeError(describe(obj) + ' is not iterable');
        }
        var it = call.call(m, obj);
        if (!isObject(it)) {
            throw new TypeError('Result of the Symbol.iterator method is not an object');
        }
        return it;
    }

    /* GetMethod(obj, name): undefined for null/undefined, TypeError if not callable. */
    function getMethod(obj, name) {
        var m = obj[name];
        if (m == null) {
            return undefined;
        }
        if (typeof m !== 'function') {
            throw new TypeError('iterator.' + name + ' is not a function');
        }
        return m;
    }

    function checkResult(r) {
        if (!isObject(r)) {
            throw new TypeError('Iterator result ' + describe(r) + ' is not an object');
        }
        return r;
    }

    /* IteratorClose(it, normal completion): errors of return() propagate. */
    function closeIterator(it) {
        var m = getMethod(it, 'return');
        if (m !== undefined) {
            checkResult(call.call(m, it));
        }
    }

    /* $ew.yieldStar(iterable): `yield* iterable` in a generator body. Inner result objects are passed on
     * as they are (kind RAW); throw() and return() are forwarded to the inner iterator. */
    function yieldStar(iterable) {
        var gr = curGen;
        var it = getIterator(iterable), next = it.next, mode = M_NEXT, received, r, m;
        for (;;) {
            if (mode === M_NEXT) {
                r = checkResult(call.call(next, it, received));
            } else if (mode === M_THROW) {
                m = getMethod(it, 'throw');
                if (m === undefined) {
                    closeIterator(it);
                    throw new TypeError('The iterator does not provide a \'throw\' method');
                }
                r = checkResult(call.call(m, it, received));
            } else {
                m = getMethod(it, 'return');
                if (m === undefined) {
                    gr[R_RETVAL] = received;
                    throw RET;
                }
                r = checkResult(call.call(m, it, received));
                if (r.done) {
                    gr[R_RETVAL] = r.value;
                    throw RET;
                }
            }
            if (mode !== M_RETURN && r.done) {
                return r.value;
            }
            try {
                kind = RAW;
                received = yield_(r);
                mode = M_NEXT;
            } catch (e) {
                if (e === RET) {
                    received = gr[R_RETVAL];
                    mode = M_RETURN;
                } else {
                    received = e;
                    mode = M_THROW;
                }
            }
        }
    }

    /* $ew.markGenerator(fn): GeneratorFunction objects' prototypes, for test262-style introspection. */
    function markGenerator(fn) {
        setPrototypeOf(fn, GeneratorFunctionPrototype);
        defineProperty(fn, 'prototype', { value: create(GeneratorPrototype), writable: true });
        return fn;
    }

    function markAsync(fn) {
        setPrototypeOf(fn, AsyncFunctionPrototype);
        return fn;
    }

    function markAsyncGenerator(fn) {
        setPrototypeOf(fn, AsyncGeneratorFunctionPrototype);
        defineProperty(fn, 'prototype', { value: create(AsyncGeneratorPrototype), writable: true });
        return fn;
    }

    /* ---- Async generators: the request queue of ECMA-262 §27.6.3 ---- */

    /* $ew.asyncGenerator(fn, body, self, args): as generator(), for async generator functions. */
    function asyncGenerator(fn, body, self, args) {
        return makeGenerator(K_AGEN, AsyncGeneratorPrototype, fn, body, self, args);
    }

    /* AsyncGenerator.prototype.next/throw/return: enqueue a request, resume if suspended. */
    function agRequest(o, mode, v, method) {
        var p = newPromise();
        var r = isObject(o) ? o[K_AGEN] : undefined;
        if (r === undefined) {
            settle(p, new TypeError(method + ' method called on incompatible receiver ' + describe(o)), true);
            return p;
        }
        var st = r[R_STATE];
        if (st === G_START && mode === M_THROW) {
            closeRecord(r);
            st = G_DONE;
        }
        if (st === G_DONE && mode !== M_RETURN) {
            if (mode === M_THROW) {
                settle(p, v, true);
            } else {
                settle(p, iterResult(undefined, true), false);
            }
            return p;
        }
        var q = [mode, v, p, undefined];
        if (r[R_QTAIL] === undefined) {
            r[R_QHEAD] = q;
        } else {
            r[R_QTAIL][3] = q;
        }
        r[R_QTAIL] = q;
        if (mode === M_RETURN && (st === G_START || st === G_DONE)) {
            closeRecord(r);
            r[R_STATE] = G_AWAIT_RETURN;
            agAwaitReturn(r);
        } else if (st === G_START || st === G_YIELD) {
            agResume(r, mode, v, st);
        }
        return p;
    }

    function agResume(r, mode, v, st) {
        r[R_STATE] = G_RUNNING;
        var prev = curGen;
        curGen = r;
        kind = AWAIT;
        if (st === G_START) {
            v = startRecord(r);
        } else {
            inMode = mode;
            v = resume(r[R_THREAD], v);
        }
        curGen = prev;
        agAfter(r, v);
    }

    /* Step STEP_AGEN: a promise awaited in the body settled. */
    function agStep(r, v, e) {
        var prev = curGen;
        curGen = r;
        kind = AWAIT;
        v = resume(r[R_THREAD], v, e);
        curGen = prev;
        agAfter(r, v);
    }

    /* AsyncGeneratorCompleteStep: settles the oldest request. */
    function agComplete(r, v, isThrow, done) {
        var q = r[R_QHEAD];
        r[R_QHEAD] = q[3];
        if (q[3] === undefined) {
            r[R_QTAIL] = undefined;
        }
        settle(q[2], isThrow ? v : iterResult(v, done), isThrow);
    }

    /* What the coroutine did after a resume: await, yield (answers the oldest request and goes on at once
     * when more are queued), or finish. */
    function agAfter(r, v) {
        for (;;) {
            var k = kind;
            kind = AWAIT;
            if (k === AWAIT) {
                subscribe(v, r, STEP_AGEN);
                return;
            }
            if (k === AG_YIELD) {
                agComplete(r, v, false, false);
                var q = r[R_QHEAD];
                if (q === undefined) {
                    r[R_STATE] = G_YIELD;
                    return;
                }
                var prev = curGen;
                curGen = r;
                inMode = q[0];
                v = resume(r[R_THREAD], q[1]);
                curGen = prev;
                continue;
            }
            v = takeRes();
            closeRecord(r);
            if (k === THROW && v === RET) {
                v = r[R_RETVAL];
                r[R_RETVAL] = undefined;
                k = DONE;
            }
            agComplete(r, v, k === THROW, true);
            agDrain(r);
            return;
        }
    }

    /* AsyncGeneratorDrainQueue (state completed). */
    function agDrain(r) {
        for (var q = r[R_QHEAD]; q !== undefined; q = r[R_QHEAD]) {
            if (q[0] === M_RETURN) {
                r[R_STATE] = G_AWAIT_RETURN;
                agAwaitReturn(r);
                return;
            }
            agComplete(r, q[0] === M_THROW ? q[1] : undefined, q[0] === M_THROW, true);
        }
    }

    /* AsyncGeneratorAwaitReturn: the oldest request is return(v) on a finished generator. */
    function agAwaitReturn(r) {
        subscribe(r[R_QHEAD][1], r, STEP_AGEN_RETURN);
    }

    /* Step STEP_AGEN_RETURN */
    function agReturnStep(r, v, e) {
        r[R_STATE] = G_DONE;
        agComplete(r, v, e, true);
        agDrain(r);
    }

    /* $ew.asyncYield(v): `yield v` in an async generator body. Awaits v, hands it to the oldest request,
     * and on resumption unwraps the request (AsyncGeneratorUnwrapYieldResumption). */
    function asyncYield(v) {
        v = yield_(v);
        return agSuspend(v);
    }

    /* AsyncGeneratorYield without the Await of the operand (yield* yields inner values as they are). */
    function agSuspend(v) {
        kind = AG_YIELD;
        v = yield_(v);
        var m = inMode;
        inMode = M_NEXT;
        if (m === M_NEXT) {
            return v;
        }
        if (m === M_THROW) {
            throw v;
        }
        var r = curGen;
        r[R_RETVAL] = yield_(v);
        throw RET;
    }

    /* GetIterator(obj, async), with CreateAsyncFromSyncIterator when obj has no @@asyncIterator. */
    function getAsyncIterator(obj) {
        var m = obj == null ? undefined : obj[symAsyncIterator];
        if (m == null) {
            var sync = getIterator(obj);
            var afs = create(AsyncFromSyncIteratorPrototype);
            afs[K_AFS] = [sync, sync.next];
            return afs;
        }
        if (typeof m !== 'function') {
            throw new TypeError(describe(obj) + ' is not async iterable');
        }
        var it = call.call(m, obj);
        if (!isObject(it)) {
            throw new TypeError('Result of the Symbol.asyncIterator method is not an object');
        }
        return it;
    }

    /* $ew.asyncYieldStar(iterable): `yield* iterable` in an async generator body. */
    function asyncYieldStar(iterable) {
        var gr = curGen;
        var it = getAsyncIterator(iterable), next = it.next, mode = M_NEXT, received, r, m, v;
        for (;;) {
            if (mode === M_NEXT) {
                r = checkResult(yield_(call.call(next, it, received)));
            } else if (mode === M_THROW) {
                m = getMethod(it, 'throw');
                if (m === undefined) {
                    asyncClose({ it: it, done: false });
                    throw new TypeError('The iterator does not provide a \'throw\' method');
                }
                r = checkResult(yield_(call.call(m, it, received)));
            } else {
                m = getMethod(it, 'return');
                if (m === undefined) {
                    gr[R_RETVAL] = yield_(received);
                    throw RET;
                }
                r = checkResult(yield_(call.call(m, it, received)));
                if (r.done) {
                    gr[R_RETVAL] = r.value;
                    throw RET;
                }
            }
            if (mode !== M_RETURN && r.done) {
                return r.value;
            }
            v = r.value; /* outside the try: a throwing getter ends the yield*, it is not sent to throw() */
            try {
                received = agSuspend(v);
                mode = M_NEXT;
            } catch (e) {
                if (e === RET) {
                    received = gr[R_RETVAL];
                    mode = M_RETURN;
                } else {
                    received = e;
                    mode = M_THROW;
                }
            }
        }
    }

    /* ---- for await: an iterator record { it, next, value, done } and steps that await inside ---- */

    /* $ew.asyncIterator(obj) */
    function asyncIterator(obj) {
        var it = getAsyncIterator(obj);
        return { it: it, next: it.next, value: undefined, done: false };
    }

    /* $ew.asyncNext(rec): awaits the next result; true with rec.value set, false at the end. An error
     * leaves rec.done true: the iterator is not closed after its own failure. */
    function asyncNext(rec) {
        rec.done = true;
        var r = checkResult(yield_(call.call(rec.next, rec.it)));
        if (r.done) {
            return false;
        }
        rec.value = r.value;
        rec.done = false;
        return true;
    }

    /* $ew.asyncClose(rec): AsyncIteratorClose for a normal, break or return completion. */
    function asyncClose(rec) {
        if (rec.done) {
            return;
        }
        rec.done = true;
        var m = getMethod(rec.it, 'return');
        if (m !== undefined) {
            checkResult(yield_(call.call(m, rec.it)));
        }
    }

    /* $ew.asyncCloseThrow(rec): AsyncIteratorClose for a throw completion: its own errors are dropped. */
    function asyncCloseThrow(rec) {
        if (rec.done) {
            return;
        }
        rec.done = true;
        try {
            var m = getMethod(rec.it, 'return');
            if (m !== undefined) {
                yield_(call.call(m, rec.it));
            }
        } catch (e) {
            /* the loop's own exception wins */
        }
    }

    /* ---- %AsyncFromSyncIteratorPrototype% (§27.1.6) ---- */

    /* AsyncFromSyncIteratorContinuation */
    function afsContinue(result, rec, closeOnRejection) {
        var done, value, w;
        try {
            done = !!result.done;
            value = result.value;
        } catch (e) {
            return settled(e, true);
        }
        try {
            w = promiseResolve(value);
        } catch (e) {
            if (!done && closeOnRejection) {
                closeQuietly(rec[0]);
            }
            return settled(e, true);
        }
        return call.call(then, w, function (x) {
            return iterResult(x, done);
        }, !done && closeOnRejection ? function (e) {
            closeQuietly(rec[0]);
            throw e;
        } : undefined);
    }

    function closeQuietly(it) {
        try {
            var m = getMethod(it, 'return');
            if (m !== undefined) {
                call.call(m, it);
            }
        } catch (e) {
            /* the original rejection wins */
        }
    }

    var afsMethods = {
        next(v) {
            var rec = this[K_AFS], result;
            try {
                result = checkResult(arguments.length > 0 ? call.call(rec[1], rec[0], v) : call.call(rec[1], rec[0]));
            } catch (e) {
                return settled(e, true);
            }
            return afsContinue(result, rec, true);
        },
        'return'(v) {
            var rec = this[K_AFS], result;
            try {
                var m = getMethod(rec[0], 'return');
                if (m === undefined) {
                    return settled(iterResult(v, true), false);
                }
                result = checkResult(arguments.length > 0 ? call.call(m, rec[0], v) : call.call(m, rec[0]));
            } catch (e) {
                return settled(e, true);
            }
            return afsContinue(result, rec, false);
        },
        'throw'(v) {
            var rec = this[K_AFS], result;
            try {
                var m = getMethod(rec[0], 'throw');
                if (m === undefined) {
                    closeIterator(rec[0]);
                    throw new TypeError('The iterator does not provide a \'throw\' method');
                }
                result = checkResult(call.call(m, rec[0], v));
            } catch (e) {
                return settled(e, true);
            }
            return afsContinue(result, rec, true);
        }
    };

    /* ---- Prototype objects ---- */

    var genMethods = {
        next(v) {
            return genResume(genRecord(this, K_GEN, 'Generator.prototype.next'), M_NEXT, v);
        },
        'return'(v) {
            return genResume(genRecord(this, K_GEN, 'Generator.prototype.return'), M_RETURN, v);
        },
        'throw'(v) {
            return genResume(genRecord(this, K_GEN, 'Generator.prototype.throw'), M_THROW, v);
        }
    };

    var agenMethods = {
        next(v) {
            return agRequest(this, M_NEXT, v, 'AsyncGenerator.prototype.next');
        },
        'return'(v) {
            return agRequest(this, M_RETURN, v, 'AsyncGenerator.prototype.return');
        },
        'throw'(v) {
            return agRequest(this, M_THROW, v, 'AsyncGenerator.prototype.throw');
        }
    };

    /* Duktape has no computed method keys: the string key also gives the function its spec name. */
    var asyncIteratorMethods = {
        '[Symbol.asyncIterator]'() {
            return this;
        }
    };

    function defineAll(target, methods) {
        var names = ['next', 'return', 'throw'];
        for (var i = 0; i < names.length; i++) {
            hide(target, names[i], methods[names[i]]);
        }
    }

    defineAll(GeneratorPrototype, genMethods);
    defineAll(AsyncGeneratorPrototype, agenMethods);
    defineAll(AsyncFromSyncIteratorPrototype, afsMethods);
    hide(AsyncIteratorPrototype, symAsyncIterator, asyncIteratorMethods['[Symbol.asyncIterator]']);
    /* The constructor links are read-only configurable, as in §27.3.3 and §27.4.3. */
    defineProperty(GeneratorFunctionPrototype, 'prototype', { value: GeneratorPrototype, configurable: true });
    defineProperty(GeneratorPrototype, 'constructor', { value: GeneratorFunctionPrototype, configurable: true });
    defineProperty(AsyncGeneratorFunctionPrototype, 'prototype', { value: AsyncGeneratorPrototype, configurable: true });
    defineProperty(AsyncGeneratorPrototype, 'constructor', { value: AsyncGeneratorFunctionPrototype, configurable: true });
    tag(GeneratorPrototype, 'Generator');
    tag(GeneratorFunctionPrototype, 'GeneratorFunction');
    tag(AsyncGeneratorPrototype, 'AsyncGenerator');
    tag(AsyncGeneratorFunctionPrototype, 'AsyncGeneratorFunction');
    tag(AsyncFunctionPrototype, 'AsyncFunction');

    return {
        helpers: {
            async: async,
            asyncNoAwait: asyncNoAwait,
            await: yield_,
            generator: generator,
            yield: yield_,
            yieldStar: yieldStar,
            asyncGenerator: asyncGenerator,
            asyncYield: asyncYield,
            asyncYieldStar: asyncYieldStar,
            asyncIterator: asyncIterator,
            asyncNext: asyncNext,
            asyncClose: asyncClose,
            asyncCloseThrow: asyncCloseThrow,
            markAsync: markAsync,
            markGenerator: markGenerator,
            markAsyncGenerator: markAsyncGenerator,
            RET: RET
        },
        steps: [asyncStep, agStep, agReturnStep]
    };
}
