/*
 * service.js — the caller's side of calls to other Workers, in ES5 (compiled to bytecode at build time):
 * service bindings' Fetcher (env.NAME.fetch and RPC methods, lib/bindings/service.c), and what Durable
 * Object stubs share with it (lib/js/durable.js): fetch() carried as a message, RPC methods on a Proxy,
 * and the errors of calls (values use lib/js/sclone.js, native.codec). Loaded into an isolate when its worker
 * has service bindings or Durable Object namespaces (durable.c ew__service_push_api), before durable.js,
 * which gets the returned object; small on purpose, since every isolate with a service binding pays for it.
 * Called as `function (native, global)`; returns:
 *   makeService(index)                   env.NAME of a service binding: a Fetcher
 *   serialize, deserialize, encodeError, failedReply, hide, K, NULL_BODY
 *   fetchVia(send, s, input, init)       fetch() of a stub or service; send(s, req, headers, body) posts it
 *   makeProxy(target, s)                 a stub or Fetcher whose unknown properties are RPC methods
 *   setRelay(fn)                         durable.js's WebSocket relay, for objects answering with a 101
 * native (durable.c, service.c): call, serviceCall, loadDurable, streamBody; codec (lib/js/sclone.js).
 */
function (native, global) {
    'use strict';

    var O = global.Object, JSON = global.JSON, Promise = global.Promise;
    var TypeError = global.TypeError, Error = global.Error;
    var Request = global.Request, Response = global.Response, Proxy = global.Proxy, Sym = global.Symbol;
    var defineProperty = O.defineProperty, hasOwn = O.prototype.hasOwnProperty;
    var RPC = 1, SVC_FETCH = 3, SVC_RPC = 4;
    var K = Sym('rpc');       /* hidden-ish state of stubs, Fetchers, ids and namespaces */
    var relayFn = null;       /* durable.js's relay(id, ws) */

    function hide(obj, name, value) {
        defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    /* Structured clone as JSON text (lib/js/sclone.js, shared with Durable Object storage and Queues). */
    var serialize = native.codec.serialize, deserialize = native.codec.deserialize;

    function encodeError(e) {
        if (e instanceof Error) {
            return JSON.stringify(['E', String(e.name), String(e.message)]);
        }
        try {
            return JSON.stringify(['E', 'Error', String(e)]);
        } catch (ignored) {
            return '["E","Error","(an exception)"]';
        }
    }

    /* ---------------------------------------------------------------------------------------------------
     * fetch() and RPC as messages
     */

    function failedReply(meta) {
        return deserialize(meta);
    }

    var NULL_BODY = { 101: true, 204: true, 205: true, 304: true };

    /* The answer [failed, meta, body|null, tunnel?] to a fetch of a stub or service, meta being [status,
     * statusText, headers], as a Response. */
    function fetchAnswer(r) {
        if (r[0]) {
            throw failedReply(r[1]);
        }
        var m = JSON.parse(r[1]), pair, client;
        if (r[3] !== undefined) { /* the other side answered with a WebSocket: relay it through a pair */
            if (relayFn === null) {
                native.loadDurable(); /* durable.js holds the relays, and registers them with setRelay */
            }
            pair = new global.WebSocketPair();
            client = pair[0];
            relayFn(r[3], pair[1]);
            return new Response(null, { status: m[0], statusText: m[1], headers: m[2], webSocket: client });
        }
        return new Response(r[4] !== undefined ? native.streamBody(r[4]) : NULL_BODY[m[0]] ? null : r[2],
                            { status: m[0], statusText: m[1], headers: m[2] });
    }

    /* fetch() of a stub or a service binding: send(s, req, headers, body) posts the call and resolves with
     * the answer. The per-call callbacks are method-shorthand functions (freed by reference counting; a
     * function expression's .prototype cycle would wait for mark-and-sweep, a pause every few dozen calls). */
    function fetchVia(send, s, input, init) {
        var req, headers = [];
        try {
            req = (input instanceof Request && init === undefined) ? input : new Request(input, init);
        } catch (e) {
            return Promise.reject(e);
        }
        req.headers.forEach(({ f(v, k) { headers.push([k, v]); } }).f);
        var body = req.body === null ? Promise.resolve(null) : req.arrayBuffer();
        return body.then(({ f(b) { return send(s, req, headers, b); } }).f).then(fetchAnswer);
    }

    function rpcAnswer(r) {
        if (r[0]) {
            throw failedReply(r[1]);
        }
        return deserialize(r[1]);
    }

    function rpcMethod(s, name) {
        return function () {
            var args = [], i, meta;
            for (i = 0; i < arguments.length; i++) {
                args.push(arguments[i]);
            }
            try {
                meta = serialize([name, args]);
            } catch (e) {
                return Promise.reject(e);
            }
            var sent = s.kind === 'service' ? native.serviceCall(s.si, SVC_RPC, meta, null) :
                native.call(s.nsi, s.hex, s.name, RPC, meta, null);
            return sent.then(rpcAnswer);
        };
    }

    function makeProxy(target, s) {
        var methods = {};
        return new Proxy(target, {
            get: function (t, key) {
                if (key in t || typeof key !== 'string' || key === 'then') {
                    return t[key];
                }
                if (!hasOwn.call(methods, key)) {
                    methods[key] = rpcMethod(s, key);
                }
                return methods[key];
            }
        });
    }

    /* ---------------------------------------------------------------------------------------------------
     * Service bindings: env.NAME is a Fetcher for another Worker of the runtime. fetch() sends
     * "method\0url\0name\0value..." and the body; any other property is an RPC method.
     */

    function Fetcher() {
        throw new TypeError('Illegal constructor');
    }
    var FP = Fetcher.prototype;
    if (Sym.toStringTag) {
        defineProperty(FP, Sym.toStringTag, { value: 'Fetcher' });
    }

    function sendToService(s, req, headers, b) {
        var parts = [req.method, req.url], i;
        for (i = 0; i < headers.length; i++) {
            parts.push(headers[i][0], headers[i][1]);
        }
        return native.serviceCall(s.si, SVC_FETCH, parts.join('\u0000'),
            req.method === 'GET' || req.method === 'HEAD' ? null : b);
    }

    hide(FP, 'fetch', function fetch(input, init) {
        var s = this && this[K];
        if (!s || s.kind !== 'service') {
            return Promise.reject(new TypeError('Illegal invocation'));
        }
        return fetchVia(sendToService, s, input, init);
    });

    function makeService(si) {
        var target = O.create(FP), s = { kind: 'service', si: si };
        hide(target, K, s);
        return makeProxy(target, s);
    }

    return {
        makeService: makeService,
        serialize: serialize,
        deserialize: deserialize,
        encodeError: encodeError,
        failedReply: failedReply,
        hide: hide,
        K: K,
        NULL_BODY: NULL_BODY,
        fetchVia: fetchVia,
        makeProxy: makeProxy,
        setRelay: function (fn) { relayFn = fn; }
    };
}
