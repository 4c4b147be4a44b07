/*
 * blob.js — Blob, File (File API) and FormData (XHR Standard), loaded on first use (lib/web/lazy.c).
 *
 * A Blob's bytes are one Uint8Array that nobody else can reach, so slices and clones share it (a Blob is
 * immutable). State under the hidden key native.key:
 *   Blob      { blob: 1, bytes: Uint8Array, type: string }            File adds { name, lastModified }
 *   FormData  { fd: 1, list: [name0, value0, name1, value1, ...] }  values are strings or Files
 * lib/web/body.c reads these states directly (Blob and FormData request/response bodies) and makes Files
 * and FormData through the '_'-prefixed internals returned at the end.
 */
function (native, global) {
    'use strict';

    var K = native.key;
    var TypeError = global.TypeError, O = global.Object, U8 = global.Uint8Array;
    var keys = O.keys, defineProperty = O.defineProperty, create = O.create, Promise = global.Promise;
    var ITER = global.Symbol.iterator;

    /* Instance state: a null-prototype record, so nothing a script adds to Object.prototype shows through. */
    function rec(fields) {
        var r = create(null), names = keys(fields);
        for (var i = 0; i < names.length; i++) {
            r[names[i]] = fields[names[i]];
        }
        return r;
    }

    function hide(obj, name, value) {
        defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    function methods(proto, table) {
        for (var name in table) {
            defineProperty(proto, name, { value: table[name], writable: true, configurable: true, enumerable: true });
        }
    }

    function getters(proto, table) {
        for (var name in table) {
            defineProperty(proto, name, { get: table[name], configurable: true, enumerable: true });
        }
    }

    function tag(ctor, name) {
        defineProperty(ctor.prototype, global.Symbol.toStringTag, { value: name, configurable: true });
    }

    function mustNew(nt, name) {
        if (nt === undefined) {
            throw new TypeError("Failed to construct '" + name +
                "': Please use the 'new' operator, this DOM object constructor cannot be called as a function.");
        }
    }

    function isObj(x) {
        return x !== null && (typeof x === 'object' || typeof x === 'function');
    }

    function blobState(x) {
        var s = isObj(x) ? x[K] : undefined;
        return s !== undefined && s.blob === 1 ? s : undefined;
    }

    function thisBlob(x) {
        var s = blobState(x);
        if (s === undefined) {
            throw new TypeError('Illegal invocation: this is not a Blob');
        }
        return s;
    }

    /* A type is kept lower-cased when every character is printable ASCII, else it becomes "". */
    function normalizeType(t) {
        t = String(t);
        for (var i = 0; i < t.length; i++) {
            var c = t.charCodeAt(i);
            if (c < 0x20 || c > 0x7e) {
                return '';
            }
        }
        return t.toLowerCase();
    }

    /* The bytes of the parts (a sequence of BufferSource, Blob or strings), concatenated. */
    function joinParts(parts, endings, what) {
        if (parts === undefined) {
            return new U8(0);
        }
        if (!isObj(parts) || typeof parts[ITER] !== 'function') {
            throw new TypeError("Failed to construct '" + what + "': The provided value cannot be converted to a sequence.");
        }
        var list = native.toArray(parts), chunks = [], total = 0, i, b;
        for (i = 0; i < list.length; i++) {
            var p = list[i], s = blobState(p);
            if (s !== undefined) {
                b = s.bytes;
            } else if (isObj(p) && native.isBufferSource(p)) {
                b = native.bytesOf(p);
            } else {
                p = String(p);
                if (endings) {
                    p = p.replace(/\r\n|\r/g, '\n');
                }
                b = native.utf8(p);
            }
            chunks.push(b);
            total += b.length;
        }
        if (chunks.length === 1) {
            return chunks[0];
        }
        var out = new U8(total), at = 0;
        for (i = 0; i < chunks.length; i++) {
            out.set(chunks[i], at);
            at += chunks[i].length;
        }
        return out;
    }

    function readOptions(options, what) {
        if (options === undefined || options === null) {
            return { type: '', endings: false };
        }
        if (!isObj(options)) {
            throw new TypeError("Failed to construct '" + what + "': The provided value is not of type '" +
                (what === 'File' ? 'FilePropertyBag' : 'BlobPropertyBag') + "'.");
        }
        var endings = options.endings;
        if (endings !== undefined) {
            endings = String(endings);
            if (endings !== 'transparent' && endings !== 'native') {
                throw new TypeError("Failed to construct '" + what + "': The provided value '" + endings +
                    "' is not a valid enum value of type EndingType.");
            }
        }
        var type = options.type;
        return { type: type === undefined ? '' : normalizeType(type), endings: endings === 'native', options: options };
    }

    function initBlob(obj, bytes, type) {
        obj[K] = rec({ blob: 1, bytes: bytes, type: type });
        return obj;
    }

    function Blob(parts, options) {
        mustNew(new.target, 'Blob');
        var o = readOptions(options, 'Blob');
        initBlob(this, joinParts(parts, o.endings, 'Blob'), o.type);
    }

    function newBlob(bytes, type) {
        return initBlob(create(Blob.prototype), bytes, type);
    }

    function relative(v, size) {
        v = +v;
        if (v !== v) {
            return 0;
        }
        v = v < 0 ? Math.ceil(v) : Math.floor(v);
        return v < 0 ? Math.max(size + v, 0) : Math.min(v, size);
    }

    function copyBuffer(bytes) {
        var out = new U8(bytes.length);
        out.set(bytes);
        return out;
    }

    getters(Blob.prototype, {
        size() { return thisBlob(this).bytes.length; },
        type() { return thisBlob(this).type; }
    });

    methods(Blob.prototype, {
        slice(start, end, contentType) {
            var s = thisBlob(this), size = s.bytes.length;
            var from = start === undefined ? 0 : relative(start, size);
            var to = end === undefined ? size : relative(end, size);
            var span = Math.max(to - from, 0);
            return newBlob(s.bytes.subarray(from, from + span),
                contentType === undefined ? '' : normalizeType(contentType));
        },
        text() {
            var s;
            try {
                s = thisBlob(this);
            } catch (e) {
                return Promise.reject(e);
            }
            return Promise.resolve(native.utf8Decode(s.bytes));
        },
        arrayBuffer() {
            var s;
            try {
                s = thisBlob(this);
            } catch (e) {
                return Promise.reject(e);
            }
            return Promise.resolve(copyBuffer(s.bytes).buffer);
        },
        bytes() {
            var s;
            try {
                s = thisBlob(this);
            } catch (e) {
                return Promise.reject(e);
            }
            return Promise.resolve(copyBuffer(s.bytes));
        },
        stream() {
            var s = thisBlob(this);
            return native.streamOf(s.bytes);
        }
    });
    tag(Blob, 'Blob');

    /* ---- File ---- */

    function File(bits, name, options) {
        mustNew(new.target, 'File');
        if (arguments.length < 2) {
            throw new TypeError("Failed to construct 'File': 2 arguments required, but only " + arguments.length + ' present.');
        }
        var o = readOptions(options, 'File');
        initBlob(this, joinParts(bits, o.endings, 'File'), o.type);
        var s = this[K];
        s.name = String(name);
        var lm = o.options !== undefined ? o.options.lastModified : undefined;
        lm = lm === undefined ? global.Date.now() : +lm;
        s.lastModified = lm === lm && lm !== Infinity && lm !== -Infinity ? (lm < 0 ? Math.ceil(lm) : Math.floor(lm)) : 0;
    }
    File.prototype = create(Blob.prototype);
    hide(File.prototype, 'constructor', File);
    O.setPrototypeOf(File, Blob);

    function thisFile(x) {
        var s = blobState(x);
        if (s === undefined || s.name === undefined) {
            throw new TypeError('Illegal invocation: this is not a File');
        }
        return s;
    }

    getters(File.prototype, {
        name() { return thisFile(this).name; },
        lastModified() { return thisFile(this).lastModified; }
    });
    tag(File, 'File');

    function newFile(bytes, name, type, lastModified) {
        var f = initBlob(create(File.prototype), bytes, type);
        f[K].name = name;
        f[K].lastModified = lastModified;
        return f;
    }

    /* ---- FormData ---- */

    function FormData(form) {
        mustNew(new.target, 'FormData');
        if (form !== undefined) {
            throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
        }
        this[K] = rec({ fd: 1, list: [] });
    }

    function thisForm(x) {
        var s = isObj(x) ? x[K] : undefined;
        if (s === undefined || s.fd !== 1) {
            throw new TypeError('Illegal invocation: this is not a FormData');
        }
        return s;
    }

    function need(n, args, method) {
        if (args.length < n) {
            throw new TypeError("Failed to execute '" + method + "' on 'FormData': " + n + ' argument' +
                (n > 1 ? 's' : '') + ' required, but only ' + args.length + ' present.');
        }
    }

    /* The entry value for (value, filename) as append/set take them: a string, or a File. A Blob that is
     * not a File becomes a File named `filename`, or (workerd) the entry's name. */
    function entryValue(name, value, filename, argc, method) {
        var s = blobState(value);
        if (s === undefined) {
            if (argc > 2) {
                throw new TypeError("Failed to execute '" + method + "' on 'FormData': parameter 2 is not of type 'Blob'.");
            }
            return String(value);
        }
        if (filename !== undefined) {
            return newFile(s.bytes, String(filename), s.type, s.name !== undefined ? s.lastModified : global.Date.now());
        }
        if (s.name !== undefined) {
            return value;
        }
        return newFile(s.bytes, name, s.type, global.Date.now());
    }

    methods(FormData.prototype, {
        append(name, value, filename) {
            var s = thisForm(this);
            need(2, arguments, 'append');
            name = String(name);
            s.list.push(name, entryValue(name, value, filename, arguments.length, 'append'));
        },
        set: function (name, value, filename) {
            var s = thisForm(this);
            need(2, arguments, 'set');
            name = String(name);
            var v = entryValue(name, value, filename, arguments.length, 'set'), list = s.list, out = [], done = false;
            for (var i = 0; i < list.length; i += 2) {
                if (list[i] !== name) {
                    out.push(list[i], list[i + 1]);
                } else if (!done) {
                    out.push(name, v);
                    done = true;
                }
            }
            if (!done) {
                out.push(name, v);
            }
            s.list = out;
        },
        get: function (name) {
            var s = thisForm(this);
            need(1, arguments, 'get');
            name = String(name);
            for (var i = 0; i < s.list.length; i += 2) {
                if (s.list[i] === name) {
                    return s.list[i + 1];
                }
            }
            return null;
        },
        getAll(name) {
            var s = thisForm(this), out = [];
            need(1, arguments, 'getAll');
            name = String(name);
            for (var i = 0; i < s.list.length; i += 2) {
                if (s.list[i] === name) {
                    out.push(s.list[i + 1]);
                }
            }
            return out;
        },
        has(name) {
            var s = thisForm(this);
            need(1, arguments, 'has');
            name = String(name);
            for (var i = 0; i < s.list.length; i += 2) {
                if (s.list[i] === name) {
                    return true;
                }
            }
            return false;
        },
        'delete'(name) {
            var s = thisForm(this), out = [];
            need(1, arguments, 'delete');
            name = String(name);
            for (var i = 0; i < s.list.length; i += 2) {
                if (s.list[i] !== name) {
                    out.push(s.list[i], s.list[i + 1]);
                }
            }
            s.list = out;
        },
        forEach(callback, thisArg) {
            var s = thisForm(this);
            if (typeof callback !== 'function') {
                throw new TypeError("Failed to execute 'forEach' on 'FormData': parameter 1 is not of type 'Function'.");
            }
            for (var i = 0; i < s.list.length; i += 2) {
                callback.call(thisArg, s.list[i + 1], s.list[i], this);
            }
        },
        entries() {
            return iterator(thisForm(this), 2);
        },
        keys() {
            return iterator(thisForm(this), 0);
        },
        values() {
            return iterator(thisForm(this), 1);
        }
    });
    defineProperty(FormData.prototype['delete'], 'name', { value: 'delete' });
    hide(FormData.prototype, ITER, FormData.prototype.entries);
    tag(FormData, 'FormData');

    /* FormData iterators walk the live list (an entry deleted before the position shifts what comes next). */
    var iterProto = create(native.iteratorPrototype);
    methods(iterProto, {
        next() {
            var it = isObj(this) ? this[K] : undefined;
            if (it === undefined || it.fdi !== 1) {
                throw new TypeError('Illegal invocation: this is not a FormData Iterator');
            }
            var list = it.form.list;
            if (it.pos >= list.length) {
                return { value: undefined, done: true };
            }
            var i = it.pos;
            it.pos += 2;
            return { value: it.kind === 2 ? [list[i], list[i + 1]] : list[i + it.kind], done: false };
        }
    });
    defineProperty(iterProto, global.Symbol.toStringTag, { value: 'FormData Iterator', configurable: true });

    function iterator(form, kind) {
        var it = create(iterProto);
        it[K] = rec({ fdi: 1, form: form, kind: kind, pos: 0 });
        return it;
    }

    return {
        Blob: Blob,
        File: File,
        FormData: FormData,
        /* For lib/web/body.c and clone.c (C code): */
        _newBlob: newBlob,
        _newFile: newFile,
        _newFormData(list) {
            var f = create(FormData.prototype);
            f[K] = rec({ fd: 1, list: list });
            return f;
        }
    };
}
