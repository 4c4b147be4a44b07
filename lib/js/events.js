/*
 * events.js — Event, EventTarget, CustomEvent, AbortController and AbortSignal (DOM Standard, with workerd's
 * choices where it departs from the spec: capture and passive listeners are refused, an exception thrown by
 * a listener leaves dispatchEvent(), a listener returning true cancels the event, and an aborted signal
 * drops all its listeners after its 'abort' event).
 *
 * Loaded on first use of one of these globals (lib/web/lazy.c), so Workers that never touch events pay
 * nothing. Called as `function (native, global)`; returns the globals and, under names starting with '_',
 * the internals lib/web/events.c gives to C code (C classes that are EventTargets, AbortSignal observers).
 * State lives under the hidden-symbol key native.key, which scripts cannot name or enumerate:
 *   Event        { ev: 1, type, bubbles, cancelable, composed, canceled, stop, stopNow, dispatching, phase,
 *                  target, current, time, trusted, passive }
 *   EventTarget  { ls: map type -> [listener { cb, once, gone }] or null, on: map type -> handler or null }
 *   AbortSignal  the EventTarget state plus { sig: 1, aborted, reason, algos: [fn(reason)] }
 * AbortController/AbortSignal (abort.js) and MessageChannel (message.js) are separate files loaded on their
 * own first use: they get this file's exports as their third parameter (`base`, see `_lib` below), so a
 * Worker that only needs EventTarget does not pay for them (every line of runtime JS costs heap).
 */
