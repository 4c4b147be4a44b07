/*
 * sclone.js — structured clone as JSON text, in ES5 (compiled to bytecode at build time): the encoding of
 * Durable Object storage values, RPC arguments and results (durable.js) and of Queues messages sent with
 * contentType 'v8' or none (lib/bindings/queue.c). Loaded once per heap by lib/bindings/sclone.c, on first
 * use. Called as `function (native, global)`; returns { serialize(value) -> text, deserialize(text) -> value }.
 *
 * Strings, booleans, null and finite numbers stand for themselves; everything else is an array whose first
 * element is a tag (undefined, NaN/±Infinity/-0, Array, Date, RegExp, ArrayBuffer, typed arrays and
 * DataView, Map, Set, Error, plain objects). Functions, symbols and cycles are a DataCloneError.
 */
function (native, global) {
    'use strict';

    var O = global.Object, JSON = global.JSON, Map = global.Map, Set = global.Set, Error = global.Error;
    var TypeError = global.TypeError, DateC = global.Date, ArrayBufferC = global.ArrayBuffer;
    var Uint8ArrayC = global.Uint8Array, RegExpC = global.RegExp, isArray = global.Array.isArray;
    var fromCharCode = global.String.fromCharCode, toStr = O.prototype.toString;

    function cloneError(what) {
        var D = global.DOMException;
        return D ? new D(what + ' could not be cloned.', 'DataCloneError') : new TypeError(what + ' could not be cloned.');
    }

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

    return { serialize: serialize, deserialize: deserialize };
}
