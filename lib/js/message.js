/*
 * message.js — MessageEvent, MessageChannel and MessagePort (HTML): postMessage sends a structured clone
 * (lib/web/clone.c) that the other port delivers as a task (a zero-delay timer) once started (start(), or
 * setting onmessage); close() disentangles both ports. Loaded on first use by lib/web/lazy.c with
 * events.js's exports as `base`. State (under native.key): MessagePort = the EventTarget state plus
 * { port: 1, other, queue, started, closed, scheduled }.
 */
function (native, global, base) {
    'use strict';

    var K = native.key, L = base._lib;
    var TypeError = global.TypeError, O = global.Object, Promise = global.Promise;
    var defineProperty = O.defineProperty, create = O.create;
    var rec = L.rec, hide = L.hide, accessors = L.accessors, methods = L.methods, tag = L.tag, mustNew = L.mustNew;
    var state = L.state, dict = L.dict, initEvent = L.initEvent, initTarget = L.initTarget, dispatch = L.dispatch;
    var nativeGetters = L.nativeGetters, defineHandler = L.defineHandler, Event = base.Event, EventTarget = base.EventTarget;

    /* ---- MessageEvent, MessageChannel, MessagePort ---- */

    function MessageEvent(type, init) {
        mustNew(new.target, 'MessageEvent');
        if (arguments.length < 1) {
            throw new TypeError("Failed to construct 'MessageEvent': 1 argument required, but only 0 present.");
        }
        init = dict(init, 'MessageEvent');
        initEvent(this, type, init, false);
        var s = this[K];
        s.data = init.data === undefined ? null : init.data;
        s.origin = init.origin === undefined ? '' : String(init.origin);
        s.lastEventId = init.lastEventId === undefined ? '' : String(init.lastEventId);
        s.source = init.source === undefined ? null : init.source;
        s.ports = init.ports === undefined ? [] : native.toArray(init.ports);
        s.msg = 1;
    }
    MessageEvent.prototype = create(Event.prototype);
    hide(MessageEvent.prototype, 'constructor', MessageEvent);
    O.setPrototypeOf(MessageEvent, Event);
    nativeGetters(MessageEvent.prototype, 'MessageEvent', ['data', 'origin', 'lastEventId', 'source', 'ports']);
    tag(MessageEvent, 'MessageEvent');

    /* A MessageEvent the runtime fires (isTrusted true): MessagePort here, and any C or JS code that
     * delivers messages (WebSocket) through the _newMessageEvent export. */
    function trustedMessage(type, data, ports) {
        var e = initEvent(create(MessageEvent.prototype), type, {}, true), es = e[K];
        es.msg = 1;
        es.data = data;
        es.origin = '';
        es.lastEventId = '';
        es.source = null;
        es.ports = ports || [];
        return e;
    }

    /* A port's state: other (the entangled port, null once either side closed), queue (messages waiting
     * for start()), started, closed. Delivery is a task (a zero-delay timer), as the HTML spec's port
     * message queue; messages posted before start() wait in the queue. */
    var makingPort = false;

    function MessagePort() {
        if (!makingPort) {
            throw new TypeError('Illegal constructor');
        }
        initTarget(this);
        var s = this[K];
        s.port = 1;
        s.other = null;
        s.queue = [];
        s.started = false;
        s.closed = false;
    }
    MessagePort.prototype = create(EventTarget.prototype);
    hide(MessagePort.prototype, 'constructor', MessagePort);
    O.setPrototypeOf(MessagePort, EventTarget);

    function port(p) {
        return state(p, 'port', 'a MessagePort');
    }

    function newPort() {
        makingPort = true;
        try {
            return new MessagePort();
        } finally {
            makingPort = false;
        }
    }

    function deliverSoon(p) {
        var s = p[K];
        if (s.scheduled || !s.started || s.queue.length === 0) {
            return;
        }
        s.scheduled = true;
        native.setTimeout(function () {
            s.scheduled = false;
            while (s.queue.length > 0 && !s.closed) {
                var m = s.queue.shift(), e = trustedMessage('message', m.data, m.ports);
                try {
                    dispatch(p, s, e, e[K]);
                } catch (err) {
                    native.reportError(err);
                }
            }
        }, 0);
    }

    function start(p) {
        var s = p[K];
        if (!s.started && !s.closed) {
            s.started = true;
            deliverSoon(p);
        }
    }

    methods(MessagePort.prototype, {
        postMessage(message, transfer) {
            var s = port(this);
            if (arguments.length < 1) {
                throw new TypeError("Failed to execute 'postMessage' on 'MessagePort': 1 argument required, but only 0 present.");
            }
            var list = [];
            if (transfer !== undefined && transfer !== null) {
                if (typeof transfer === 'object' && typeof transfer[global.Symbol.iterator] !== 'function') {
                    transfer = transfer.transfer; /* StructuredSerializeOptions */
                }
                if (transfer !== undefined) {
                    list = native.toArray(transfer);
                }
            }
            var ports = [];
            var data = native.structuredClone(message, list, this, ports);
            var other = s.other;
            if (other === null || s.closed) {
                return;
            }
            other[K].queue.push({ data: data, ports: ports });
            deliverSoon(other);
        },
        start() {
            port(this);
            start(this);
        },
        close() {
            var s = port(this);
            s.closed = true;
            s.queue = [];
            if (s.other !== null) {
                s.other[K].other = null;
                s.other = null;
            }
        }
    });
    defineProperty(MessagePort.prototype.start, 'name', { value: 'start' });
    defineProperty(MessagePort.prototype, 'onmessage', {
        get: function () {
            var s = port(this), h = s.on !== null ? s.on.message : undefined;
            return h === undefined ? null : h;
        },
        set: function (v) {
            var s = port(this);
            if (s.on === null) {
                s.on = create(null);
            }
            s.on.message = typeof v === 'function' || (v !== null && typeof v === 'object') ? v : null;
            start(this); /* setting onmessage starts the port (HTML) */
        },
        configurable: true, enumerable: true
    });
    defineHandler(MessagePort.prototype, 'messageerror');
    tag(MessagePort, 'MessagePort');

    function MessageChannel() {
        mustNew(new.target, 'MessageChannel');
        var a = newPort(), b = newPort();
        a[K].other = b;
        b[K].other = a;
        this[K] = rec({ chan: 1, port1: a, port2: b });
    }
    accessors(MessageChannel.prototype, {
        port1() { return state(this, 'chan', 'a MessageChannel').port1; },
        port2() { return state(this, 'chan', 'a MessageChannel').port2; }
    });
    tag(MessageChannel, 'MessageChannel');

    /* Transfer (lib/web/clone.c): a new port stands for a transferred one in the clone; once the clone
     * succeeded, it takes over the old port's other end and waiting messages, and the old port is left
     * detached (closed; transferring it again is a DataCloneError). */
    function portShell() {
        return newPort();
    }

    function portMove(from, to) {
        var f = from[K], t = to[K];
        t.other = f.other;
        if (t.other !== null) {
            t.other[K].other = to;
        }
        t.queue = f.queue;
        f.queue = [];
        f.other = null;
        f.closed = true;
        f.detached = true;
    }

    return {
        MessageEvent: MessageEvent,
        MessageChannel: MessageChannel,
        MessagePort: MessagePort,
        /* For other runtime code (lib/web/lazy.h: ew__lazy_push(ctx, EW__LAZY_MESSAGE, "_newMessageEvent")): */
        _newMessageEvent: trustedMessage,
        _portShell: portShell,
        _portMove: portMove
    };
}
