/*
 * websocket.js — WebSocket, WebSocketPair and CloseEvent as Workers have them (workerd's
 * api/web-socket.c++ is the reference for every error text). ES5, compiled to bytecode at build time and
 * loaded by lib/core/websocket.c the first time a script touches one of these globals, so Workers that never
 * use WebSockets pay nothing for them.
 *
 * A pair's two ends know each other through their hidden state (key native.KEY, which scripts cannot
 * reach). Messages between two ends in the same isolate go into the receiver's queue and are dispatched
 * from a microtask once it has called accept(), in order. An end returned in `new Response(null, {status:
 * 101, webSocket})` is "released" to the host: lib/core/websocket.c calls couple(), and from then on what
 * its peer sends goes out through native.linkSend/linkClose, and what the host receives comes in through
 * fromHost(), which queues it on the peer like a local message.
 *
 * Durable Object relays (durable.js) use abortRelay() of the returned module.
 *
 * native: KEY, linkSend(id, data, isText), linkClose(id, code, reason), reportError(error),
 *         events (Event, EventTarget and the internals _initTarget, _initEvent, _dispatch, _defineHandler
 *         of lib/js/events.js: WebSocket is an EventTarget, its events are Events; MessageEvent and
 *         _newMessageEvent of lib/js/message.js)
 */
