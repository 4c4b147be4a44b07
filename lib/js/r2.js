/*
 * r2.js — the JavaScript half of R2 buckets (env.BUCKET), in ES5: argument checks with workerd's errors,
 * the R2Bucket / R2Object / R2ObjectBody / R2MultipartUpload / R2Checksums classes, onlyIf and range
 * normalization. Storage, hashing, preconditions and body files are C (lib/bindings/r2.c), reached through
 * `native`, whose functions take the bucket's handle (a pointer only this file holds).
 *
 * Loaded once per heap, on the first call of a bucket method (lib/bindings/r2.c gives env a small native
 * stand-in until then, so an isolate that never touches R2 does not pay the ~160 KB of this file).
 * Called as `function (native, global)`; returns {adopt(bucket, handle), proto}.
 *
 * Bodies: get() reads a body of up to 1 MiB at once; a larger one is read when the script reads it:
 * object.body is a ReadableStream fed from the file chunk by chunk (ew-server sends it as it is read),
 * arrayBuffer()/text()/json() read the range into one buffer.
 * put() and uploadPart() pass a ReadableStream to C, which reads it chunk by chunk into the body file
 * (lib/bindings/r2_write.c); a Blob is read whole first.
 */
function (native, global) {
    'use strict';

    var O = global.Object, TypeError = global.TypeError, RangeError = global.RangeError, Err = global.Error;
    var Promise = global.Promise, JSON = global.JSON, DateC = global.Date, ArrayBuffer = global.ArrayBuffer;
    var Uint8Array = global.Uint8Array, Headers = global.Headers, Response = global.Response;
    var Sym = global.Symbol, isArray = global.Array.isArray, TextDecoder = global.TextDecoder;
    var defineProperty = O.defineProperty, create = O.create, keys = O.keys;
    var HANDLE = Sym('r2.handle'), STATE = Sym('r2.state');
    var HASHES = [['md5', 'MD5', 16], ['sha1', 'SHA-1', 20], ['sha256', 'SHA-256', 32], ['sha384', 'SHA-384', 48],
                  ['sha512', 'SHA-512', 64]];
    var HTTP_FIELDS = [['contentType', 'content-type'], ['contentLanguage', 'content-language'],
                       ['contentDisposition', 'content-disposition'], ['contentEncoding', 'content-encoding'],
                       ['cacheControl', 'cache-control']];
    var MAX_METADATA = 2048;

    function hidden(obj, key, value) {
        defineProperty(obj, key, { value: value });
    }

    function readonly(obj, name, value) {
        defineProperty(obj, name, { value: value, enumerable: true });
    }

    function method(proto, name, fn) {
        defineProperty(proto, name, { value: fn, writable: true, configurable: true });
    }

    /* A method returning a promise: what it throws becomes the rejection (as workerd's evalNow). */
    function async(fn) {
        return function () {
            try {
                return Promise.resolve(fn.apply(this, arguments));
            } catch (e) {
                return Promise.reject(e);
            }
        };
    }

    function isObject(v) {
        return v !== null && (typeof v === 'object' || typeof v === 'function');
    }

    function isBufferSource(v) {
        return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
    }

    function isHeaders(v) {
        return typeof Headers === 'function' && v instanceof Headers;
    }

    function typeName(v) {
        return O.prototype.toString.call(v).slice(8, -1);
    }

    function paramError(op, cls, n, type) {
        return new TypeError("Failed to execute '" + op + "' on '" + cls + "': parameter " + n +
                             " is not of type '" + type + "'.");
    }

    function handle(self, op) {
        var h = isObject(self) ? self[HANDLE] : undefined;
        if (h === undefined) {
            throw new TypeError('Illegal invocation');
        }
        return h;
    }

    function keyArg(args, op, cls) {
        if (args.length < 1 || args[0] === undefined) {
            throw paramError(op, cls || 'R2Bucket', 1, 'string');
        }
        return String(args[0]);
    }

    function optString(v) {
        return v === undefined || v === null ? undefined : String(v);
    }

    /* ---------------------------------------------------------------------------------------------------
     * Metadata
     */

    function toMillis(v, what) {
        if (v instanceof DateC) {
            return v.getTime();
        }
        if (typeof v === 'number') {
            return v;
        }
        if (typeof v === 'string') {
            var t = DateC.parse(v);
            if (t === t) {
                return t;
            }
        }
        throw new TypeError(what + ' must be a Date.');
    }

    /* httpMetadata option (object or Headers) -> the stored form (cacheExpiry in ms). */
    function httpArg(v) {
        var out = {}, i;
        if (v === undefined || v === null) {
            return out;
        }
        if (isHeaders(v)) {
            for (i = 0; i < HTTP_FIELDS.length; i++) {
                var hv = v.get(HTTP_FIELDS[i][1]);
                if (hv !== null) {
                    out[HTTP_FIELDS[i][0]] = hv;
                }
            }
            var exp = v.get('expires');
            if (exp !== null) {
                out.cacheExpiry = DateC.parse(exp);
            }
            return out;
        }
        if (!isObject(v)) {
            throw new TypeError("Failed to execute 'put' on 'R2Bucket': httpMetadata must be an object or a Headers.");
        }
        for (i = 0; i < HTTP_FIELDS.length; i++) {
            var f = v[HTTP_FIELDS[i][0]];
            if (f !== undefined) {
                out[HTTP_FIELDS[i][0]] = String(f);
            }
        }
        if (v.cacheExpiry !== undefined) {
            out.cacheExpiry = toMillis(v.cacheExpiry, 'httpMetadata.cacheExpiry');
        }
        return out;
    }

    function serialisedLength(s) {
        for (var i = 0; i < s.length; i++) {
            if (s.charCodeAt(i) >= 256) {
                return s.length * 2;
            }
        }
        return s.length;
    }

    /* customMetadata option -> {name: string}, within R2's size limit. */
    function customArg(v, op) {
        var out = {}, size = 0;
        if (v === undefined || v === null) {
            return out;
        }
        if (!isObject(v)) {
            throw new TypeError("Failed to execute '" + op + "' on 'R2Bucket': customMetadata must be an object.");
        }
        var k = keys(v);
        for (var i = 0; i < k.length; i++) {
            out[k[i]] = String(v[k[i]]);
            size += serialisedLength(k[i]) + serialisedLength(out[k[i]]);
        }
        if (size > MAX_METADATA) {
            throw new Err(op + ': Your metadata headers exceed the maximum allowed metadata size. (10012)');
        }
        return out;
    }

    function httpFromStored(json) {
        var m = JSON.parse(json);
        if (m.cacheExpiry !== undefined) {
            m.cacheExpiry = new DateC(m.cacheExpiry);
        }
        return m;
    }

    /* ---------------------------------------------------------------------------------------------------
     * onlyIf -> {etagMatches: [[type, value]], etagDoesNotMatch, uploadedBefore, uploadedAfter, secondsGranularity}
     */

    function isQuoted(s) {
        return s.length >= 2 && s.charAt(0) === '"' && s.charAt(s.length - 1) === '"';
    }

    function singleEtag(v) {
        var s = String(v);
        if (isQuoted(s)) {
            throw new TypeError('Conditional ETag should not be wrapped in quotes (' + s + ').');
        }
        return s === '*' ? [['*']] : [['s', s]];
    }

    /* An If-Match / If-None-Match header: a list of "strong", W/"weak" and * (RFC 7232). */
    function parseEtagHeader(h) {
        var out = [], i = 0, n = h.length, needComma = false;
        while (i < n) {
            var c = h.charAt(i);
            if (c === ' ' || c === '\t') {
                i++;
            } else if (c === ',') {
                needComma = false;
                i++;
            } else if (needComma) {
                throw new Err('Comma was expected to separate etags. Encountered ' +
                              (c === '*' ? "a wildcard character '*' instead." :
                               c === '"' ? "a double quote character '\"' instead. This would otherwise indicate " +
                                           'the start of a new strong etag.' :
                                           "a weak quotation character 'W' instead. This would otherwise indicate " +
                                           'the start of a new weak etag.'));
            } else if (c === '*') {
                return [['*']];
            } else if (c === '"' || (c === 'W' && h.charAt(i + 1) === '/' && h.charAt(i + 2) === '"')) {
                var weak = c === 'W', start = i + (weak ? 3 : 1), end = h.indexOf('"', start);
                if (end < 0) {
                    throw new Err('Unclosed double quote for Etag');
                }
                out.push([weak ? 'w' : 's', h.slice(start, end)]);
                i = end + 1;
                needComma = true;
            } else if (c === 'W') {
                throw new Err('Weak etags must start with W/ and their value must be quoted');
            } else {
                throw new Err('Invalid conditional header');
            }
        }
        return out;
    }

    function condArg(v) {
        if (v === undefined || v === null) {
            return undefined;
        }
        var c = {};
        if (isHeaders(v)) {
            c.secondsGranularity = true;
            var m = v.get('if-match'), nm = v.get('if-none-match');
            var ms = v.get('if-modified-since'), us = v.get('if-unmodified-since');
            if (m !== null) {
                c.etagMatches = parseEtagHeader(m);
            }
            if (nm !== null) {
                c.etagDoesNotMatch = parseEtagHeader(nm);
            }
            if (ms !== null) {
                c.uploadedAfter = DateC.parse(ms);
            }
            if (us !== null) {
                c.uploadedBefore = DateC.parse(us);
            }
            return c;
        }
        if (!isObject(v)) {
            throw new TypeError('onlyIf must be an object or a Headers.');
        }
        if (v.etagMatches !== undefined) {
            c.etagMatches = singleEtag(v.etagMatches);
        }
        if (v.etagDoesNotMatch !== undefined) {
            c.etagDoesNotMatch = singleEtag(v.etagDoesNotMatch);
        }
        if (v.uploadedBefore !== undefined) {
            c.uploadedBefore = toMillis(v.uploadedBefore, 'onlyIf.uploadedBefore');
        }
        if (v.uploadedAfter !== undefined) {
            c.uploadedAfter = toMillis(v.uploadedAfter, 'onlyIf.uploadedAfter');
        }
        c.secondsGranularity = !!v.secondsGranularity;
        return c;
    }

    /* ---------------------------------------------------------------------------------------------------
     * Ranges
     */

    function wholeNumber(x) {
        return x === Math.floor(x);
    }

    /* Checks a {offset, length, suffix} range as workerd does before sending it. */
    function checkRange(r) {
        if (r.offset !== undefined) {
            var o = Number(r.offset);
            if (!(o >= 0)) {
                throw new RangeError('Invalid range. Starting offset (' + o + ') must be greater than or equal to 0.');
            }
            if (!wholeNumber(o)) {
                throw new RangeError('Invalid range. Starting offset (' + o + ') must be an integer, not floating point.');
            }
        }
        if (r.length !== undefined) {
            var l = Number(r.length);
            if (!(l >= 0)) {
                throw new RangeError('Invalid range. Length (' + l + ') must be greater than or equal to 0.');
            }
            if (!wholeNumber(l)) {
                throw new RangeError('Invalid range. Length (' + l + ') must be an integer, not floating point.');
            }
        }
        if (r.suffix !== undefined) {
            if (r.offset !== undefined) {
                throw new TypeError('Suffix is incompatible with offset.');
            }
            if (r.length !== undefined) {
                throw new TypeError('Suffix is incompatible with length.');
            }
            var s = Number(r.suffix);
            if (!(s >= 0)) {
                throw new RangeError('Invalid suffix. Suffix (' + s + ') must be greater than or equal to 0.');
            }
            if (!wholeNumber(s)) {
                throw new RangeError('Invalid range. Suffix (' + s + ') must be an integer, not floating point.');
            }
        }
    }

    var NOT_SATISFIABLE = 'get: The requested range is not satisfiable (10039)';

    /* The byte range to read for the object of `size` bytes: {offset, length}. */
    function resolveRange(r, size) {
        if (r === undefined || r === null) {
            return { offset: 0, length: size };
        }
        if (isHeaders(r)) {
            var h = r.get('range');
            var m = h === null ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(h);
            if (m === null || (m[1] === '' && m[2] === '')) {
                return { offset: 0, length: size }; /* absent, invalid or several ranges: the whole object */
            }
            if (m[1] === '') {
                var suf = Math.min(Number(m[2]), size);
                return { offset: size - suf, length: suf };
            }
            var start = Number(m[1]), end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
            if (start >= size || end < start) {
                throw new Err(NOT_SATISFIABLE);
            }
            return { offset: start, length: end - start + 1 };
        }
        var offset = r.offset === undefined ? undefined : Number(r.offset);
        var length = r.length === undefined ? undefined : Number(r.length);
        if (r.suffix !== undefined) {
            var sfx = Number(r.suffix);
            if (sfx <= 0) {
                throw new Err(NOT_SATISFIABLE);
            }
            if (sfx > size) {
                sfx = size;
            }
            offset = size - sfx;
            length = sfx;
        }
        if (offset === undefined) {
            offset = 0;
        }
        if (length === undefined) {
            length = size - offset;
        }
        if (offset > size || length <= 0) {
            throw new Err(NOT_SATISFIABLE);
        }
        if (offset + length > size) {
            length = size - offset;
        }
        return { offset: offset, length: length };
    }

    /* ---------------------------------------------------------------------------------------------------
     * R2Checksums, R2Object, R2ObjectBody
     */

    function R2Checksums() {
        throw new TypeError('Illegal constructor');
    }

    function hexToBuffer(hex) {
        var b = new Uint8Array(hex.length / 2);
        for (var i = 0; i < b.length; i++) {
            b[i] = parseInt(hex.substr(2 * i, 2), 16);
        }
        return b.buffer;
    }

    function makeChecksums(json) {
        var c = create(R2Checksums.prototype), hex = JSON.parse(json);
        hidden(c, STATE, hex);
        for (var i = 0; i < HASHES.length; i++) {
            if (hex[HASHES[i][0]] !== undefined) {
                readonly(c, HASHES[i][0], hexToBuffer(hex[HASHES[i][0]]));
            }
        }
        return c;
    }

    method(R2Checksums.prototype, 'toJSON', function toJSON() {
        var hex = isObject(this) ? this[STATE] : undefined, out = {};
        if (hex === undefined) {
            throw new TypeError('Illegal invocation');
        }
        for (var i = 0; i < HASHES.length; i++) {
            if (hex[HASHES[i][0]] !== undefined) {
                out[HASHES[i][0]] = hex[HASHES[i][0]];
            }
        }
        return out;
    });

    function R2Object() {
        throw new TypeError('Illegal constructor');
    }

    function R2ObjectBody() {
        throw new TypeError('Illegal constructor');
    }
    R2ObjectBody.prototype = create(R2Object.prototype, {
        constructor: { value: R2ObjectBody, writable: true, configurable: true }
    });

    /* Builds an R2Object (or R2ObjectBody with proto) from a native record. include: {http, custom}
     * (false leaves the field undefined, as list() without include does). */
    function makeObject(proto, rec, include, range) {
        var o = create(proto);
        readonly(o, 'key', rec.key);
        readonly(o, 'version', rec.version);
        readonly(o, 'size', rec.size);
        readonly(o, 'etag', rec.etag);
        readonly(o, 'httpEtag', '"' + rec.etag + '"');
        readonly(o, 'checksums', makeChecksums(rec.checksums));
        readonly(o, 'uploaded', new DateC(rec.uploaded));
        readonly(o, 'httpMetadata', include.http ? httpFromStored(rec.http) : undefined);
        readonly(o, 'customMetadata', include.custom ? JSON.parse(rec.custom) : undefined);
        readonly(o, 'range', range);
        readonly(o, 'storageClass', rec.storageClass);
        hidden(o, STATE, { http: include.http ? httpFromStored(rec.http) : undefined });
        return o;
    }

    var ALL = { http: true, custom: true };

    var DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

    function pad2(n) {
        return (n < 10 ? '0' : '') + n;
    }

    /* An HTTP date (RFC 7231 IMF-fixdate), what toUTCString gives in V8 (Duktape's differs). */
    function httpDate(ms) {
        var d = new DateC(ms);
        return DAYS[d.getUTCDay()] + ', ' + pad2(d.getUTCDate()) + ' ' + MONTHS[d.getUTCMonth()] + ' ' +
               d.getUTCFullYear() + ' ' + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' +
               pad2(d.getUTCSeconds()) + ' GMT';
    }

    method(R2Object.prototype, 'writeHttpMetadata', function writeHttpMetadata(headers) {
        var st = isObject(this) ? this[STATE] : undefined;
        if (st === undefined) {
            throw new TypeError('Illegal invocation');
        }
        if (!isHeaders(headers)) {
            throw paramError('writeHttpMetadata', 'R2Object', 1, 'Headers');
        }
        if (st.http === undefined) {
            throw new TypeError('HTTP metadata unknown for key `' + this.key +
                                "`. Did you forget to add 'httpMetadata' to `include` when listing?");
        }
        for (var i = 0; i < HTTP_FIELDS.length; i++) {
            var v = st.http[HTTP_FIELDS[i][0]];
            if (v !== undefined) {
                headers.set(HTTP_FIELDS[i][1], v);
            }
        }
        if (st.http.cacheExpiry !== undefined) {
            headers.set('expires', httpDate(st.http.cacheExpiry.getTime()));
        }
    });

    var USED = 'Body has already been used. It can only be used once. Use tee() first if you need to read it twice.';

    var SMALL_BODY = 1 << 20;   /* read at get() (no file left to race with); larger bodies when read */

    function bodyState(self) {
        var st = isObject(self) ? self[STATE] : undefined;
        if (st === undefined || st.blob === undefined) {
            throw new TypeError('Illegal invocation');
        }
        return st;
    }

    /* .body: a stream read from the file as it is consumed (made on first access). After a read method
     * took the body, a disturbed empty stream. */
    function bodyStream(st) {
        if (st.stream === undefined) {
            if (st.used) {
                var r = new Response('');
                r.arrayBuffer();
                st.stream = r.body;
            } else if (st.bytes !== null) {
                st.stream = new Response(st.bytes).body;   /* bytes in memory: passed on without a copy */
                st.bytes = null;
            } else {
                st.stream = native.stream(st.h, st.blob, st.range.offset, st.range.length);
            }
        }
        return st.stream;
    }

    /* The whole body for a read method: straight from the file into one buffer when .body was never
     * touched, else through the stream. */
    function readBody(st) {
        if (st.stream !== undefined) {
            if (native.isDisturbed(st.stream)) {
                throw new TypeError(USED);
            }
            return new Response(st.stream).arrayBuffer();
        }
        if (st.used) {
            throw new TypeError(USED);
        }
        st.used = true;
        if (st.bytes !== null) {
            var b = st.bytes;
            st.bytes = null;
            return b;
        }
        var read = native.read(st.h, st.blob, st.range.offset, st.range.length);
        if (read === null) {
            throw new Err('get: We encountered an internal error. Please try again. (10001) (the object was ' +
                          'replaced while its body was unread)');
        }
        return read;
    }

    defineProperty(R2ObjectBody.prototype, 'body', {
        get: function () {
            return bodyStream(bodyState(this));
        },
        configurable: true
    });
    defineProperty(R2ObjectBody.prototype, 'bodyUsed', {
        get: function () {
            var st = bodyState(this);
            return st.stream !== undefined ? native.isDisturbed(st.stream) : st.used;
        },
        configurable: true
    });

    function bodyReader(name, convert) {
        method(R2ObjectBody.prototype, name, async(function () {
            return Promise.resolve(readBody(bodyState(this))).then(convert);
        }));
    }
    bodyReader('arrayBuffer', function (b) {
        return b;
    });
    bodyReader('text', function (b) {
        return new TextDecoder().decode(b);
    });
    bodyReader('json', function (b) {
        return JSON.parse(new TextDecoder().decode(b));
    });
    bodyReader('bytes', function (b) {
        return new Uint8Array(b);
    });
    method(R2ObjectBody.prototype, 'blob', async(function blob() {
        var st = bodyState(this);
        var type = st.http && st.http.contentType !== undefined ? st.http.contentType : '';
        return Promise.resolve(readBody(st)).then(function (b) {
            return new global.Blob([b], { type: type });
        });
    }));

    function makeBody(h, rec, bytes, range) {
        var o = makeObject(R2ObjectBody.prototype, rec, ALL, range), st = o[STATE];
        st.h = h;
        st.blob = rec.blob;
        st.bytes = bytes;
        st.range = range;
        st.used = false;
        return o;
    }

    /* ---------------------------------------------------------------------------------------------------
     * Values for put() and uploadPart()
     */

    var VALUE_TYPES = 'ReadableStream or ArrayBuffer or ArrayBufferView or string or Blob';

    /* Calls then(value) with the value as the natives take it: string, buffer or null; a ReadableStream as
     * is when the native reads streams itself (put: chunk by chunk to disk), else read whole first (through
     * Response, which takes it); a Blob's bytes. */
    function withValue(v, op, cls, n, then, streams) {
        if (v === null || v === undefined || typeof v === 'string' || isBufferSource(v)) {
            return then(v === undefined ? null : v);
        }
        /* Blob is a lazy global: read only for a value that says it is one */
        if (isObject(v) && (typeName(v) === 'Blob' || typeName(v) === 'File') && v instanceof global.Blob) {
            return v.arrayBuffer().then(then);
        }
        if (isObject(v) && typeName(v) === 'ReadableStream') {
            return streams ? then(v) : new Response(v).arrayBuffer().then(then);
        }
        throw paramError(op, cls, n, VALUE_TYPES);
    }

    function hexArg(v, name, bytes) {
        if (isBufferSource(v)) {
            var u = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
            if (u.length !== bytes) {
                throw new TypeError(name + ' is ' + bytes + ' bytes, not ' + u.length);
            }
            var s = '';
            for (var i = 0; i < u.length; i++) {
                s += (u[i] < 16 ? '0' : '') + u[i].toString(16);
            }
            return s;
        }
        if (typeof v !== 'string') {
            throw new TypeError(name + ' must be an ArrayBuffer, an ArrayBufferView or a hex string.');
        }
        if (v.length !== bytes * 2) {
            throw new TypeError(name + ' is ' + bytes * 2 + ' hex characters, not ' + v.length);
        }
        if (!/^[0-9a-fA-F]*$/.test(v)) {
            throw new TypeError("Provided " + name + " wasn't a valid hex string");
        }
        return v.toLowerCase();
    }

    function hashesArg(o) {
        var out, count = 0;
        for (var i = 0; i < HASHES.length; i++) {
            var v = o[HASHES[i][0]];
            if (v !== undefined) {
                if (++count > 1) {
                    throw new TypeError('You cannot specify multiple hashing algorithms.');
                }
                out = {};
                out[HASHES[i][0]] = hexArg(v, HASHES[i][1], HASHES[i][2]);
            }
        }
        return out;
    }

    function storageClassArg(v) {
        return v === undefined ? 'Standard' : String(v);
    }

    var OPTION_TYPES = { get: [2, 'R2GetOptions'], put: [3, 'R2PutOptions'], list: [1, 'R2ListOptions'],
                         createMultipartUpload: [2, 'R2MultipartOptions'] };

    function optionsArg(v, op) {
        if (v === undefined || v === null) {
            return {};
        }
        if (!isObject(v)) {
            throw paramError(op, 'R2Bucket', OPTION_TYPES[op][0], OPTION_TYPES[op][1]);
        }
        return v;
    }

    /* ---------------------------------------------------------------------------------------------------
     * R2Bucket
     */

    function R2Bucket() {
        throw new TypeError('Illegal constructor');
    }

    function afterPut(rec) {
        return rec === null ? null : makeObject(R2Object.prototype, rec, ALL, undefined);
    }

    method(R2Bucket.prototype, 'head', async(function head(key) {
        var h = handle(this);
        var rec = native.head(h, keyArg(arguments, 'head'));
        return rec === null ? null : makeObject(R2Object.prototype, rec, ALL, undefined);
    }));

    method(R2Bucket.prototype, 'get', async(function get(key, options) {
        var h = handle(this), k = keyArg(arguments, 'get'), o = optionsArg(options, 'get');
        var cond = condArg(o.onlyIf), range = o.range;
        if (range !== undefined && range !== null && !isHeaders(range)) {
            if (!isObject(range)) {
                throw new TypeError('range must be an object or a Headers.');
            }
            checkRange(range);
        }
        for (var tries = 0; tries < 3; tries++) {
            var rec = native.get(h, k, cond);
            if (rec === null) {
                return null;
            }
            if (rec.failed) {
                return makeObject(R2Object.prototype, rec, ALL, undefined);
            }
            var r = resolveRange(range, rec.size);
            if (r.length > SMALL_BODY) {
                return makeBody(h, rec, null, r);
            }
            var bytes = native.read(h, rec.blob, r.offset, r.length);
            if (bytes !== null) {
                return makeBody(h, rec, bytes, r);
            }
            /* the body was replaced between the lookup and the read (another thread): look again */
        }
        throw new Err('get: We encountered an internal error. Please try again. (10001)');
    }));

    method(R2Bucket.prototype, 'put', async(function put(key, value, options) {
        var h = handle(this), k = keyArg(arguments, 'put');
        if (arguments.length < 2) {
            throw paramError('put', 'R2Bucket', 2, VALUE_TYPES);
        }
        var o = optionsArg(options, 'put');
        var http = httpArg(o.httpMetadata), custom = customArg(o.customMetadata, 'put');
        var hashes = hashesArg(o), cond = condArg(o.onlyIf), sc = storageClassArg(o.storageClass);
        var httpJson = JSON.stringify(http), customJson = JSON.stringify(custom);
        return withValue(value, 'put', 'R2Bucket', 2, function (v) {
            return native.put(h, k, v, httpJson, customJson, sc, hashes, cond).then(afterPut);
        }, true);
    }));

    method(R2Bucket.prototype, 'delete', async(function del(keys) {
        var h = handle(this);
        if (arguments.length < 1 || keys === undefined) {
            throw paramError('delete', 'R2Bucket', 1, 'string or Array');
        }
        var list = [];
        if (isArray(keys)) {
            for (var i = 0; i < keys.length; i++) {
                list.push(String(keys[i]));
            }
        } else {
            list.push(String(keys));
        }
        return native.del(h, list);
    }));

    method(R2Bucket.prototype, 'list', async(function list(options) {
        var h = handle(this), o = optionsArg(options, 'list'), limit = native.maxList;
        if (o.limit !== undefined) {
            limit = Number(o.limit);
            if (!(limit >= 1 && limit <= native.maxList) || !wholeNumber(limit)) {
                throw new Err('list: MaxKeys params must be positive integer <= 1000. (10022)');
            }
        }
        var include = { http: false, custom: false };
        if (o.include !== undefined) {
            if (!isArray(o.include)) {
                throw new TypeError('include must be an array.');
            }
            for (var i = 0; i < o.include.length; i++) {
                var f = String(o.include[i]);
                if (f === 'httpMetadata') {
                    include.http = true;
                } else if (f === 'customMetadata') {
                    include.custom = true;
                } else {
                    throw new RangeError('Unsupported include value ' + f);
                }
            }
        }
        var res = native.list(h, optString(o.prefix), optString(o.startAfter), limit, optString(o.delimiter),
                              o.cursor === undefined || o.cursor === null || o.cursor === '' ? undefined :
                              String(o.cursor));
        var objects = [];
        for (var j = 0; j < res.objects.length; j++) {
            objects.push(makeObject(R2Object.prototype, res.objects[j], include, undefined));
        }
        var out = { objects: objects, truncated: res.truncated };
        if (res.truncated) {
            out.cursor = res.cursor;
        }
        out.delimitedPrefixes = res.delimitedPrefixes;
        return out;
    }));

    /* ---------------------------------------------------------------------------------------------------
     * Multipart uploads
     */

    function R2MultipartUpload() {
        throw new TypeError('Illegal constructor');
    }

    function makeUpload(h, key, uploadId) {
        var u = create(R2MultipartUpload.prototype);
        hidden(u, HANDLE, h);
        readonly(u, 'key', key);
        readonly(u, 'uploadId', uploadId);
        return u;
    }

    function partNumberArg(n) {
        var p = Number(n);
        p = p === p ? (p < 0 ? Math.ceil(p) : Math.floor(p)) : 0;
        if (!(p >= 1 && p <= native.maxPart)) {
            throw new TypeError('Part number must be between 1 and 10000 (inclusive). Actual value was: ' + p);
        }
        return p;
    }

    method(R2Bucket.prototype, 'createMultipartUpload', async(function createMultipartUpload(key, options) {
        var h = handle(this), k = keyArg(arguments, 'createMultipartUpload');
        var o = optionsArg(options, 'createMultipartUpload');
        var http = JSON.stringify(httpArg(o.httpMetadata));
        var custom = JSON.stringify(customArg(o.customMetadata, 'createMultipartUpload'));
        return native.mpCreate(h, k, http, custom, storageClassArg(o.storageClass)).then(function (id) {
            return makeUpload(h, k, id);
        });
    }));

    method(R2Bucket.prototype, 'resumeMultipartUpload', function resumeMultipartUpload(key, uploadId) {
        var h = handle(this), k = keyArg(arguments, 'resumeMultipartUpload');
        if (arguments.length < 2 || uploadId === undefined) {
            throw paramError('resumeMultipartUpload', 'R2Bucket', 2, 'string');
        }
        return makeUpload(h, k, String(uploadId));
    });

    method(R2MultipartUpload.prototype, 'uploadPart', async(function uploadPart(partNumber, value) {
        var h = handle(this), key = this.key, id = this.uploadId;
        if (arguments.length < 2) {
            throw paramError('uploadPart', 'R2MultipartUpload', 2, VALUE_TYPES);
        }
        var n = partNumberArg(partNumber);
        return withValue(value, 'uploadPart', 'R2MultipartUpload', 2, function (v) {
            return native.mpPart(h, key, id, n, v);
        }, true);
    }));

    method(R2MultipartUpload.prototype, 'abort', async(function abort() {
        return native.mpAbort(handle(this), this.key, this.uploadId);
    }));

    method(R2MultipartUpload.prototype, 'complete', async(function complete(parts) {
        var h = handle(this);
        if (!isArray(parts)) {
            throw paramError('complete', 'R2MultipartUpload', 1, 'Array');
        }
        var list = [];
        for (var i = 0; i < parts.length; i++) {
            var p = parts[i];
            if (!isObject(p) || p.partNumber === undefined || p.etag === undefined) {
                throw new TypeError('Each uploaded part must be an object with partNumber and etag.');
            }
            list.push([partNumberArg(p.partNumber), String(p.etag)]);
        }
        return native.mpComplete(h, this.key, this.uploadId, list).then(afterPut);
    }));

    var classes = [R2Bucket, R2Object, R2ObjectBody, R2Checksums, R2MultipartUpload];
    var names = ['R2Bucket', 'R2Object', 'R2ObjectBody', 'R2Checksums', 'R2MultipartUpload'];
    for (var c = 0; c < classes.length; c++) {
        defineProperty(classes[c].prototype, Sym.toStringTag, { value: names[c], configurable: true });
    }

    return {
        /* A bucket object made by C (lib/bindings/r2.c) before this file was loaded becomes an R2Bucket. */
        adopt: function (b, h) {
            hidden(b, HANDLE, h);
            O.setPrototypeOf(b, R2Bucket.prototype);
        },
        proto: R2Bucket.prototype
    };
}
