/*
 * durable.js — the JavaScript surface of Durable Objects, and the target's side of service bindings' RPC, in
 * ES5 (compiled to bytecode at build time). Loaded into an isolate only when its worker has Durable Object
 * namespaces, receives an RPC call, or imports 'cloudflare:workers' (lib/bindings/durable.c
 * ew__durable_push_api). Called as `function (native, global, rpc)`, rpc being what lib/js/service.js
 * returned (the caller's side of calls and the structured-clone encoding); returns the API durable.c uses:
 *   makeNamespace(nsIndex, className)          env.NAME: a DurableObjectNamespace
 *   deliver(handle, nsIndex, id, name, kind, meta, body) -> promise of [failed, meta, body]: one event
 *   committed(nsIndex, id, ok, message)        the object's writes are on disk (or failed)
 *   evict(nsIndex, id)                         drop the instance (idle, or its isolate was replaced)
 *   workersModule                              the 'cloudflare:workers' module: DurableObject, ...
 *   serviceRpc(entrypoint, meta) -> promise of [failed, meta, null]: an RPC call into this Worker (service.c)
 *   serviceFetch(entrypoint, meta, body) -> promise of [failed, meta, body]: fetch() of a named entrypoint
 * native (durable.c, do_storage.c, service.c): idFromName, newUniqueId, checkId, call, exportOf, env,
 *   sqlEnabled, armAlarm, exec, txn, size, tunnelOpen/Send/Close, wsModule (lib/js/websocket.js's
 *   abortRelay), serviceCall, context; codec (lib/js/sclone.js: serialize/deserialize).
 *
 * Input gate: an object's events wait in rec.queue while blockConcurrencyWhile() runs or a write has not been
 * confirmed (rec.blocked, rec.waiters); output gate: durable.c holds replies until the writes are on disk.
 * Values cross objects and storage as a structured-clone encoding in JSON text (lib/js/sclone.js, which
 * service.js hands on).
 */
