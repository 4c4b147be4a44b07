/*
 * prelude.js — the runtime layer's glue, in ES5 (compiled to bytecode at build time by lib/js/js2c.c).
 *
 * Called once per isolate as `function (native, global)` before any Worker code runs. It installs the
 * service-worker event API (addEventListener for 'fetch', 'scheduled' and 'queue', FetchEvent, ScheduledEvent) and
 * returns the listener lists and event prototypes that lib/core/dispatch.c uses to dispatch
 * each event in C (the hot path: no JS closure is created per request). Kept small because every line costs
 * memory in every isolate (DUKTAPE-NOTES.md). console is C (lib/core/console.c).
 *
 * native: the event methods respondWith, waitUntil, passThroughOnException
 */
function (native, global) {
    'use strict';

    var TypeError = global.TypeError;
    var defineProperty = Object.defineProperty;
    var listeners = Object.create(null); /* no inherited keys: type comes from user code */
    listeners.fetch = [];
    listeners.scheduled = [];
    listeners.queue = [];
    listeners.error = []; /* reportError() calls them (lib/web/globals.c) */

    function hide(obj, name, value) {
        defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    function checkListener(fn) {
        if (typeof fn !== 'function' && !(fn && typeof fn.handleEvent === 'function')) {
            throw new TypeError("Failed to execute 'addEventListener': parameter 2 is not a function or EventListener.");
        }
    }

    hide(global, 'addEventListener', function addEventListener(type, fn) {
        checkListener(fn);
        var list = listeners[String(type)];
        if (list === undefined) {
            return; /* other event types are accepted and never fired, as in Workers */
        }
        if (list.indexOf(fn) < 0) {
            list.push(fn);
        }
    });

    hide(global, 'removeEventListener', function removeEventListener(type, fn) {
        var list = listeners[String(type)];
        var i = list ? list.indexOf(fn) : -1;
        if (i >= 0) {
            list.splice(i, 1);
        }
    });

    /* The event classes: their methods are natives (lib/core/dispatch.c) reading hidden state. */
    function FetchEvent() {
        throw new TypeError('Illegal constructor');
    }
    hide(FetchEvent.prototype, 'respondWith', native.respondWith);
    hide(FetchEvent.prototype, 'waitUntil', native.waitUntil);
    hide(FetchEvent.prototype, 'passThroughOnException', native.passThroughOnException);

    function ScheduledEvent() {
        throw new TypeError('Illegal constructor');
    }
    hide(ScheduledEvent.prototype, 'waitUntil', native.waitUntil);
    hide(ScheduledEvent.prototype, 'noRetry', function noRetry() {});

    /* The module form's ctx (ExecutionContext) and controller (ScheduledController). */
    function ExecutionContext() {
        throw new TypeError('Illegal constructor');
    }
    hide(ExecutionContext.prototype, 'waitUntil', native.waitUntil);
    hide(ExecutionContext.prototype, 'passThroughOnException', native.passThroughOnException);

    function ScheduledController() {
        throw new TypeError('Illegal constructor');
    }
    hide(ScheduledController.prototype, 'noRetry', function noRetry() {});

    return {
        fetchListeners: listeners.fetch,
        scheduledListeners: listeners.scheduled,
        queueListeners: listeners.queue,
        errorListeners: listeners.error,
        fetchProto: FetchEvent.prototype,
        scheduledProto: ScheduledEvent.prototype,
        contextProto: ExecutionContext.prototype,
        controllerProto: ScheduledController.prototype
    };
}
