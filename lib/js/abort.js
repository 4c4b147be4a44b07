/*
 * abort.js — AbortController, AbortSignal (DOM Standard; workerd drops a signal's listeners after its
 * 'abort' event) and scheduler.wait(). Loaded on first use by lib/web/lazy.c with events.js's exports as
 * `base`. State (under native.key): AbortSignal = the EventTarget state plus { sig: 1, aborted, reason,
 * algos: [fn(reason)] }, where algos are the abort algorithms: C observers (lib/web/lazy.h), the signal
 * option of addEventListener (events.js) and AbortSignal.any. Returns the globals and, for
 * lib/web/events.c, the '_'-prefixed internals.
 */
function (native, global, base) {
    'use strict';

    var K = native.key, L = base._lib;
    var TypeError = global.TypeError, O = global.Object, Promise = global.Promise;
    var defineProperty = O.defineProperty, create = O.create;
    var rec = L.rec, hide = L.hide, accessors = L.accessors, methods = L.methods, tag = L.tag, mustNew = L.mustNew;
    var state = L.state, dict = L.dict, initEvent = L.initEvent, initTarget = L.initTarget, dispatch = L.dispatch;
    var nativeGetters = L.nativeGetters, defineHandler = L.defineHandler, Event = base.Event, EventTarget = base.EventTarget;

    /* ---- AbortSignal / AbortController ---- */

    var making = false; /* AbortSignal's constructor is only for this file */

    function AbortSignal() {
        if (!making) {
            throw new TypeError('Illegal constructor');
        }
        initTarget(this);
        var s = this[K];
        s.sig = 1;
        s.aborted = false;
        s.reason = undefined;
        s.algos = [];
    }
    AbortSignal.prototype = create(EventTarget.prototype);
    hide(AbortSignal.prototype, 'constructor', AbortSignal);
    O.setPrototypeOf(AbortSignal, EventTarget);

    function newSignal() {
        making = true;
        try {
            return new AbortSignal();
        } finally {
            making = false;
        }
    }

    function sig(x) {
        return state(x, 'sig', 'an AbortSignal');
    }

    /* Signals `signal` with `reason` (undefined = an AbortError DOMException): abort algorithms first (C
     * observers, listeners' signal option, AbortSignal.any), then the 'abort' event, then all listeners go. */
    function signalAbort(signal, reason) {
        var s = signal[K];
        if (s.aborted) {
            return;
        }
        s.aborted = true;
        s.reason = reason === undefined ? native.domException('The operation was aborted', 'AbortError') : reason;
        var algos = s.algos;
        s.algos = [];
        var err, failed = false;
        for (var i = 0; i < algos.length; i++) {
            try {
                algos[i](s.reason);
            } catch (e) {
                if (!failed) {
                    failed = true;
                    err = e;
                }
            }
        }
        try {
            var e = initEvent(create(Event.prototype), 'abort', {}, true);
            dispatch(signal, s, e, e[K]);
        } finally {
            s.ls = null;
            s.on = null;
        }
        if (failed) {
            throw err;
        }
    }

    nativeGetters(AbortSignal.prototype, 'AbortSignal', ['aborted', 'reason']);
    methods(AbortSignal.prototype, {
        throwIfAborted() {
            var s = sig(this);
            if (s.aborted) {
                throw s.reason;
            }
        }
    });
    defineHandler(AbortSignal.prototype, 'abort');

    methods(AbortSignal, {
        abort(reason) {
            var signal = newSignal(), s = signal[K];
            s.aborted = true;
            s.reason = reason === undefined ? native.domException('The operation was aborted', 'AbortError') : reason;
            return signal;
        },
        timeout(ms) {
            ms = +ms;
            if (arguments.length < 1 || ms !== ms || ms < 0 || ms > 9007199254740991 || ms === Infinity) {
                throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': Value is outside the 'unsigned long long' value range.");
            }
            var signal = newSignal();
            native.setTimeout(function () {
                abortNow(signal, native.domException('The operation was aborted due to timeout', 'TimeoutError'));
            }, ms);
            return signal;
        },
        any(signals) {
            var list = native.toArray(signals), i;
            for (i = 0; i < list.length; i++) {
                sig(list[i]);
            }
            var result = newSignal();
            for (i = 0; i < list.length; i++) {
                if (list[i][K].aborted) {
                    result[K].aborted = true;
                    result[K].reason = list[i][K].reason;
                    return result;
                }
            }
            var fire = function (reason) {
                abortNow(result, reason);
            };
            for (i = 0; i < list.length; i++) {
                list[i][K].algos.push(fire);
            }
            /* Once the result aborted, the other sources forget it (a long-lived source does not collect
             * one follower per AbortSignal.any call). */
            result[K].algos.push(function () {
                for (var j = 0; j < list.length; j++) {
                    var a = list[j][K].algos, at = a.indexOf(fire);
                    if (at >= 0) {
                        a.splice(at, 1);
                    }
                }
            });
            return result;
        }
    });
    tag(AbortSignal, 'AbortSignal');

    /* Abort from a timer or another signal: errors of listeners are reported, not thrown at the caller. */
    function abortNow(signal, reason) {
        try {
            signalAbort(signal, reason);
        } catch (e) {
            native.reportError(e);
        }
    }

    function AbortController() {
        mustNew(new.target, 'AbortController');
        this[K] = rec({ ctl: 1, signal: newSignal() });
    }
    accessors(AbortController.prototype, {
        signal() { return state(this, 'ctl', 'an AbortController').signal; }
    });
    methods(AbortController.prototype, {
        abort(reason) {
            signalAbort(state(this, 'ctl', 'an AbortController').signal, reason);
        }
    });
    tag(AbortController, 'AbortController');

    /* ---- scheduler ---- */

    var scheduler = {};
    methods(scheduler, {
        wait(ms, options) {
            var signal = options !== undefined && options !== null ? options.signal : undefined;
            if (signal !== undefined && !(signal !== null && typeof signal === 'object' && signal[K] !== undefined && signal[K].sig)) {
                return Promise.reject(new TypeError("Failed to execute 'wait' on 'Scheduler': member signal is not of type 'AbortSignal'."));
            }
            if (signal !== undefined && signal[K].aborted) {
                return Promise.reject(signal[K].reason);
            }
            return new Promise(function (resolve, reject) {
                var onAbort;
                native.setTimeout(function () {
                    if (onAbort !== undefined) {
                        var a = signal[K].algos, i = a.indexOf(onAbort);
                        if (i >= 0) {
                            a.splice(i, 1);
                        }
                    }
                    resolve();
                }, +ms || 0);
                if (signal !== undefined) {
                    onAbort = function (reason) {
                        reject(reason);
                    };
                    signal[K].algos.push(onAbort);
                }
            });
        }
    });
    defineProperty(scheduler, global.Symbol.toStringTag, { value: 'Scheduler', configurable: true });

    return {
        AbortSignal: AbortSignal,
        AbortController: AbortController,
        scheduler: scheduler,
        /* For lib/web/events.c (C code): */
        _follow(signal, fn) {
            sig(signal).algos.push(fn);
        },
        _unfollow(signal, fn) {
            var a = sig(signal).algos, i = a.indexOf(fn);
            if (i >= 0) {
                a.splice(i, 1);
            }
        },
        _abort: signalAbort,
        _newSignal: newSignal,
        _aborted(signal) {
            return sig(signal).aborted;
        },
        _reason(signal) {
            return sig(signal).reason;
        }
    };
}