function (native, global, rpc) {
    'use strict';

    var O = global.Object, JSON = global.JSON, Promise = global.Promise, Map = global.Map;
    var TypeError = global.TypeError, Error = global.Error, RangeError = global.RangeError, DateC = global.Date;
    var Request = global.Request, Response = global.Response, Sym = global.Symbol;
    var defineProperty = O.defineProperty, isArray = global.Array.isArray;
    var hasOwn = O.prototype.hasOwnProperty;
    var ITER = Sym.iterator;
    var FETCH = 0, RPC = 1, ALARM = 2;
    var INTERNAL = 1, UNCONFIRMED = 2;
    var MAX_KEYS = 128, MAX_KEY_BYTES = 2048;
    var hide = rpc.hide, serialize = rpc.serialize, deserialize = rpc.deserialize, encodeError = rpc.encodeError;
    var failedReply = rpc.failedReply, NULL_BODY = rpc.NULL_BODY;

    /* ---------------------------------------------------------------------------------------------------
     * Ids, namespaces, stubs (the calling side)
     */

    var nsInfo = [];          /* nsIndex -> { className } */
    var K = rpc.K;            /* hidden-ish state of ids, namespaces and stubs (shared with service.js) */

    function DurableObjectId() {
        throw new TypeError('Illegal constructor');
    }
    function makeId(nsi, hex, name) {
        var id = O.create(DurableObjectId.prototype);
        hide(id, K, { nsi: nsi, hex: hex });
        defineProperty(id, 'name', { value: name, enumerable: true });
        return id;
    }
    hide(DurableObjectId.prototype, 'toString', function toString() {
        var s = this && this[K];
        if (!s) {
            throw new TypeError('Illegal invocation');
        }
        return s.hex;
    });
    hide(DurableObjectId.prototype, 'equals', function equals(other) {
        var s = this && this[K];
        if (!s) {
            throw new TypeError('Illegal invocation');
        }
        return !!(other && other[K] && other[K].hex === s.hex);
    });
    hide(DurableObjectId.prototype, 'toJSON', function toJSON() {
        return this.toString();
    });

    function DurableObjectNamespace() {
        throw new TypeError('Illegal constructor');
    }
    var NP = DurableObjectNamespace.prototype;

    function nsOf(self) {
        var s = self && self[K];
        if (!s || s.kind !== 'ns') {
            throw new TypeError('Illegal invocation');
        }
        return s.nsi;
    }

    function makeNamespace(nsi, className) {
        var ns = O.create(NP);
        nsInfo[nsi] = { className: className };
        hide(ns, K, { kind: 'ns', nsi: nsi });
        return ns;
    }

    hide(NP, 'idFromName', function idFromName(name) {
        var nsi = nsOf(this);
        if (arguments.length < 1) {
            throw new TypeError("Failed to execute 'idFromName' on 'DurableObjectNamespace': parameter 1 is not of type 'string'.");
        }
        name = String(name);
        return makeId(nsi, native.idFromName(nsi, name), name);
    });
    hide(NP, 'newUniqueId', function newUniqueId(options) {
        var nsi = nsOf(this), j = options && options.jurisdiction;
        if (j !== undefined && j !== 'eu' && j !== 'fedramp' && j !== 'fedramp-high') {
            throw new TypeError('Invalid jurisdiction: "' + j + '"');
        }
        return makeId(nsi, native.newUniqueId(nsi), undefined);
    });
    hide(NP, 'idFromString', function idFromString(hex) {
        var nsi = nsOf(this), msg;
        hex = String(hex).toLowerCase(); /* hex digits in either case, as workerd decodes them */
        msg = native.checkId(nsi, hex);
        if (msg) {
            throw new TypeError(msg);
        }
        return makeId(nsi, hex, undefined);
    });
    hide(NP, 'get', function get(id, options) {
        var nsi = nsOf(this), s = id && id[K];
        if (!s || s.hex === undefined) {
            throw new TypeError("Failed to execute 'get' on 'DurableObjectNamespace': parameter 1 is not of type 'DurableObjectId'.");
        }
        if (s.nsi !== nsi && native.checkId(nsi, s.hex)) {
            throw new TypeError('Durable Object ID is not valid for this namespace.');
        }
        if (options !== undefined && (options === null || typeof options !== 'object')) {
            throw new TypeError("Failed to execute 'get' on 'DurableObjectNamespace': parameter 2 is not of type 'DurableObjectNamespaceGetDurableObjectOptions'.");
        }
        return makeStub(nsi, s.hex, id.name);
    });
    hide(NP, 'getByName', function getByName(name, options) {
        return this.get(this.idFromName(name), options);
    });
    hide(NP, 'jurisdiction', function jurisdiction(j) {
        nsOf(this);
        if (j !== 'eu' && j !== 'fedramp' && j !== 'fedramp-high') {
            throw new TypeError('Invalid jurisdiction: "' + j + '"');
        }
        return this;
    });
    if (Sym.toStringTag) {
        defineProperty(NP, Sym.toStringTag, { value: 'DurableObjectNamespace' });
        defineProperty(DurableObjectId.prototype, Sym.toStringTag, { value: 'DurableObjectId' });
    }

    function DurableObjectStub() {
        throw new TypeError('Illegal constructor');
    }
    var SP = DurableObjectStub.prototype;

    function sendToObject(s, req, headers, b) {
        return native.call(s.nsi, s.hex, s.name, FETCH, JSON.stringify([req.method, req.url, headers]), b);
    }

    hide(SP, 'fetch', function fetch(input, init) {
        var s = this && this[K];
        if (!s || s.kind !== 'stub') {
            return Promise.reject(new TypeError('Illegal invocation'));
        }
        return rpc.fetchVia(sendToObject, s, input, init);
    });

    function makeStub(nsi, hex, name) {
        var target = O.create(SP), s = { kind: 'stub', nsi: nsi, hex: hex, name: name };
        hide(target, K, s);
        defineProperty(target, 'id', { value: makeId(nsi, hex, name), enumerable: true });
        defineProperty(target, 'name', { value: name, enumerable: true });
        return rpc.makeProxy(target, s);
    }

    /* ---------------------------------------------------------------------------------------------------
     * The target's side of a service binding's RPC (lib/bindings/service.c; the caller's side is service.js)
     */

    var NOT_ENTRYPOINT = 'The RPC receiver does not support RPC: the entrypoint must be a class that extends ' +
        '`WorkerEntrypoint` (imported from "cloudflare:workers") or an object with methods.';

    function rpcDone(v) {
        return [false, serialize(v), null];
    }

    function rpcFailed(e) {
        return [true, encodeError(e), null];
    }

    /* The object a call goes to: a WorkerEntrypoint class's new instance (made per call with (ctx, env)), or
     * the exported object itself. */
    function entryInstance(entrypoint) {
        var exp = native.exportOf(entrypoint === null ? 'default' : entrypoint);
        if (typeof exp === 'function') {
            if (!(exp.prototype instanceof WorkerEntrypoint)) {
                throw new TypeError(NOT_ENTRYPOINT);
            }
            return new exp(native.context(), native.env());
        }
        if (exp !== null && typeof exp === 'object') {
            return exp;
        }
        throw new TypeError(entrypoint === null ? 'The Worker has no default export to call.' :
            'The Worker does not export an entrypoint named "' + entrypoint + '".');
    }

    /* The target's side of RPC: one call of method call[0] with arguments call[1] on the entrypoint.
     * Resolves with [failed, meta, null]. */
    function serviceRpc(entrypoint, meta) {
        return Promise.resolve().then(({ f() {
            var call = deserialize(meta), name = call[0], inst = entryInstance(entrypoint), fn;
            fn = name === 'constructor' || hasOwn.call(O.prototype, name) ? undefined : inst[name];
            if (typeof fn !== 'function') {
                throw new TypeError('The RPC receiver does not implement the method "' + name + '".');
            }
            return fn.apply(inst, call[1]);
        } }).f).then(rpcDone, rpcFailed);
    }

    /* A Response as [false, meta, body|null] (the body read whole). */
    function fetchDone(resp) {
        if (!(resp instanceof Response)) {
            throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
        }
        var headers = [], rmeta;
        resp.headers.forEach(({ f(v, k) { headers.push([k, v]); } }).f);
        rmeta = JSON.stringify([resp.status, resp.statusText, headers]);
        if (resp.status === 101) {
            throw new TypeError('A named entrypoint cannot answer a service binding fetch with a WebSocket.');
        }
        if (NULL_BODY[resp.status] || resp.body === null) {
            return [false, rmeta, null];
        }
        return resp.arrayBuffer().then(({ f(b) { return [false, rmeta, b]; } }).f);
    }

    /* fetch() through a service binding with an entrypoint (service.c; the default export's fetch is an
     * ordinary fetch event instead): meta is "method\0url\0name\0value...". */
    function serviceFetch(entrypoint, meta, body) {
        return Promise.resolve().then(({ f() {
            var parts = meta.split('\u0000'), init = { method: parts[0], headers: [] }, i, inst;
            for (i = 2; i + 1 < parts.length; i += 2) {
                init.headers.push([parts[i], parts[i + 1]]);
            }
            if (body !== null) {
                init.body = body;
            }
            inst = entryInstance(entrypoint);
            if (typeof inst.fetch !== 'function') {
                throw new TypeError('Handler does not export a fetch() function.');
            }
            return inst.fetch(new Request(parts[1], init), native.env(), native.context());
        } }).f).then(fetchDone).then(null, rpcFailed);
    }

    /* ---------------------------------------------------------------------------------------------------
     * The 'cloudflare:workers' module
     */

    function DurableObject(ctx, env) {
        if (!(this instanceof DurableObject)) {
            throw new TypeError("Class constructor DurableObject cannot be invoked without 'new'");
        }
        this.ctx = ctx;
        this.env = env;
    }
    function WorkerEntrypoint(ctx, env) {
        if (!(this instanceof WorkerEntrypoint)) {
            throw new TypeError("Class constructor WorkerEntrypoint cannot be invoked without 'new'");
        }
        this.ctx = ctx;
        this.env = env;
    }
    function RpcTarget() {
        if (!(this instanceof RpcTarget)) {
            throw new TypeError("Class constructor RpcTarget cannot be invoked without 'new'");
        }
    }

    var workersModule = {
        DurableObject: DurableObject,
        WorkerEntrypoint: WorkerEntrypoint,
        RpcTarget: RpcTarget
    };
    defineProperty(workersModule, 'env', { get: function () { return native.env(); }, enumerable: true });

    /* ---------------------------------------------------------------------------------------------------
     * WebSocket tunnels (durable.c): a relay end on each side passes whole messages and the close along.
     */

    var tunnels = O.create(null);  /* tunnel id -> the relay WebSocket of this side */

    rpc.setRelay(relay);

    /* A close goes through to the far end, and the close that comes back is this end's answer (half-open:
     * no automatic answer): the peer that closed first learns of the close handshake only once the far
     * side's script has seen the close, and a peer that vanished is a 1006 on the far side too, as with
     * one WebSocket on Cloudflare. */
    function relay(id, ws) {
        tunnels[id] = ws;
        ws.accept({ allowHalfOpen: true });
        ws.addEventListener('message', function (e) {
            native.tunnelSend(id, e.data);
        });
        ws.addEventListener('close', function (e) {
            native.tunnelClose(id, e.code, e.reason);
        });
        return id;
    }

    function tunnelEvent(id, kind, data, code) {
        var ws = tunnels[id];
        if (ws === undefined) {
            return;
        }
        if (kind !== 2) {
            ws.send(data);
            return;
        }
        delete tunnels[id];
        if (code === 1005) {
            ws.close();
        } else if (code === 1006) {
            native.wsModule().abortRelay(ws, data);
            native.tunnelClose(id, 1006, data); /* no answer will come from this side: the end is done */
        } else {
            ws.close(code, data);
        }
    }

    /* ---------------------------------------------------------------------------------------------------
     * The object's side: records, the input gate, events
     */

    var records = O.create(null);  /* "nsIndex:id" -> record */

    function recordOf(nsi, hex) {
        return records[nsi + ':' + hex];
    }

    function blocked(rec) {
        return rec.blocked > 0;
    }

    /* A storage read closes the input gate until the code awaiting it has run: the gate reopens in a later
     * macrotask (durable.c's pump event, after the microtasks drained), as Cloudflare's input gates do. */
    function closeGateForRead(rec, options) {
        if (options && options.allowConcurrency) {
            return;
        }
        rec.blocked++;
        rec.releases++;
        native.schedulePump(rec.handle);
    }

    /* Reopens what blockConcurrencyWhile() or transaction() closed, from a later macrotask too. */
    function reopenLater(rec) {
        rec.releases++;
        if (rec.handle !== null) {
            native.schedulePump(rec.handle);
        }
    }

    /* durable.c's pump event: the releases asked for since the last one take effect. */
    function pumpLater(nsi, hex) {
        var rec = recordOf(nsi, hex);
        if (rec !== undefined) {
            rec.blocked -= rec.releases;
            rec.releases = 0;
            pump(rec);
        }
    }

    /* Starts the queued events while the input gate is open. */
    function pump(rec) {
        var item;
        while (!blocked(rec) && rec.queue.length > 0) {
            if (rec.instance === undefined && !construct(rec)) {
                return;
            }
            if (blocked(rec)) {
                return; /* the constructor called blockConcurrencyWhile */
            }
            item = rec.queue.shift();
            start(item);
        }
    }

    function construct(rec) {
        var Cls = native.exportOf(nsInfo[rec.nsi].className), item;
        try {
            rec.instance = new Cls(rec.state, native.env());
            return true;
        } catch (e) {
            rec.instance = undefined;
            item = rec.queue.shift();
            item.resolve([true, encodeError(e), null]);
            return rec.queue.length > 0 && construct(rec);
        }
    }

    function start(item) {
        var p;
        try {
            p = Promise.resolve(item.run());
        } catch (e) {
            p = Promise.reject(e);
        }
        p.then(item.resolve, ({ f(e) { item.resolve([true, encodeError(e), null]); } }).f);
    }

    function runFetch(rec, meta, body) {
        var inst = rec.instance, m = JSON.parse(meta), init = { method: m[0], headers: m[2] };
        if (body !== null && m[0] !== 'GET' && m[0] !== 'HEAD') {
            init.body = body;
        }
        if (typeof inst.fetch !== 'function') {
            throw new TypeError('Handler does not export a fetch() function.');
        }
        return Promise.resolve(inst.fetch(new Request(m[1], init))).then(function (resp) {
            if (!(resp instanceof Response)) {
                throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
            }
            var headers = [], out = JSON.stringify;
            resp.headers.forEach(function (v, k) { headers.push([k, v]); });
            var rmeta = out([resp.status, resp.statusText, headers]);
            if (resp.status === 101) {
                if (!resp.webSocket) {
                    throw new TypeError('A 101 response needs a webSocket.');
                }
                return [false, rmeta, null, relay(native.tunnelOpen(rec.handle), resp.webSocket)];
            }
            if (NULL_BODY[resp.status] || resp.body === null) {
                return [false, rmeta, null];
            }
            return resp.arrayBuffer().then(function (b) { return [false, rmeta, b]; });
        });
    }

    var NOT_RPC = 'The receiving Durable Object does not support RPC, because its class was not declared with ' +
        '`extends DurableObject`. In order to enable RPC, make sure your class extends the special class ' +
        '`DurableObject`, which can be imported from the module "cloudflare:workers".';

    function runRpc(rec, meta) {
        var inst = rec.instance, call = deserialize(meta), name = call[0], fn;
        if (!(inst instanceof DurableObject)) {
            throw new TypeError(NOT_RPC);
        }
        fn = name === 'constructor' || hasOwn.call(O.prototype, name) ? undefined : inst[name];
        if (typeof fn !== 'function') {
            throw new TypeError('The RPC receiver does not implement the method "' + name + '".');
        }
        return Promise.resolve(fn.apply(inst, call[1])).then(rpcDone);
    }

    function storedAlarm(rec) {
        var rows = native.exec(rec.handle, 'SELECT value FROM _cf_METADATA WHERE key = 1', [], INTERNAL).rows;
        return rows.length ? rows[0][0] : null;
    }

    /* alarm(): retried with exponential backoff (2 s, 4 s, ...) up to 6 times, as Cloudflare does. */
    function runAlarm(rec, meta) {
        var retry = Number(meta), when = storedAlarm(rec), inst = rec.instance, done;
        if (when !== null && when > DateC.now() && when <= DateC.now() + 1000 && !rec.alarmRunning) {
            native.armAlarm(rec.handle, when, retry); /* the timer ran a little early */
            return [false, '', null];
        }
        if (when === null || when > DateC.now() || rec.alarmRunning || typeof inst.alarm !== 'function') {
            return [false, '', null]; /* a stale timer: the alarm was moved (its own timer is armed) or deleted */
        }
        rec.alarmRunning = true;
        done = function (ok) {
            rec.alarmRunning = false;
            if (rec.handle === null) {
                return [false, '', null];
            }
            if (storedAlarm(rec) === when) {
                if (ok || retry >= 6) {
                    native.exec(rec.handle, 'DELETE FROM _cf_METADATA WHERE key = 1', [], INTERNAL);
                } else {
                    native.armAlarm(rec.handle, DateC.now() + 2000 * Math.pow(2, retry), retry + 1);
                }
            }
            return [false, '', null];
        };
        return Promise.resolve().then(function () {
            return inst.alarm({ retryCount: retry, isRetry: retry > 0 });
        }).then(function () { return done(true); }, function (e) {
            /* A failure that will be retried is a warning; the last one is an error. */
            global.console[retry < 6 ? 'warn' : 'error']('Durable Object alarm() failed' +
                (retry < 6 ? ' (retried in ' + 2 * Math.pow(2, retry) + ' s): ' : ' (no retries left): ') +
                (e && e.stack ? e.stack : String(e)));
            return done(false);
        });
    }

    function deliver(handle, nsi, hex, name, kind, meta, body) {
        var key = nsi + ':' + hex, rec = records[key];
        if (rec === undefined) {
            rec = records[key] = newRecord(handle, nsi, hex, name);
        }
        rec.handle = handle;
        return new Promise(({ f(resolve) {
            rec.queue.push({
                resolve: resolve,
                run() {
                    return kind === FETCH ? runFetch(rec, meta, body) : kind === RPC ? runRpc(rec, meta) :
                        runAlarm(rec, meta);
                }
            });
            pump(rec);
        } }).f);
    }

    function committed(nsi, hex, ok, message) {
        var rec = recordOf(nsi, hex), w, i;
        if (rec === undefined) {
            return;
        }
        w = rec.waiters;
        rec.waiters = [];
        for (i = 0; i < w.length; i++) {
            if (ok) {
                w[i][0](w[i][2]);
            } else {
                w[i][1](new Error(message));
            }
        }
    }

    function evict(nsi, hex) {
        var rec = recordOf(nsi, hex);
        if (rec !== undefined) {
            rec.handle = null;
            delete records[nsi + ':' + hex];
        }
    }

    /* ---------------------------------------------------------------------------------------------------
     * ctx (DurableObjectState) and ctx.storage
     */

    function newRecord(handle, nsi, hex, name) {
        var rec = { handle: handle, nsi: nsi, hex: hex, queue: [], blocked: 0, releases: 0, waiters: [],
                    instance: undefined, alarmRunning: false };
        rec.state = makeState(rec, makeId(nsi, hex, name));
        return rec;
    }

    function DurableObjectState() {
        throw new TypeError('Illegal constructor');
    }

    function makeState(rec, id) {
        var st = O.create(DurableObjectState.prototype);
        defineProperty(st, 'id', { value: id, enumerable: true });
        defineProperty(st, 'storage', { value: makeStorage(rec, false), enumerable: true });
        hide(st, 'waitUntil', function waitUntil(p) {
            Promise.resolve(p)['catch'](function () {});
        });
        hide(st, 'blockConcurrencyWhile', function blockConcurrencyWhile(fn) {
            var p;
            rec.blocked++;
            try {
                p = Promise.resolve(fn());
            } catch (e) {
                p = Promise.reject(e);
            }
            return p.then(function (v) {
                reopenLater(rec);
                return v;
            }, function (e) {
                reopenLater(rec);
                throw e;
            });
        });
        addHibernationApi(st, rec);
        hide(st, 'abort', function abort(reason) {
            throw reason instanceof Error ? reason : new Error(reason === undefined ? 'Durable Object aborted.' : String(reason));
        });
        return st;
    }

    /* The WebSocket hibernation API: sockets accepted by the state (with tags) deliver their events to the
     * object's webSocketMessage/webSocketClose/webSocketError methods; an auto-response answers a fixed
     * request message without waking the object. Sockets are held in memory (the object with open sockets
     * is not evicted), so nothing actually hibernates; the API and its events behave as on Cloudflare. */
    var WS_ENTRY = Sym('hibernation'), ATTACHMENT = Sym('attachment');
    var MAX_TAGS = 10, MAX_TAG_LENGTH = 256, MAX_ATTACHMENT = 2048;
    var wsPatched = false;

    function WebSocketRequestResponsePair(request, response) {
        if (!(this instanceof WebSocketRequestResponsePair)) {
            throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': Please use the 'new' operator.");
        }
        if (typeof request !== 'string' || typeof response !== 'string') {
            throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': request and response must be strings.");
        }
        defineProperty(this, 'request', { value: request, enumerable: true });
        defineProperty(this, 'response', { value: response, enumerable: true });
    }
    hide(global, 'WebSocketRequestResponsePair', WebSocketRequestResponsePair);

    /* ws.serializeAttachment(value) / ws.deserializeAttachment(): a structured clone kept with the socket. */
    function patchWebSocket() {
        var WSP = global.WebSocket.prototype;
        wsPatched = true;
        hide(WSP, 'serializeAttachment', function serializeAttachment(value) {
            var text = serialize(value);
            if (text.length > MAX_ATTACHMENT) {
                throw new RangeError('A WebSocket attachment cannot be larger than ' + MAX_ATTACHMENT + ' bytes.');
            }
            hide(this, ATTACHMENT, text);
        });
        hide(WSP, 'deserializeAttachment', function deserializeAttachment() {
            var text = this[ATTACHMENT];
            return text === undefined ? null : deserialize(text);
        });
    }

    /* A hibernation handler call is an event of the object: it waits behind the input gate like a call. */
    function callHandler(rec, name, args) {
        var inst = rec.instance;
        if (inst === undefined || typeof inst[name] !== 'function') {
            return;
        }
        rec.queue.push({
            resolve: function (r) {
                if (r[0]) {
                    var e = failedReply(r[1]);
                    global.console.error('Uncaught (in ' + name + ') ' + e.name + ': ' + e.message);
                }
            },
            run: function () {
                return Promise.resolve(inst[name].apply(inst, args)).then(function () { return [false, '', null]; });
            }
        });
        pump(rec);
    }

    function addHibernationApi(st, rec) {
        rec.sockets = [];
        rec.autoResponse = null;
        if (!wsPatched) {
            patchWebSocket();
        }
        hide(st, 'acceptWebSocket', function acceptWebSocket(ws, tags) {
            var entry, i;
            if (!(ws instanceof global.WebSocket)) {
                throw new TypeError("Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'.");
            }
            tags = tags === undefined ? [] : tags;
            if (!isArray(tags)) {
                throw new TypeError("Failed to execute 'acceptWebSocket' on 'DurableObjectState': parameter 2 is not an array.");
            }
            if (tags.length > MAX_TAGS) {
                throw new Error('a websocket cannot have more than ' + MAX_TAGS + ' tags');
            }
            for (i = 0; i < tags.length; i++) {
                tags[i] = String(tags[i]);
                if (tags[i].length > MAX_TAG_LENGTH) {
                    throw new Error('tag must be at most ' + MAX_TAG_LENGTH + ' characters');
                }
            }
            ws.accept();
            entry = { ws: ws, tags: tags.slice(), autoAt: null, open: true };
            hide(ws, WS_ENTRY, entry);
            rec.sockets.push(entry);
            ws.addEventListener('message', function (e) {
                var ar = rec.autoResponse;
                if (ar !== null && e.data === ar.request) {
                    ws.send(ar.response);
                    entry.autoAt = new DateC();
                    return;
                }
                callHandler(rec, 'webSocketMessage', [ws, e.data]);
            });
            ws.addEventListener('close', function (e) {
                entry.open = false;
                rec.sockets.splice(rec.sockets.indexOf(entry), 1);
                callHandler(rec, 'webSocketClose', [ws, e.code, e.reason, e.wasClean]);
            });
            ws.addEventListener('error', function (e) {
                callHandler(rec, 'webSocketError', [ws, e.error]);
            });
        });
        hide(st, 'getWebSockets', function getWebSockets(tag) {
            var out = [], i;
            for (i = 0; i < rec.sockets.length; i++) {
                if (tag === undefined || rec.sockets[i].tags.indexOf(String(tag)) >= 0) {
                    out.push(rec.sockets[i].ws);
                }
            }
            return out;
        });
        hide(st, 'getTags', function getTags(ws) {
            var entry = ws && ws[WS_ENTRY];
            if (!entry) {
                throw new TypeError('getTags() only works on WebSockets accepted with acceptWebSocket().');
            }
            return entry.tags.slice();
        });
        hide(st, 'setWebSocketAutoResponse', function setWebSocketAutoResponse(pair) {
            if (pair !== undefined && !(pair instanceof WebSocketRequestResponsePair)) {
                throw new TypeError("Failed to execute 'setWebSocketAutoResponse' on 'DurableObjectState': parameter 1 is not of type 'WebSocketRequestResponsePair'.");
            }
            rec.autoResponse = pair === undefined ? null : pair;
        });
        hide(st, 'getWebSocketAutoResponse', function getWebSocketAutoResponse() {
            return rec.autoResponse;
        });
        hide(st, 'getWebSocketAutoResponseTimestamp', function getWebSocketAutoResponseTimestamp(ws) {
            var entry = ws && ws[WS_ENTRY];
            return entry ? entry.autoAt : null;
        });
        hide(st, 'setHibernatableWebSocketEventTimeout', function setHibernatableWebSocketEventTimeout(ms) {
            rec.eventTimeout = ms === undefined ? null : Number(ms);
        });
        hide(st, 'getHibernatableWebSocketEventTimeout', function getHibernatableWebSocketEventTimeout() {
            return rec.eventTimeout === undefined ? null : rec.eventTimeout;
        });
    }

    function checkKey(key) {
        key = String(key);
        if (key.length * 3 > MAX_KEY_BYTES && new global.TextEncoder().encode(key).length > MAX_KEY_BYTES) {
            throw new RangeError('Keys cannot be larger than ' + MAX_KEY_BYTES + ' bytes.');
        }
        return key;
    }

    function checkKeys(keys) {
        var out = [], i;
        if (keys.length > MAX_KEYS) {
            throw new RangeError('Maximum number of keys is ' + MAX_KEYS + '.');
        }
        for (i = 0; i < keys.length; i++) {
            out.push(checkKey(keys[i]));
        }
        return out;
    }

    function compareKeys(a, b) {
        return a < b ? -1 : a > b ? 1 : 0;
    }

    /* The promise of a write: it resolves (with value) once the object's transaction is on disk. Inside a
     * transaction() the writes are part of it: they resolve at once. */
    function written(rec, inTxn, value) {
        if (inTxn) {
            return Promise.resolve(value);
        }
        return new Promise(function (resolve, reject) {
            rec.waiters.push([resolve, reject, value]);
        });
    }

    function makeStorage(rec, inTxn) {
        var s = O.create(DurableObjectStorage.prototype), sqlObj;
        function h() {
            return rec.handle;
        }
        function x(sql, params, unconfirmed) {
            return native.exec(h(), sql, params, INTERNAL | (unconfirmed ? UNCONFIRMED : 0));
        }
        /* Cloudflare's value limits: 128 KiB for key-value classes, 2 MiB for SQLite-backed ones. */
        function value(v) {
            var text = serialize(v), max = native.sqlEnabled(rec.nsi) ? 2097152 : 131072, size = text.length;
            if (size * 3 > max && (size = new global.TextEncoder().encode(text).length) > max) {
                throw new RangeError('Values cannot be larger than ' + max + ' bytes. A value of size ' + size +
                    ' was provided.');
            }
            return text;
        }
        function getOne(key) {
            var rows = x('SELECT value FROM _cf_KV WHERE key = ?', [key]).rows;
            return rows.length ? deserialize(rows[0][0]) : undefined;
        }
        function wrap(fn) {
            return function () {
                try {
                    return fn.apply(this, arguments);
                } catch (e) {
                    return Promise.reject(e);
                }
            };
        }
        hide(s, 'get', wrap(function get(keys, options) {
            var m, ks, i, v;
            closeGateForRead(rec, options);
            if (isArray(keys)) {
                ks = checkKeys(keys).sort(compareKeys);
                m = new Map();
                for (i = 0; i < ks.length; i++) {
                    v = getOne(ks[i]);
                    if (v !== undefined) {
                        m.set(ks[i], v);
                    }
                }
                return Promise.resolve(m);
            }
            return Promise.resolve(getOne(checkKey(keys)));
        }));
        hide(s, 'put', wrap(function put(key, val, options) {
            var entries, ks, i, un;
            if (key !== null && typeof key === 'object') {
                entries = key;
                options = val;
                ks = O.keys(entries);
                if (ks.length > MAX_KEYS) {
                    throw new RangeError('Maximum number of pairs is ' + MAX_KEYS + '.');
                }
                un = !!(options && options.allowUnconfirmed);
                for (i = 0; i < ks.length; i++) {
                    x('INSERT OR REPLACE INTO _cf_KV VALUES (?, ?)', [checkKey(ks[i]), value(entries[ks[i]])], un);
                }
                return written(rec, inTxn, undefined);
            }
            if (arguments.length < 2) {
                throw new TypeError("Failed to execute 'put' on 'DurableObjectStorage': parameter 2 is required.");
            }
            x('INSERT OR REPLACE INTO _cf_KV VALUES (?, ?)', [checkKey(key), value(val)],
              !!(options && options.allowUnconfirmed));
            return written(rec, inTxn, undefined);
        }));
        hide(s, 'delete', wrap(function del(keys, options) {
            var un = !!(options && options.allowUnconfirmed), n = 0, i, ks;
            if (isArray(keys)) {
                ks = checkKeys(keys);
                for (i = 0; i < ks.length; i++) {
                    n += x('DELETE FROM _cf_KV WHERE key = ?', [ks[i]], un).rowsWritten;
                }
                return written(rec, inTxn, n);
            }
            n = x('DELETE FROM _cf_KV WHERE key = ?', [checkKey(keys)], un).rowsWritten;
            return written(rec, inTxn, n > 0);
        }));
        /* A SQLite-backed object loses its SQL tables too (Cloudflare empties the whole database); the alarm
         * stays, as on Cloudflare. */
        hide(s, 'deleteAll', wrap(function deleteAll(options) {
            var un = !!(options && options.allowUnconfirmed), rows, i;
            if (native.sqlEnabled(rec.nsi)) {
                rows = x("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 4) <> '_cf_' " +
                         "AND substr(name, 1, 7) <> 'sqlite_'", []).rows;
                for (i = 0; i < rows.length; i++) {
                    x('DROP TABLE IF EXISTS "' + rows[i][0].replace(/"/g, '""') + '"', [], un);
                }
            }
            x('DELETE FROM _cf_KV', [], un);
            return written(rec, inTxn, undefined);
        }));
        hide(s, 'list', wrap(function list(options) {
            var o = options || {}, m = new Map(), rows, i;
            if (o.start !== undefined && o.startAfter !== undefined) {
                throw new TypeError('start and startAfter cannot both be set.');
            }
            closeGateForRead(rec, o);
            rows = listRows(o);
            for (i = 0; i < rows.length; i++) {
                m.set(rows[i][0], rows[i][1]);
            }
            return Promise.resolve(m);
        }));
        hide(s, 'transaction', wrap(function transaction(closure) {
            var txn, rolledBack = false;
            if (typeof closure !== 'function') {
                throw new TypeError("Failed to execute 'transaction' on 'DurableObjectStorage': parameter 1 is not a function.");
            }
            native.txn(h(), 0);
            rec.blocked++;
            txn = makeStorage(rec, true);
            hide(txn, 'rollback', function rollback() {
                rolledBack = true;
            });
            function end(op) {
                reopenLater(rec);
                if (rec.handle !== null) {
                    native.txn(rec.handle, op);
                }
            }
            return Promise.resolve().then(function () { return closure(txn); }).then(function (v) {
                end(rolledBack ? 2 : 1);
                return written(rec, false, v);
            }, function (e) {
                end(2);
                throw e;
            });
        }));
        hide(s, 'transactionSync', function transactionSync(fn) {
            var v;
            native.txn(h(), 0);
            try {
                v = fn();
            } catch (e) {
                native.txn(h(), 2);
                throw e;
            }
            native.txn(h(), 1);
            return v;
        });
        hide(s, 'sync', function sync() {
            return rec.waiters.length ? written(rec, false, undefined) : Promise.resolve();
        });
        hide(s, 'getAlarm', wrap(function getAlarm(options) {
            closeGateForRead(rec, options);
            return Promise.resolve(storedAlarm(rec));
        }));
        hide(s, 'setAlarm', wrap(function setAlarm(time, options) {
            var ms = time instanceof DateC ? time.getTime() : typeof time === 'number' ? time : NaN;
            if (ms !== ms) {
                throw new TypeError("Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'Date or number'.");
            }
            ms = Math.floor(ms);
            x('INSERT OR REPLACE INTO _cf_METADATA VALUES (1, ?)', [ms], !!(options && options.allowUnconfirmed));
            native.armAlarm(h(), ms, 0);
            return written(rec, inTxn, undefined);
        }));
        hide(s, 'deleteAlarm', wrap(function deleteAlarm(options) {
            x('DELETE FROM _cf_METADATA WHERE key = 1', [], !!(options && options.allowUnconfirmed));
            return written(rec, inTxn, undefined);
        }));
        /* ctx.storage.kv: the synchronous key-value API of SQLite-backed objects, on the same table. */
        var kvObj;
        function listRows(o) {
            var where = [], params = [], prefix, limit, rows, out = [], i, sql;
            if (o.start !== undefined) {
                where.push('key >= ?');
                params.push(String(o.start));
            }
            if (o.startAfter !== undefined) {
                where.push('key > ?');
                params.push(String(o.startAfter));
            }
            if (o.end !== undefined) {
                where.push('key < ?');
                params.push(String(o.end));
            }
            if (o.prefix !== undefined && o.prefix !== '') {
                prefix = String(o.prefix);
                where.push('key >= ? AND key < ?');
                params.push(prefix, prefix + '\udbff\udfff');
            }
            if (o.limit !== undefined) {
                limit = Number(o.limit);
                if (!(limit > 0) || limit !== Math.floor(limit)) {
                    throw new TypeError('List limit must be positive.');
                }
            }
            sql = 'SELECT key, value FROM _cf_KV' + (where.length ? ' WHERE ' + where.join(' AND ') : '') +
                ' ORDER BY key' + (o.reverse ? ' DESC' : '') + (limit !== undefined ? ' LIMIT ?' : '');
            if (limit !== undefined) {
                params.push(limit);
            }
            rows = x(sql, params).rows;
            for (i = 0; i < rows.length; i++) {
                if (prefix === undefined || rows[i][0].slice(0, prefix.length) === prefix) {
                    out.push([rows[i][0], deserialize(rows[i][1])]);
                }
            }
            return out;
        }
        defineProperty(s, 'kv', {
            get: function () {
                if (!native.sqlEnabled(rec.nsi)) {
                    throw new Error('The synchronous KV API (storage.kv) needs a SQLite-backed Durable Object ' +
                        'class (new_sqlite_classes).');
                }
                if (kvObj === undefined) {
                    kvObj = O.create(null);
                    hide(kvObj, 'get', function get(key) {
                        return getOne(checkKey(key));
                    });
                    hide(kvObj, 'put', function put(key, val) {
                        x('INSERT OR REPLACE INTO _cf_KV VALUES (?, ?)', [checkKey(key), value(val)]);
                    });
                    hide(kvObj, 'delete', function del(key) {
                        return x('DELETE FROM _cf_KV WHERE key = ?', [checkKey(key)]).rowsWritten > 0;
                    });
                    hide(kvObj, 'list', function list(options) {
                        var rows = listRows(options || {}), i = 0, it = {};
                        hide(it, 'next', function () {
                            return i < rows.length ? { done: false, value: rows[i++] } : { done: true, value: undefined };
                        });
                        hide(it, ITER, function () { return it; });
                        return it;
                    });
                }
                return kvObj;
            },
            enumerable: true
        });
        defineProperty(s, 'sql', {
            get: function () {
                if (!native.sqlEnabled(rec.nsi)) {
                    throw new Error('SQL is not enabled for this Durable Object class. Declare it under ' +
                        'new_sqlite_classes in the migrations of your wrangler configuration.');
                }
                if (sqlObj === undefined) {
                    sqlObj = makeSql(rec);
                }
                return sqlObj;
            },
            enumerable: true
        });
        return s;
    }

    function DurableObjectStorage() {
        throw new TypeError('Illegal constructor');
    }

    /* ctx.storage.sql: exec(query, ...bindings) -> SqlStorageCursor; databaseSize. */
    function SqlStorage() {
        throw new TypeError('Illegal constructor');
    }
    function SqlStorageCursor() {
        throw new TypeError('Illegal constructor');
    }
    var CP = SqlStorageCursor.prototype;

    function makeSql(rec) {
        var q = O.create(SqlStorage.prototype);
        hide(q, 'exec', function exec(query) {
            var params = [], i;
            if (typeof query !== 'string') {
                throw new TypeError("Failed to execute 'exec' on 'SqlStorage': parameter 1 is not of type 'string'.");
            }
            for (i = 1; i < arguments.length; i++) {
                params.push(arguments[i]);
            }
            return makeCursor(native.exec(rec.handle, query, params, 0));
        });
        defineProperty(q, 'databaseSize', {
            get: function () { return native.size(rec.handle); },
            enumerable: true
        });
        return q;
    }

    function makeCursor(r) {
        var c = O.create(CP);
        hide(c, K, { r: r, i: 0 });
        defineProperty(c, 'columnNames', { value: r.columns, enumerable: true });
        defineProperty(c, 'rowsRead', { value: r.rowsRead, enumerable: true });
        defineProperty(c, 'rowsWritten', { value: r.rowsWritten, enumerable: true });
        return c;
    }

    function rowObject(cols, row) {
        var o = {}, j;
        for (j = 0; j < cols.length; j++) {
            o[cols[j]] = row[j];
        }
        return o;
    }

    function cursorState(c) {
        var s = c && c[K];
        if (!s || !s.r) {
            throw new TypeError('Illegal invocation');
        }
        return s;
    }

    hide(CP, 'next', function next() {
        var s = cursorState(this);
        if (s.i >= s.r.rows.length) {
            return { done: true, value: undefined };
        }
        return { done: false, value: rowObject(s.r.columns, s.r.rows[s.i++]) };
    });
    hide(CP, 'toArray', function toArray() {
        var s = cursorState(this), out = [];
        while (s.i < s.r.rows.length) {
            out.push(rowObject(s.r.columns, s.r.rows[s.i++]));
        }
        return out;
    });
    hide(CP, 'one', function one() {
        var s = cursorState(this), left = s.r.rows.length - s.i;
        if (left === 0) {
            throw new Error('Expected exactly one result from SQL query, but got no results.');
        }
        if (left > 1) {
            throw new Error('Expected exactly one result from SQL query, but got multiple results.');
        }
        return rowObject(s.r.columns, s.r.rows[s.i++]);
    });
    hide(CP, 'raw', function raw() {
        var s = cursorState(this), it = {};
        hide(it, 'next', function () {
            return s.i < s.r.rows.length ? { done: false, value: s.r.rows[s.i++] } : { done: true, value: undefined };
        });
        hide(it, 'toArray', function () {
            var out = [];
            while (s.i < s.r.rows.length) {
                out.push(s.r.rows[s.i++]);
            }
            return out;
        });
        hide(it, ITER, function () { return it; });
        return it;
    });
    hide(CP, ITER, function () { return this; });

    return {
        makeNamespace: makeNamespace,
        deliver: deliver,
        committed: committed,
        pump: pumpLater,
        evict: evict,
        tunnelEvent: tunnelEvent,
        serviceRpc: serviceRpc,
        serviceFetch: serviceFetch,
        workersModule: workersModule
    };
}