function (native, global) {
    'use strict';

    var S = native.KEY;
    var TypeError = global.TypeError;
    var ArrayBuffer = global.ArrayBuffer;
    var DOMException = global.DOMException;
    var TextEncoder = global.TextEncoder;
    var resolved = global.Promise.resolve();
    var defineProperty = Object.defineProperty;

    function hide(obj, name, value) {
        defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    function getter(obj, name, fn) {
        defineProperty(obj, name, { get: fn, configurable: true, enumerable: true });
    }

    function constant(obj, name, value) {
        defineProperty(obj, name, { value: value, enumerable: true });
    }

    function state(ws) {
        var st = ws !== null && typeof ws === 'object' ? ws[S] : undefined;
        if (st === undefined) {
            throw new TypeError('Illegal invocation');
        }
        return st;
    }

    /* ---- events: CloseEvent extends Event (lib/js/events.js); MessageEvent is message.js's ---- */

    var events = native.events;
    var Event = events.Event, EventTarget = events.EventTarget;

    /* A script's `new CloseEvent(...)`: an Event (isTrusted false) re-parented to the subclass. */
    function subEvent(proto, type, init, nargs, name) {
        if (nargs < 1) {
            throw new TypeError("Failed to construct '" + name + "': 1 argument required, but only 0 present.");
        }
        var e = new Event(type, init);
        Object.setPrototypeOf(e, proto);
        return e;
    }

    /* An event the runtime fires (isTrusted true). */
    function trusted(proto, type) {
        var e = Object.create(proto);
        events._initEvent(e, type, false);
        return e;
    }

    function closeFields(e, init) {
        init = init || {};
        hide(e, 'code', init.code === undefined ? 0 : init.code >>> 0 & 0xffff);
        hide(e, 'reason', init.reason === undefined ? '' : String(init.reason));
        hide(e, 'wasClean', !!init.wasClean);
        return e;
    }

    function CloseEvent(type, init) {
        if (!(this instanceof CloseEvent)) {
            throw new TypeError("Class constructor CloseEvent cannot be invoked without 'new'");
        }
        return closeFields(subEvent(CloseEvent.prototype, type, init, arguments.length, 'CloseEvent'), init);
    }

    Object.setPrototypeOf(CloseEvent.prototype, Event.prototype);
    Object.setPrototypeOf(CloseEvent, Event);
    hide(CloseEvent.prototype, Symbol.toStringTag, 'CloseEvent');

    function fire(ws, ev) {
        try {
            events._dispatch(ws, ev);
        } catch (e) {
            native.reportError(e);
        }
    }

    /* ---- WebSocket ---- */

    /* new WebSocket(url, protocols): an outbound connection (lib/core/ws_client.c). The script gets one end
     * of a pair; the other goes to the connection, which fires 'open' (or a 1006 close) from the loop. */
    function WebSocket(url, protocols) {
        if (!(this instanceof WebSocket)) {
            throw new TypeError("Class constructor WebSocket cannot be invoked without 'new'");
        }
        var err = 'WebSocket Constructor: ', u;
        try {
            u = new global.URL(String(url));
        } catch (e) {
            throw new DOMException(err + 'The url is invalid.', 'SyntaxError');
        }
        if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
            throw new DOMException(err + 'The url scheme must be ws or wss.', 'SyntaxError');
        }
        if (u.hash !== '' || String(url).indexOf('#') >= 0) {
            throw new DOMException(err + 'The url fragment must be empty.', 'SyntaxError');
        }
        var list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols;
        if (typeof protocols !== 'string' && protocols !== undefined) {
            list = [];
            for (var i = 0; i < protocols.length; i++) {
                list.push(String(protocols[i]));
            }
            if (list.length === 0) {
                throw new DOMException(err + 'The protocols array cannot be empty.', 'SyntaxError');
            }
        }
        for (var j = 0; j < list.length; j++) {
            if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(list[j])) {
                throw new DOMException(err + (typeof protocols === 'string' ? 'The protocol header token is invalid.'
                                              : 'One of the protocol header tokens is invalid.'), 'SyntaxError');
            }
            if (list.indexOf(list[j]) !== j) {
                throw new DOMException(err + 'The protocols header cannot have repeating values.', 'SyntaxError');
            }
        }
        var a = newSocket(), b = newSocket();
        a[S].peer = b;
        b[S].peer = a;
        a[S].connecting = true;
        a[S].url = String(url);
        a[S].protocol = '';
        var tls = u.protocol === 'wss:';
        var port = u.port !== '' ? Number(u.port) : tls ? 443 : 80;
        native.connect(b, u.hostname, port, tls, (u.pathname || '/') + u.search, list.join(', '), '');
        return a;
    }

    /* Request headers that the WebSocket handshake owns (the connection sets them itself). */
    var handshakeOwned = {
        'host': 1, 'upgrade': 1, 'connection': 1, 'sec-websocket-key': 1, 'sec-websocket-version': 1,
        'sec-websocket-extensions': 1, 'sec-websocket-protocol': 1, 'content-length': 1, 'transfer-encoding': 1
    };

    /* fetch(input, init) whose headers ask for Upgrade: websocket (lib/core/websocket.c decides): resolves
     * with a 101 Response whose webSocket is the connected end, to accept() before use, as in workerd. */
    function fetchUpgrade(input, init) {
        return new global.Promise(function (resolve, reject) {
            var req = new global.Request(input, init);
            var u = new global.URL(req.url);
            if (u.protocol !== 'http:' && u.protocol !== 'https:') {
                throw new TypeError('Fetch API cannot load: ' + req.url);
            }
            if (req.method !== 'GET') {
                throw new TypeError('A WebSocket upgrade request must use the GET method.');
            }
            var extra = '', protocols = '';
            req.headers.forEach(function (value, name) {
                if (name === 'sec-websocket-protocol') {
                    protocols = value;
                } else if (!handshakeOwned[name]) {
                    extra += name + ': ' + value + '\r\n';
                }
            });
            var a = newSocket(), b = newSocket();
            a[S].peer = b;
            b[S].peer = a;
            a[S].connecting = 'fetch';
            a[S].settle = { resolve: resolve, reject: reject };
            var tls = u.protocol === 'https:';
            var port = u.port !== '' ? Number(u.port) : tls ? 443 : 80;
            native.connect(b, u.hostname, port, tls, (u.pathname || '/') + u.search, protocols, extra);
        });
    }

    function newSocket() {
        var ws = Object.create(WebSocket.prototype);
        events._initTarget(ws);
        ws[S] = {
            peer: null, accepted: false, released: false, link: 0, closedIn: false, closedOut: false,
            aborted: false, queue: [], scheduled: false, binaryType: 'arraybuffer',
            connecting: false, url: null, protocol: null, settle: null, halfOpen: false
        };
        return ws;
    }

    /* Runs the events queued for an accepted end, in order. */
    function drain(ws) {
        var st = ws[S];
        st.scheduled = false;
        while (st.queue.length > 0 && st.accepted) {
            receive(ws, st.queue.shift());
        }
    }

    function schedule(ws) {
        var st = ws[S];
        if (!st.scheduled && st.accepted && st.queue.length > 0) {
            st.scheduled = true;
            resolved.then(function () { drain(ws); });
        }
    }

    /* One incoming event for an accepted end. */
    function receive(ws, m) {
        var st = ws[S];
        if (m.type === 'message') {
            if (!st.closedIn) {
                fire(ws, events._newMessageEvent('message', m.data));
            }
        } else if (m.type === 'close') {
            if (st.closedIn) {
                return;
            }
            st.closedIn = true;
            st.aborted = m.code === 1006; /* the peer is gone: later sends are dropped, as in workerd */
            fire(ws, closeFields(trusted(CloseEvent.prototype, 'close'),
                                 { code: m.code, reason: m.reason, wasClean: m.wasClean }));
            /* Answer a close the Worker did not answer itself (RFC 6455 5.5.1), as workerd does with its
             * web_socket_auto_reply_to_close behaviour, unless accept({allowHalfOpen: true}) leaves that to
             * the script; an abnormal closure has no one to answer. */
            if (!st.closedOut && !st.aborted && !st.halfOpen) {
                st.closedOut = true;
                transmit(st, { type: 'close', code: m.code, reason: '', wasClean: true });
            }
        }
    }

    /* Delivers m to the peer of the end whose state is st. */
    function transmit(st, m) {
        var peer = st.peer, pst = peer[S];
        if (pst.released) {
            if (m.type === 'close') {
                native.linkClose(pst.link, m.code, m.reason);
            } else {
                native.linkSend(pst.link, m.data, typeof m.data === 'string');
            }
            return;
        }
        pst.queue.push(m);
        schedule(peer);
    }

    function copyBytes(v) {
        if (v instanceof ArrayBuffer) {
            return v.slice(0);
        }
        if (ArrayBuffer.isView(v)) {
            return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
        }
        return undefined;
    }

    var proto = WebSocket.prototype;

    /* accept({allowHalfOpen}): with it, a close from the peer is not answered automatically; the script
     * answers with close() (a proxy coordinating both sides, as the Durable Object relays of durable.js
     * do), and readyState stays CLOSING until then. */
    hide(proto, 'accept', function accept(options) {
        var st = state(this);
        var halfOpen = false;
        if (options !== undefined && options !== null) {
            if (typeof options !== 'object' && typeof options !== 'function') {
                throw new TypeError("Failed to execute 'accept' on 'WebSocket': parameter 1 is not of type " +
                                    "'AcceptOptions'.");
            }
            halfOpen = !!options.allowHalfOpen;
        }
        if (st.connecting) {
            throw new TypeError("Websockets obtained from the 'new WebSocket()' constructor cannot call accept");
        }
        if (st.released) {
            throw new TypeError("Can't accept() WebSocket that was already used in a response.");
        }
        if (halfOpen) {
            st.halfOpen = true;
        }
        if (!st.accepted) {
            st.accepted = true;
            schedule(this);
        }
    });

    hide(proto, 'send', function send(message) {
        var st = state(this);
        if (arguments.length < 1) {
            throw new TypeError("Failed to execute 'send' on 'WebSocket': parameter 1 is not of type 'string'.");
        }
        if (st.closedOut) {
            throw new TypeError("Can't call WebSocket send() after close().");
        }
        if (st.aborted || st.released) {
            return; /* the connection is gone: dropped silently, as the spec and workerd do */
        }
        if (!st.accepted) {
            throw new TypeError('You must call one of accept() or state.acceptWebSocket() on this WebSocket ' +
                                'before sending messages.');
        }
        var data = copyBytes(message);
        transmit(st, { type: 'message', data: data === undefined ? String(message) : data });
    });

    hide(proto, 'close', function close(code, reason) {
        var st = state(this);
        if (st.closedOut || st.aborted || st.released) {
            return;
        }
        if (!st.accepted) {
            throw new TypeError('You must call one of accept() or state.acceptWebSocket() on this WebSocket ' +
                                'before sending messages.');
        }
        if (code !== undefined) {
            code = Number(code);
            code = code !== code || code === Infinity || code === -Infinity ? 0 : code < 0 ? Math.ceil(code)
                                                                                          : Math.floor(code);
            if (!(code >= 1000 && code < 5000 && code !== 1004 && code !== 1005 && code !== 1006 &&
                  code !== 1015)) {
                throw new TypeError('Invalid WebSocket close code: ' + code + '.');
            }
        }
        if (reason !== undefined) {
            if (code === undefined) {
                throw new TypeError('If you specify a WebSocket close reason, you must also specify a code.');
            }
            reason = String(reason);
            if (new TextEncoder().encode(reason).length > 123) {
                throw new DOMException('The close reason must not be greater than 123 UTF-8 bytes.', 'SyntaxError');
            }
        }
        st.closedOut = true;
        transmit(st, { type: 'close', code: code === undefined ? 1005 : code, reason: reason || '', wasClean: true });
    });

    Object.setPrototypeOf(proto, EventTarget.prototype);
    Object.setPrototypeOf(WebSocket, EventTarget);
    var handlers = ['open', 'message', 'close', 'error'];
    for (var hi = 0; hi < handlers.length; hi++) {
        events._defineHandler(proto, handlers[hi]);
    }

    getter(proto, 'readyState', function () {
        var st = state(this);
        return (st.closedIn && st.closedOut) || st.aborted ? 3 : st.closedIn || st.closedOut ? 2
               : st.connecting ? 0 : 1;
    });
    getter(proto, 'url', function () { return state(this).url; });
    getter(proto, 'protocol', function () { return state(this).protocol; });
    getter(proto, 'extensions', function () { state(this); return null; });
    defineProperty(proto, 'binaryType', {
        get: function () { return state(this).binaryType; },
        /* Only ArrayBuffer data exists in Workers (there is no Blob here); other values are ignored, as
         * the HTML spec ignores invalid enumeration values. */
        set: function (v) {
            if (String(v) === 'arraybuffer') {
                state(this).binaryType = 'arraybuffer';
            }
        },
        configurable: true, enumerable: true
    });
    var names = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
    for (var i = 0; i < names.length; i++) {
        constant(WebSocket, names[i], i);
        constant(WebSocket, 'READY_STATE_' + names[i], i);
        constant(proto, names[i], i);
        constant(proto, 'READY_STATE_' + names[i], i);
    }
    hide(proto, Symbol.toStringTag, 'WebSocket');

    /* ---- WebSocketPair: {0: client, 1: server}, in that order for Object.values ---- */

    function WebSocketPair() {
        if (!(this instanceof WebSocketPair)) {
            throw new TypeError("Class constructor WebSocketPair cannot be invoked without 'new'");
        }
        var a = newSocket(), b = newSocket();
        a[S].peer = b;
        b[S].peer = a;
        defineProperty(this, '0', { value: a, enumerable: true });
        defineProperty(this, '1', { value: b, enumerable: true });
    }
    hide(WebSocketPair.prototype, Symbol.iterator, function () {
        var pair = this, i = 0;
        return { next: function () { return i < 2 ? { value: pair[i++], done: false } : { value: undefined, done: true }; } };
    });

    /* ---- called by lib/core/websocket.c ---- */

    /* The end at ws goes to the host as link `id` (checked like workerd's WebSocket::couple). */
    function couple(ws, id) {
        var st = state(ws);
        if (st.released) {
            throw new TypeError("Can't return WebSocket that was already used in a response.");
        }
        if (st.accepted) {
            throw new TypeError("Can't return WebSocket in a Response after calling accept().");
        }
        st.released = true;
        st.link = id;
        /* What the peer sent before the response went out leaves now, in order. */
        var q = st.queue;
        st.queue = [];
        for (var k = 0; k < q.length; k++) {
            if (q[k].type === 'close') {
                native.linkClose(id, q[k].code, q[k].reason);
            } else if (q[k].type === 'message') {
                native.linkSend(id, q[k].data, typeof q[k].data === 'string');
            }
        }
    }

    /* An event from the host for the released end ws: it reaches ws's peer like a local message. An
     * outbound socket (new WebSocket) opens on 'open' and is accepted then, as in workerd; a close before
     * that means the connection failed: 'error', then the close event. */
    function fromHost(ws, type, data, code, reason, wasClean) {
        var peer = ws[S].peer, pst = peer[S];
        if (pst.connecting === 'fetch') { /* fetch() with Upgrade: the 101 Response, or a rejection */
            var settle = pst.settle;
            pst.connecting = false;
            pst.settle = null;
            if (type === 'open') {
                pst.protocol = reason === '' ? null : reason;
                settle.resolve(new global.Response(null, {
                    status: 101, webSocket: peer,
                    headers: reason === '' ? {} : { 'sec-websocket-protocol': reason }
                }));
            } else {
                pst.closedIn = pst.closedOut = pst.aborted = true;
                settle.reject(new TypeError('Failed to establish the WebSocket connection: ' + reason + '.'));
            }
            return;
        }
        if (pst.connecting) {
            pst.connecting = false;
            pst.accepted = true;
            if (type === 'open') {
                pst.protocol = reason === '' ? null : reason;
                fire(peer, trusted(Event.prototype, 'open'));
                schedule(peer);
                return;
            }
            var ev = trusted(Event.prototype, 'error');
            hide(ev, 'message', reason);
            fire(peer, ev);
        }
        peer[S].queue.push({ type: type, data: data, code: code, reason: reason, wasClean: wasClean });
        schedule(peer);
    }

    /* The far side of relay end ws went away without a close: ws's peer sees that abnormal closure (1006,
     * wasClean false) as it would from the host, and ws sends nothing more. A peer released to a host
     * (the object returned a socket of its own outbound connection) gets 1001 instead: no close frame on
     * the wire may carry 1006. */
    function abortRelay(ws, reason) {
        var st = state(ws);
        if (st.aborted || st.closedOut || st.peer === null) {
            return;
        }
        st.closedOut = true;
        if (st.peer[S].released) {
            transmit(st, { type: 'close', code: 1001, reason: reason, wasClean: true });
            return;
        }
        st.aborted = true;
        transmit(st, { type: 'close', code: 1006, reason: reason, wasClean: false });
    }

    return {
        WebSocket: WebSocket,
        WebSocketPair: WebSocketPair,
        CloseEvent: CloseEvent,
        couple: couple,
        fromHost: fromHost,
        fetchUpgrade: fetchUpgrade,
        abortRelay: abortRelay
    };
}
