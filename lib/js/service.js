/*
 * service.js — the caller's side of calls to other Workers, in ES5 (compiled to bytecode at build time):
 * service bindings' Fetcher (env.NAME.fetch and RPC methods, lib/bindings/service.c), and what Durable
 * Object stubs share with it (lib/js/durable.js): fetch() carried as a message, RPC methods on a Proxy,
 * and the structured-clone encoding of values in JSON text. Loaded into an isolate when its worker has
 * service bindings or Durable Object namespaces (durable.c ew__service_push_api), before durable.js, which
 * gets the returned object; small on purpose, since every isolate with a service binding pays for it.
 * Called as `function (native, global)`; returns:
 *   makeService(index)                   env.NAME of a service binding: a Fetcher
 *   serialize, deserialize, encodeError, failedReply, hide, K, NULL_BODY
 *   fetchVia(send, s, input, init)       fetch() of a stub or service; send(s, req, headers, body) posts it
 *   makeProxy(target, s)                 a stub or Fetcher whose unknown properties are RPC methods
 *   setRelay(fn)                         durable.js's WebSocket relay, for objects answering with a 101
 * native (durable.c, service.c): call, serviceCall, loadDurable, streamBody.
 */
function (native, global) {
    'use strict';

    var O = global.Object, JSON = global.JSON, Promise = global.Promise, Map = global.Map, Set = global.Set;
    var TypeError = global.TypeError, Error = global.Error, DateC = global.Date;
    var ArrayBufferC = global.ArrayBuffer, Uint8ArrayC = global.Uint8Array, RegExpC = global.RegExp;
    var Request = global.Request, Response = global.Response, Proxy = global.Proxy, Sym = global.Symbol;
    var defineProperty = O.defineProperty, isArray = global.Array.isArray;
    var fromCharCode = global.String.fromCharCode;
    var hasOwn = O.prototype.hasOwnProperty, toStr = O.prototype.toString;
    var RPC = 1, SVC_FETCH = 3, SVC_RPC = 4;
    var K = Sym('rpc');       /* hidden-ish state of stubs, Fetchers, ids and namespaces */
    var relayFn = null;       /* durable.js's relay(id, ws) */

    function hide(obj, name, value) {
        defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    function cloneError(what) {
        var D = global.DOMException;
        return D ? new D(what + ' could not be cloned.', 'DataCloneError') : new TypeError(what + ' could not be cloned.');
    }

    /* ---------------------------------------------------------------------------------------------------
     * Structured clone as JSON: strings, booleans, null and finite numbers stand for themselves; everything
     * else is an array whose first element is a tag. Cycles are refused (DataCloneError).
     */

    function bytesToLatin1(u8) {
        var out = [], i;
        for (i = 0; i < u8.length; i += 8192) {
            out.push(fromCharCode.apply(null, u8.subarray(i, i + 8192)));
        }
        return out.join('');
    }

    function latin1ToBuffer(s) {
        var u8 = new Uint8ArrayC(s.length), i;
        for (i = 0; i < s.length; i++) {
            u8[i] = s.charCodeAt(i);
        }
        return u8.buffer;
    }

    function enc(v, seen) {
        var t = typeof v, out, i, keys, tag;
        if (v === null || t === 'string' || t === 'boolean') {
            return v;
        }
        if (t === 'number') {
            return (v === v && v !== Infinity && v !== -Infinity && (v !== 0 || 1 / v > 0)) ? v : ['n', String(1 / v < 0 && v === 0 ? '-0' : v)];
        }
        if (t === 'undefined') {
            return ['u'];
        }
        if (t === 'function' || t === 'symbol') {
            throw cloneError(t === 'function' ? 'function ' + (v.name || '') + '() {}' : 'Symbol()');
        }
        if (seen.indexOf(v) >= 0) {
            throw cloneError('An object with a cycle');
        }
        seen.push(v);
        tag = toStr.call(v);
        if (isArray(v)) {
            out = ['A'];
            for (i = 0; i < v.length; i++) {
                out.push(enc(v[i], seen));
            }
        } else if (tag === '[object Date]') {
            out = ['D', v.getTime()];
        } else if (tag === '[object RegExp]') {
            out = ['R', v.source, v.flags !== undefined ? v.flags : ''];
        } else if (tag === '[object ArrayBuffer]') {
            out = ['B', bytesToLatin1(new Uint8ArrayC(v))];
        } else if (ArrayBufferC.isView(v)) {
            out = ['T', tag.slice(8, -1), bytesToLatin1(new Uint8ArrayC(v.buffer, v.byteOffset, v.byteLength))];
        } else if (v instanceof Map) {
            out = ['M'];
            v.forEach(function (val, key) { out.push(enc(key, seen), enc(val, seen)); });
        } else if (v instanceof Set) {
            out = ['S'];
            v.forEach(function (val) { out.push(enc(val, seen)); });
        } else if (v instanceof Error) {
            out = ['E', String(v.name), String(v.message)];
        } else {
            out = ['O'];
            keys = O.keys(v);
            for (i = 0; i < keys.length; i++) {
                out.push(keys[i], enc(v[keys[i]], seen));
            }
        }
        seen.pop();
        return out;
    }

    function dec(x) {
        var t, i, o, C;
        if (!isArray(x)) {
            return x;
        }
        t = x[0];
        switch (t) {
        case 'u': return undefined;
        case 'n': return x[1] === '-0' ? -0 : Number(x[1]);
        case 'A':
            o = [];
            for (i = 1; i < x.length; i++) {
                o.push(dec(x[i]));
            }
            return o;
        case 'D': return new DateC(x[1]);
        case 'R': return new RegExpC(x[1], x[2]);
        case 'B': return latin1ToBuffer(x[1]);
        case 'T':
            C = global[x[1]];
            o = latin1ToBuffer(x[2]);
            return typeof C === 'function' && C !== ArrayBufferC ?
                (x[1] === 'DataView' ? new C(o) : new C(o, 0, o.byteLength / (C.BYTES_PER_ELEMENT || 1))) : o;
        case 'M':
            o = new Map();
            for (i = 1; i < x.length; i += 2) {
                o.set(dec(x[i]), dec(x[i + 1]));
            }
            return o;
        case 'S':
            o = new Set();
            for (i = 1; i < x.length; i++) {
                o.add(dec(x[i]));
            }
            return o;
        case 'E':
            C = global[x[1]];
            o = (typeof C === 'function' && (C === Error || C.prototype instanceof Error)) ? new C(x[2]) : new Error(x[2]);
            if (o.name !== x[1]) {
                o.name = x[1];
            }
            return o;
        default:
            o = {};
            for (i = 1; i < x.length; i += 2) {
                o[x[i]] = dec(x[i + 1]);
            }
            return o;
        }
    }

    function serialize(v) {
        return JSON.stringify(enc(v, []));
    }

    function deserialize(s) {
        return dec(JSON.parse(s));
    }

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
        return dec(JSON.parse(meta));
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