function (native, global) {
    'use strict';

    var K = native.key;
    var TypeError = global.TypeError, O = global.Object;
    var keys = O.keys, defineProperty = O.defineProperty, create = O.create;

    /* Instance state: a null-prototype record, so nothing a script adds to Object.prototype shows through. */
    function rec(fields) {
        var r = create(null), names = keys(fields);
        for (var i = 0; i < names.length; i++) {
            r[names[i]] = fields[names[i]];
        }
        return r;
    }

    function hide(obj, name, value) {
        defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    function accessors(proto, table) {
        for (var name in table) {
            var d = table[name];
            defineProperty(proto, name, {
                get: d.get || d, set: d.set, configurable: true, enumerable: true
            });
        }
    }

    /* Getters that only read a state field are natives (lib/web/lazy.c: far cheaper in heap). */
    function nativeGetters(proto, cls, names) {
        for (var i = 0; i < names.length; i++) {
            defineProperty(proto, names[i], { get: native.getter(cls + '.' + names[i]), configurable: true, enumerable: true });
        }
    }

    function methods(proto, table) {
        for (var name in table) {
            defineProperty(proto, name, { value: table[name], writable: true, configurable: true, enumerable: true });
        }
    }

    function tag(ctor, name) {
        defineProperty(ctor.prototype, global.Symbol.toStringTag, { value: name, configurable: true });
    }

    function mustNew(nt, name) {
        if (nt === undefined) {
            throw new TypeError("Failed to construct '" + name +
                "': Please use the 'new' operator, this DOM object constructor cannot be called as a function.");
        }
    }

    function state(obj, field, what) {
        var s = obj !== null && (typeof obj === 'object' || typeof obj === 'function') ? obj[K] : undefined;
        if (s === undefined || s[field] === undefined) {
            throw new TypeError('Illegal invocation: this is not ' + what);
        }
        return s;
    }

    function dict(v, what) {
        if (v === undefined || v === null) {
            return {};
        }
        if (typeof v !== 'object' && typeof v !== 'function') {
            throw new TypeError("Failed to construct '" + what + "': The provided value is not of type '" + what + "Init'.");
        }
        return v;
    }

    /* ---- Event ---- */

    var NONE = 0, AT_TARGET = 2;

    function initEvent(obj, type, init, trusted) {
        obj[K] = rec({
            ev: 1, type: String(type), bubbles: !!init.bubbles, cancelable: !!init.cancelable,
            composed: !!init.composed, canceled: false, stop: false, stopNow: false, dispatching: false,
            phase: NONE, target: null, current: null, time: native.now(), trusted: !!trusted, passive: false
        });
        return obj;
    }

    function Event(type, init) {
        mustNew(new.target, 'Event');
        if (arguments.length < 1) {
            throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
        }
        initEvent(this, type, dict(init, 'Event'), false);
    }

    function ev(e) {
        return state(e, 'ev', 'an Event');
    }

    var constants = { NONE: 0, CAPTURING_PHASE: 1, AT_TARGET: 2, BUBBLING_PHASE: 3 };
    for (var c in constants) {
        defineProperty(Event, c, { value: constants[c], enumerable: true });
        defineProperty(Event.prototype, c, { value: constants[c], enumerable: true });
    }

    nativeGetters(Event.prototype, 'Event', ['type', 'target', 'srcElement', 'currentTarget', 'eventPhase', 'bubbles',
        'cancelable', 'composed', 'defaultPrevented', 'isTrusted', 'timeStamp']);
    accessors(Event.prototype, {
        returnValue: {
            get: function () { return !ev(this).canceled; },
            set: function (v) { var s = ev(this); if (!v) { cancel(s); } }
        },
        cancelBubble: {
            get: function () { return ev(this).stop; },
            set: function (v) { var s = ev(this); if (v) { s.stop = true; } }
        }
    });

    function cancel(s) {
        if (s.cancelable && !s.passive) {
            s.canceled = true;
        }
    }

    methods(Event.prototype, {
        preventDefault() { cancel(ev(this)); },
        stopPropagation() { ev(this).stop = true; },
        stopImmediatePropagation() {
            var s = ev(this);
            s.stop = true;
            s.stopNow = true;
        },
        composedPath() {
            var s = ev(this);
            return s.dispatching && s.current !== null ? [s.current] : [];
        }
    });
    tag(Event, 'Event');

    /* ---- CustomEvent ---- */

    function CustomEvent(type, init) {
        mustNew(new.target, 'CustomEvent');
        if (arguments.length < 1) {
            throw new TypeError("Failed to construct 'CustomEvent': 1 argument required, but only 0 present.");
        }
        init = dict(init, 'CustomEvent');
        initEvent(this, type, init, false);
        this[K].detail = init.detail === undefined ? null : init.detail;
    }
    CustomEvent.prototype = create(Event.prototype);
    hide(CustomEvent.prototype, 'constructor', CustomEvent);
    O.setPrototypeOf(CustomEvent, Event);
    accessors(CustomEvent.prototype, {
        detail() {
            var s = ev(this);
            if (!('detail' in s)) {
                throw new TypeError('Illegal invocation: this is not a CustomEvent');
            }
            return s.detail;
        }
    });
    tag(CustomEvent, 'CustomEvent');

    /* ---- EventTarget ---- */

    function initTarget(obj) {
        if (obj[K] === undefined) {
            obj[K] = rec({ ls: null, on: null });
        }
        return obj;
    }

    function EventTarget() {
        mustNew(new.target, 'EventTarget');
        initTarget(this);
    }

    function target(t) {
        return state(t, 'ls', 'an EventTarget');
    }

    function checkCallback(cb, method) {
        if (typeof cb !== 'function' && (cb === null || typeof cb !== 'object')) {
            throw new TypeError("Failed to execute '" + method + "' on 'EventTarget': parameter 2 is not of type 'EventListener'.");
        }
    }

    /* Options of add/removeEventListener: refuses capture (and passive for add), as workerd does. */
    function readOptions(options, method, adding) {
        if (typeof options === 'boolean') {
            if (options) {
                throw new TypeError(method + '(): useCapture must be false.');
            }
            return {};
        }
        if (options === undefined || options === null) {
            return {};
        }
        if (typeof options !== 'object' && typeof options !== 'function') {
            return {}; /* other primitives convert to a boolean capture flag; only true is refused */
        }
        if (options.capture) {
            throw new TypeError(method + '(): options.capture must be false.');
        }
        if (!adding) {
            return {};
        }
        if (options.passive) {
            throw new TypeError(method + '(): options.passive must be false.');
        }
        var sig = options.signal;
        if (sig !== undefined && (sig === null || typeof sig !== 'object' || sig[K] === undefined || !sig[K].sig)) {
            throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': member signal is not of type 'AbortSignal'.");
        }
        return { once: !!options.once, signal: sig };
    }

    function findListener(list, cb) {
        for (var i = 0; i < list.length; i++) {
            if (list[i].cb === cb) {
                return i;
            }
        }
        return -1;
    }

    function removeListener(s, type, cb) {
        var list = s.ls !== null ? s.ls[type] : undefined;
        var i = list ? findListener(list, cb) : -1;
        if (i >= 0) {
            list[i].gone = true;
            list.splice(i, 1);
        }
    }

    function addEventListener(type, callback, options) {
        var s = target(this);
        if (arguments.length < 2) {
            throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': 2 arguments required, but only " +
                arguments.length + ' present.');
        }
        type = String(type);
        checkCallback(callback, 'addEventListener');
        var opts = readOptions(options, 'addEventListener', true);
        if (opts.signal !== undefined && opts.signal[K].aborted) {
            return;
        }
        if (s.ls === null) {
            s.ls = create(null);
        }
        var list = s.ls[type] || (s.ls[type] = []);
        if (findListener(list, callback) >= 0) {
            return;
        }
        var l = { cb: callback, once: !!opts.once, gone: false };
        list.push(l);
        if (opts.signal !== undefined) {
            opts.signal[K].algos.push(function () {
                if (!l.gone) {
                    removeListener(s, type, callback);
                }
            });
        }
    }

    function removeEventListener(type, callback, options) {
        var s = target(this);
        if (arguments.length < 2) {
            throw new TypeError("Failed to execute 'removeEventListener' on 'EventTarget': 2 arguments required, but only " +
                arguments.length + ' present.');
        }
        readOptions(options, 'removeEventListener', false);
        removeListener(s, String(type), callback);
    }

    /* Calls the listeners of `t` (state s) for the event e (state es); returns !defaultPrevented. */
    function dispatch(t, s, e, es) {
        if (es.dispatching) {
            throw native.domException('The event is already being dispatched.', 'InvalidStateError');
        }
        es.dispatching = true;
        es.target = es.current = t;
        es.phase = AT_TARGET;
        es.canceled = false;
        var type = es.type, calls = [];
        var on = s.on !== null ? s.on[type] : undefined;
        if (typeof on === 'function') {
            calls.push({ cb: on, once: false, gone: false, on: true });
        }
        var list = s.ls !== null ? s.ls[type] : undefined;
        if (list) {
            calls.push.apply(calls, list);
        }
        try {
            for (var i = 0; i < calls.length && !es.stopNow; i++) {
                var l = calls[i], r;
                if (l.gone) {
                    continue;
                }
                if (l.once) {
                    removeListener(s, type, l.cb);
                }
                if (typeof l.cb === 'function') {
                    r = l.cb.call(t, e);
                } else {
                    var h = l.cb.handleEvent;
                    if (typeof h !== 'function') {
                        throw new TypeError("'handleEvent' property of event listener is not a function.");
                    }
                    r = h.call(l.cb, e);
                }
                if (r === true) {
                    cancel(es);
                }
            }
        } finally {
            es.dispatching = false;
            es.current = null;
            es.phase = NONE;
            es.stop = es.stopNow = false;
        }
        return !es.canceled;
    }

    function dispatchEvent(event) {
        var s = target(this);
        if (event === null || typeof event !== 'object' || event[K] === undefined || !event[K].ev) {
            throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
        }
        return dispatch(this, s, event, event[K]);
    }

    hide(EventTarget.prototype, 'addEventListener', addEventListener);
    hide(EventTarget.prototype, 'removeEventListener', removeEventListener);
    hide(EventTarget.prototype, 'dispatchEvent', dispatchEvent);
    tag(EventTarget, 'EventTarget');

    /* An `on<type>` attribute: a function set there runs before the listeners (others read back as null). */
    function defineHandler(proto, type) {
        defineProperty(proto, 'on' + type, {
            get: function () {
                var s = target(this), h = s.on !== null ? s.on[type] : undefined;
                return h === undefined ? null : h;
            },
            set: function (v) {
                var s = target(this);
                if (s.on === null) {
                    s.on = create(null);
                }
                s.on[type] = typeof v === 'function' || (v !== null && typeof v === 'object') ? v : null;
            },
            configurable: true, enumerable: true
        });
    }

    return {
        Event: Event,
        CustomEvent: CustomEvent,
        EventTarget: EventTarget,
        /* For lib/web/events.c (C code): */
        _initTarget: initTarget,
        _initEvent(obj, type, cancelable) {
            return initEvent(obj, type, { cancelable: cancelable }, true);
        },
        _dispatch(t, e) {
            return dispatch(t, target(t), e, ev(e));
        },
        _defineHandler: defineHandler,
        /* For abort.js and message.js, which get these exports as `base`: */
        _lib: { rec: rec, hide: hide, accessors: accessors, methods: methods, tag: tag, mustNew: mustNew,
                state: state, dict: dict, nativeGetters: nativeGetters, initEvent: initEvent, initTarget: initTarget, target: target,
                dispatch: dispatch, defineHandler: defineHandler }
    };
}
