/*
 * cache.js — the Cache API (caches.default, caches.open(name); cache.put/match/delete) in ES5, loaded on the
 * first read of the global `caches` (lib/bindings/cache.c installs that getter and the natives below).
 * The HTTP rules live here; the entries live in SQLite (cache.c: one database per worker in the state
 * directory, a size bound with expired-first then least-recently-used eviction).
 *
 * Rules, as Cloudflare's Cache API applies them to put():
 *   - the request must be GET (TypeError otherwise); the response must not be 206 or carry `Vary: *`
 *     (TypeError), nor have its body used already (TypeError);
 *   - Cache-Control no-store, no-cache or private, and a Set-Cookie header (unless the response says
 *     `Cache-Control: private=Set-Cookie`, then it is stored without it) make put() a no-op;
 *   - the entry lives for s-maxage, else max-age, else until Expires, else the Edge TTL of its status
 *     (200/301: 2 h, 302/303: 20 min, 404/410: 3 min; any other status is not stored);
 * match() answers a stored, unexpired GET entry with `cf-cache-status: HIT`, or 304 when the request's
 * If-None-Match matches the entry's ETag or its If-Modified-Since is not before Last-Modified, or 206 with
 * the part a single-range `Range: bytes=...` asks for (416 when it lies outside the body).
 *
 * native: put(ns, url, status, statusText, headersJson, body, expiresMs), get(ns, url, nowMs) ->
 *         [status, statusText, headersJson, body] | null, del(ns, url) -> boolean
 */
