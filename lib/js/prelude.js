/*
 * prelude.js — the runtime layer's glue, in ES5 (compiled to bytecode at build time by lib/js/js2c.c).
 *
 * Called once per isolate as `function (native, global)` before any Worker code runs. It installs the
 * service-worker event API (addEventListener for 'fetch' and 'scheduled', FetchEvent, ScheduledEvent) and
 * console, and returns the two dispatch functions that lib/core/dispatch.c calls for each event. Everything
 * user code could overwrite later (Promise, Error) is captured here first. Hot paths stay in C: this file is
 * kept small because every line costs memory in every isolate (DUKTAPE-NOTES.md).
 *
 * native: log(level, text), respond(id, response), fail(id, error), waitUntil(id, delta),
 *         passThrough(id), done(id), inspect(value) -> string
 */
function (native, global) {
    'use strict';

    var Promise = global.Promise;
    var TypeError = global.TypeError;
    var defineProperty = Object.defineProperty;
    var listeners = { fetch: [], scheduled: [] };
    var kId = Symbol('id');
    var kState = Symbol('state');

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

    function callListener(fn, event) {
        if (typeof fn === 'function') {
            fn.call(global, event);
        } else {
            fn.handleEvent(event);
        }
    }

    /* waitUntil work: counted in C so that the request stays alive until it settles (or the cap). */
    function waitUntil(id, value) {
        native.waitUntil(id, 1);
        Promise.resolve(value).then(function () {
            native.waitUntil(id, -1);
        }, function (err) {
            native.log(3, 'Uncaught (in waitUntil) ' + native.inspect(err));
            native.waitUntil(id, -1);
        });
    }

    /* ---- fetch ---- */

    function FetchEvent() {
        throw new TypeError('Illegal constructor');
    }
    var fetchProto = FetchEvent.prototype;
    hide(fetchProto, 'respondWith', function respondWith(response) {
        var state = this[kState];
        if (!state || !state.dispatching) {
            throw new Error('FetchEvent.respondWith() must be called synchronously from the fetch event listener.');
        }
        if (state.responded) {
            throw new Error('FetchEvent.respondWith() has already been called; it can only be called once.');
        }
        state.responded = true;
        var id = this[kId];
        Promise.resolve(response).then(function (r) {
            native.respond(id, r);
        }, function (err) {
            native.fail(id, err);
        });
    });
    hide(fetchProto, 'waitUntil', function (value) {
        waitUntil(this[kId], value);
    });
    hide(fetchProto, 'passThroughOnException', function passThroughOnException() {
        native.passThrough(this[kId]);
    });

    function dispatchFetch(id, request) {
        var list = listeners.fetch;
        if (list.length === 0) {
            native.fail(id, new Error('No fetch handler: the script did not call addEventListener("fetch", ...).'));
            return;
        }
        var event = Object.create(fetchProto);
        var state = { dispatching: true, responded: false };
        hide(event, kId, id);
        hide(event, kState, state);
        event.type = 'fetch';
        event.request = request;
        try {
            for (var i = 0; i < list.length; i++) {
                callListener(list[i], event);
            }
        } catch (err) {
            state.dispatching = false;
            native.fail(id, err);
            return;
        }
        state.dispatching = false;
        if (!state.responded) {
            native.fail(id, new Error('No response: the fetch event listener did not call event.respondWith().'));
        }
    }

    /* ---- scheduled ---- */

    function ScheduledEvent() {
        throw new TypeError('Illegal constructor');
    }
    var scheduledProto = ScheduledEvent.prototype;
    hide(scheduledProto, 'waitUntil', function (value) {
        waitUntil(this[kId], value);
    });
    hide(scheduledProto, 'noRetry', function noRetry() {});

    function dispatchScheduled(id, cron, scheduledTime) {
        var list = listeners.scheduled;
        if (list.length === 0) {
            native.fail(id, new Error('No scheduled handler: the script did not call addEventListener("scheduled", ...).'));
            return;
        }
        var event = Object.create(scheduledProto);
        hide(event, kId, id);
        event.type = 'scheduled';
        event.cron = cron;
        event.scheduledTime = scheduledTime;
        try {
            for (var i = 0; i < list.length; i++) {
                callListener(list[i], event);
            }
        } catch (err) {
            native.fail(id, err);
            return;
        }
        native.done(id);
    }

    /* ---- console ---- */

    function format(args) {
        var out = [];
        for (var i = 0; i < args.length; i++) {
            var v = args[i];
            out.push(typeof v === 'string' ? v : native.inspect(v));
        }
        return out.join(' ');
    }

    function logger(level) {
        return function () {
            native.log(level, format(arguments));
        };
    }

    var console = {};
    hide(console, 'debug', logger(0));
    hide(console, 'log', logger(1));
    hide(console, 'info', logger(1));
    hide(console, 'warn', logger(2));
    hide(console, 'error', logger(3));
    hide(console, 'trace', logger(1));
    hide(global, 'console', console);

    return { fetch: dispatchFetch, scheduled: dispatchScheduled };
}