function (native, global) {
    'use strict';

    var TypeError = global.TypeError;
    var Request = global.Request;
    var Response = global.Response;
    var Promise = global.Promise;
    var NS = typeof Symbol === 'function' ? Symbol('cacheNamespace') : '__cacheNamespace';

    var EDGE_TTL = { 200: 7200, 301: 7200, 302: 1200, 303: 1200, 404: 180, 410: 180 };

    function toRequest(req) {
        return req instanceof Request ? req : new Request(req);
    }

    /* Cache-Control as {directive: value|true}, names lower-cased. */
    function parseCacheControl(text) {
        var out = {};
        if (!text) {
            return out;
        }
        var parts = text.split(',');
        for (var i = 0; i < parts.length; i++) {
            var p = parts[i].trim();
            if (p === '') {
                continue;
            }
            var eq = p.indexOf('=');
            var name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
            var value = eq < 0 ? true : p.slice(eq + 1).trim().replace(/^"|"$/g, '');
            out[name] = value;
        }
        return out;
    }

    function seconds(v) {
        var n = typeof v === 'string' && /^\d+$/.test(v) ? parseInt(v, 10) : NaN;
        return n;
    }

    /* ms since the epoch until which the response may be served, or 0 when it must not be stored. */
    function expiry(response, cc, now) {
        var s = seconds(cc['s-maxage']);
        if (isNaN(s)) {
            s = seconds(cc['max-age']);
        }
        if (!isNaN(s)) {
            return s > 0 ? now + s * 1000 : 0;
        }
        var expires = response.headers.get('expires');
        if (expires !== null) {
            var t = Date.parse(expires);
            return t > now ? t : 0;
        }
        var ttl = EDGE_TTL[response.status];
        return ttl ? now + ttl * 1000 : 0;
    }

    function checkThis(self) {
        if (self === null || typeof self !== 'object' || typeof self[NS] !== 'string') {
            throw new TypeError('Illegal invocation');
        }
        return self[NS];
    }

    function Cache() {
        throw new TypeError('Illegal constructor');
    }

    function makeCache(name) {
        var c = Object.create(Cache.prototype);
        Object.defineProperty(c, NS, { value: name });
        return c;
    }

    function put(request, response) {
        var ns = checkThis(this);
        var req = toRequest(request);
        if (!(response instanceof Response)) {
            throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
        }
        if (req.method !== 'GET') {
            throw new TypeError('Cannot cache response to non-GET request.');
        }
        if (response.status === 206) {
            throw new TypeError('Cannot cache response to a range request (206 Partial Content).');
        }
        var vary = response.headers.get('vary');
        if (vary !== null && vary.split(',').some(function (v) { return v.trim() === '*'; })) {
            throw new TypeError("Cannot cache response with 'Vary: *' header.");
        }
        if (response.bodyUsed) {
            throw new TypeError('Body has already been used. It can only be used once. Use tee() first if you need ' +
                                'to read it twice.');
        }
        var cc = parseCacheControl(response.headers.get('cache-control'));
        var cookieOk = typeof cc['private'] === 'string' &&
            cc['private'].split(',').some(function (f) { return f.trim().toLowerCase() === 'set-cookie'; });
        var skip = cc['no-store'] || cc['no-cache'] || (cc['private'] && !cookieOk) ||
            (response.headers.has('set-cookie') && !cookieOk);
        var expires = skip ? 0 : expiry(response, cc, Date.now());
        var headers = [];
        response.headers.forEach(function (value, name) {
            if (name !== 'set-cookie' && name !== 'cf-cache-status') {
                headers.push([name, value]);
            }
        });
        var url = req.url;
        return response.arrayBuffer().then(function (body) {
            if (expires > 0) {
                native.put(ns, url, response.status, response.statusText, JSON.stringify(headers), body, expires);
            }
            return undefined;
        });
    }

    function ignoresMethod(options) {
        return options !== null && typeof options === 'object' && !!options.ignoreMethod;
    }

    /* True if the conditional headers of req make the stored entry "not modified". */
    function notModified(req, headers) {
        var etag = null;
        var lastModified = null;
        for (var i = 0; i < headers.length; i++) {
            if (headers[i][0] === 'etag') {
                etag = headers[i][1];
            } else if (headers[i][0] === 'last-modified') {
                lastModified = headers[i][1];
            }
        }
        var inm = req.headers.get('if-none-match');
        if (inm !== null) {
            if (etag === null) {
                return false;
            }
            var weak = function (t) { return t.trim().replace(/^W\//, ''); };
            return inm.split(',').some(function (t) { return t.trim() === '*' || weak(t) === weak(etag); });
        }
        var ims = req.headers.get('if-modified-since');
        if (ims !== null && lastModified !== null) {
            var since = Date.parse(ims);
            var modified = Date.parse(lastModified);
            return !isNaN(since) && !isNaN(modified) && modified <= since;
        }
        return false;
    }

    /* [start, end] (inclusive) of a single `bytes=` range within size, null when the header does not apply
     * (absent, several ranges, not bytes), or 'unsatisfiable'. */
    function byteRange(header, size) {
        var m = header === null ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
        if (m === null || (m[1] === '' && m[2] === '')) {
            return null;
        }
        var start, end;
        if (m[1] === '') {
            var suffix = parseInt(m[2], 10);
            if (suffix === 0) {
                return 'unsatisfiable';
            }
            start = Math.max(size - suffix, 0);
            end = size - 1;
        } else {
            start = parseInt(m[1], 10);
            end = m[2] === '' ? size - 1 : Math.min(parseInt(m[2], 10), size - 1);
            if (m[2] !== '' && parseInt(m[2], 10) < start) {
                return null;
            }
        }
        return start >= size || start > end ? 'unsatisfiable' : [start, end];
    }

    function match(request, options) {
        var ns = checkThis(this);
        try {
            var req = toRequest(request);
            if (req.method !== 'GET' && !ignoresMethod(options)) {
                return Promise.resolve(undefined);
            }
            var hit = native.get(ns, req.url, Date.now());
            if (hit === null) {
                return Promise.resolve(undefined);
            }
            var headers = JSON.parse(hit[2]);
            var is304 = notModified(req, headers);
            var nullBody = is304 || hit[0] === 204 || hit[0] === 205;
            var body = hit[3];
            var status = is304 ? 304 : hit[0];
            var statusText = is304 ? 'Not Modified' : hit[1];
            var range = nullBody || status !== 200 ? null : byteRange(req.headers.get('range'), body.byteLength);
            if (range === 'unsatisfiable') {
                headers = headers.filter(function (h) { return h[0] !== 'content-length'; });
                headers.push(['content-range', 'bytes */' + body.byteLength]);
                body = null;
                status = 416;
                statusText = 'Range Not Satisfiable';
            } else if (range !== null) {
                headers = headers.filter(function (h) { return h[0] !== 'content-length'; });
                headers.push(['content-range', 'bytes ' + range[0] + '-' + range[1] + '/' + body.byteLength]);
                body = body.slice(range[0], range[1] + 1);
                status = 206;
                statusText = 'Partial Content';
            }
            var res = new Response(nullBody ? null : body,
                                   { status: status, statusText: statusText, headers: headers });
            res.headers.set('cf-cache-status', 'HIT');
            return Promise.resolve(res);
        } catch (e) {
            return Promise.reject(e);
        }
    }

    function del(request, options) {
        var ns = checkThis(this);
        try {
            var req = toRequest(request);
            if (req.method !== 'GET' && !ignoresMethod(options)) {
                return Promise.resolve(false);
            }
            return Promise.resolve(native.del(ns, req.url));
        } catch (e) {
            return Promise.reject(e);
        }
    }

    function wrapPut(request, response) {
        checkThis(this);
        try {
            return put.call(this, request, response);
        } catch (e) {
            return Promise.reject(e);
        }
    }

    function method(obj, name, fn) {
        Object.defineProperty(obj, name, { value: fn, writable: true, configurable: true, enumerable: false });
    }

    method(Cache.prototype, 'put', wrapPut);
    method(Cache.prototype, 'match', match);
    method(Cache.prototype, 'delete', del);

    function CacheStorage() {
        throw new TypeError('Illegal constructor');
    }
    var defaultCache = makeCache('');
    var storage = Object.create(CacheStorage.prototype);
    Object.defineProperty(CacheStorage.prototype, 'default', {
        get: function () { return defaultCache; }, configurable: true, enumerable: false
    });
    method(CacheStorage.prototype, 'open', function open(name) {
        if (arguments.length < 1) {
            return Promise.reject(new TypeError("Failed to execute 'open' on 'CacheStorage': 1 argument required, " +
                                                'but only 0 present.'));
        }
        return Promise.resolve(makeCache('n:' + String(name)));
    });
    method(global, 'Cache', Cache);
    method(global, 'CacheStorage', CacheStorage);
    return storage;
}
