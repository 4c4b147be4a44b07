/*
 * helpers.js — the runtime helpers that compiled code calls (lib/compile/lower*.c), in ES5.
 *
 * Called once per isolate as `function (native, global)`; returns the helper object, which the isolate passes
 * to each compiled program as its hidden parameter ($ew: never a global, so user code cannot see or replace
 * it). Built-ins are captured here at load time so later changes by user code to Array.prototype, Object, ...
 * do not change how lowered syntax behaves. Keep it small: every line costs memory in every isolate; hot paths
 * stay inline in the compiled code (templates, ??, ?.) or take array fast paths here.
 */
function (native, global) {
    'use strict';

    var O = global.Object, A = global.Array, TypeError = global.TypeError, RefErr = global.ReferenceError;
    var defineProperty = O.defineProperty, getDesc = O.getOwnPropertyDescriptor, keys = O.keys;
    var getOwnNames = O.getOwnPropertyNames, getSymbols = O.getOwnPropertySymbols, freeze = O.freeze;
    var getProto = O.getPrototypeOf, isArray = A.isArray, AP = A.prototype, slice = AP.slice;
    var construct = global.Reflect.construct, apply = global.Reflect.apply;
    var ITER = global.Symbol.iterator;
    var arrayValues = AP[ITER];
    var arrayIterProto = getProto(arrayValues.call([]));
    var arrayNext = arrayIterProto.next;
    var isEnumerable = O.prototype.propertyIsEnumerable;

    /* The bundle's module registry: R.d/c/j(k, ...) register module k (ES, CommonJS, JSON), R.e(k, getters)
     * defines an ES namespace (live getters, sorted keys, sealed), R.run(k) evaluates k once (dependencies
     * first is the module's own prologue) and gives its namespace. ES namespaces exist before their modules
     * run so modules on a cycle can hold them. */
    var TAG = global.Symbol.toStringTag, Promise = global.Promise;
    function seal(o) {
        if (TAG !== undefined) {
            defineProperty(o, TAG, { value: 'Module' });
        }
        return O.preventExtensions(o);
    }
    function nsOf(props) {
        var o = O.create(null), names = keys(props).sort(), i;
        for (i = 0; i < names.length; i++) {
            defineProperty(o, names[i], { value: props[names[i]], enumerable: true, writable: true });
        }
        return seal(o);
    }
    function modules(urls, specs) {
        var H = this, n = urls.length, ns = [], fns = [], kinds = [], state = [], errs = [], metas = [], cjs = [];
        var i, R;
        for (i = 0; i < n; i++) {
            ns.push(O.create(null));
        }
        function cjsRun(k) {
            var m = { exports: {} }, props, ks, j;
            cjs[k] = m;
            fns[k].call(m.exports, H, m, m.exports, function (spec) { return R.req(k, spec); });
            props = {};
            if (m.exports !== null && (typeof m.exports === 'object' || typeof m.exports === 'function')) {
                ks = keys(m.exports);
                for (j = 0; j < ks.length; j++) {
                    props[ks[j]] = m.exports[ks[j]];
                }
            }
            props['default'] = m.exports;
            ns[k] = nsOf(props);
        }
        function run(k) {
            var s = state[k];
            if (s === 3) {
                throw errs[k];
            }
            if (s) {
                return ns[k];
            }
            state[k] = 1;
            try {
                if (kinds[k] === 0) {
                    fns[k].call(undefined, H, R);
                } else if (kinds[k] === 1) {
                    cjsRun(k);
                } else {
                    ns[k] = nsOf({ 'default': global.JSON.parse(fns[k]) });
                }
            } catch (e) {
                state[k] = 3;
                errs[k] = e;
                throw e;
            }
            state[k] = 2;
            return ns[k];
        }
        function target(k, spec) {
            var t = specs[k][spec];
            if (typeof t !== 'number' || !O.prototype.hasOwnProperty.call(specs[k], spec)) {
                var e = new global.Error('Cannot find module \'' + spec + '\' imported from ' + urls[k]);
                e.code = 'MODULE_NOT_FOUND';
                throw e;
            }
            return t;
        }
        R = {
            n: ns,
            d: function (k, f) { fns[k] = f; kinds[k] = 0; },
            c: function (k, f) { fns[k] = f; kinds[k] = 1; },
            j: function (k, text) { fns[k] = text; kinds[k] = 2; },
            e: function (k, getters) {
                var o = ns[k], names = keys(getters).sort(), j;
                for (j = 0; j < names.length; j++) {
                    defineProperty(o, names[j], { get: getDesc(getters, names[j]).get, enumerable: true });
                }
                seal(o);
            },
            run: run,
            start: run,
            meta: function (k) {
                if (!metas[k]) {
                    metas[k] = O.create(null);
                    metas[k].url = urls[k];
                }
                return metas[k];
            },
            imp: function (k, spec) {
                return new Promise(function (resolve) { resolve(run(target(k, String(spec)))); });
            },
            req: function (k, spec) {
                var t = target(k, String(spec));
                if (kinds[t] === 1) {
                    if (state[t] !== 1) {
                        run(t);
                    }
                    return cjs[t].exports; /* also while it runs: a cycle sees the partial exports */
                }
                return kinds[t] === 2 ? run(t)['default'] : run(t);
            }
        };
        return R;
    }

    /* An array whose iteration is the built-in one reads a[0..length) lazily: the same as indexing it. */
    function plainArray(x) {
        return isArray(x) && getProto(x) === AP && AP[ITER] === arrayValues && arrayIterProto.next === arrayNext &&
            !O.prototype.hasOwnProperty.call(x, ITER);
    }

    function iter(x) {
        var f = x == null ? undefined : x[ITER];
        if (typeof f !== 'function') {
            throw new TypeError(String(x) + ' is not iterable');
        }
        var it = f.call(x);
        if (it === null || (typeof it !== 'object' && typeof it !== 'function')) {
            throw new TypeError('iterator is not an object');
        }
        return it;
    }

    /* IteratorClose after break/return (errors of return() propagate) or a throw (quiet: the throw wins). */
    function close(it, quiet) {
        if (!it) {
            return;
        }
        var r;
        if (quiet) {
            try { r = it['return']; if (r != null) { r.call(it); } } catch (e) { /* the original error wins */ }
            return;
        }
        r = it['return'];
        if (r != null) {
            r = r.call(it);
            if (r === null || (typeof r !== 'object' && typeof r !== 'function')) {
                throw new TypeError('iterator result is not an object');
            }
        }
    }

    /* A fresh array of an iterable's values (n >= 0: at most n, then the iterator is closed). */
    function toArray(x, n) {
        if (plainArray(x)) {
            return n >= 0 && n < x.length ? slice.call(x, 0, n) : slice.call(x);
        }
        var it = iter(x), out = [], s;
        while (n < 0 || out.length < n) {
            s = it.next();
            if (s === null || typeof s !== 'object') {
                throw new TypeError('iterator result is not an object');
            }
            if (s.done) {
                return out;
            }
            out.push(s.value);
        }
        close(it, false);
        return out;
    }

    function ownKeys(o) {
        var k = getOwnNames(o), s = getSymbols ? getSymbols(o) : [];
        for (var i = 0; i < s.length; i++) {
            k.push(s[i]);
        }
        return k;
    }

    /* Classes (lib/compile/lower_class.c). A compiled class's constructor is also its initialiser: super()
     * calls it with `this` = an object made from newTarget.prototype (base) after leaving newTarget in
     * `pendingNT`, which the callee's first statement takes (initTarget). classKind: 1 base, 2 derived. Private
     * names are WeakMaps (weak.c keeps the entries in hidden slots on the key: invisible to reflection). */
    var WeakMap = global.WeakMap, WeakSet = global.WeakSet, RefErr2 = RefErr, classKind = new WeakMap();
    var setProto = O.setPrototypeOf, create = O.create, FP = global.Function.prototype, pendingNT;
    var hasOwn = O.prototype.hasOwnProperty;

    function isObj(x) {
        return x !== null && (typeof x === 'object' || typeof x === 'function');
    }

    function fnName(f, name) {
        defineProperty(f, 'name', { value: name, configurable: true });
        return f;
    }

    function noPrivate(name) {
        throw new TypeError('Cannot access private member ' + name + ' on an object whose class did not declare it');
    }

    var classHelpers = {
        classCreate: function (C, derived, P, name) {
            var protoParent = O.prototype, proto;
            if (derived) {
                if (P === null) {
                    protoParent = null;
                    setProto(C, FP);
                } else {
                    if (typeof P !== 'function') {
                        throw new TypeError('Class extends value ' + String(P) + ' is not a constructor or null');
                    }
                    protoParent = P.prototype;
                    if (protoParent !== null && !isObj(protoParent)) {
                        throw new TypeError('Class extends value does not have valid prototype property');
                    }
                    setProto(C, P);
                }
            }
            proto = create(protoParent);
            defineProperty(proto, 'constructor', { value: C, writable: true, configurable: true });
            defineProperty(C, 'prototype', { value: proto, writable: false });
            if (name !== undefined) {
                defineProperty(C, 'name', { value: name, configurable: true });
            }
            classKind.set(C, derived ? 2 : 1);
            return proto;
        },
        /* methods of a class (an object literal made by the compiler): non-enumerable on the target, named
         * after their keys (Duktape names only identifier-keyed methods) */
        defineMethods: function (target, src) {
            var k = ownKeys(src);
            for (var i = 0; i < k.length; i++) {
                var d = getDesc(src, k[i]), n = typeof k[i] === 'symbol' ? String(k[i]).slice(7, -1) : k[i];
                n = typeof k[i] === 'symbol' && n ? '[' + n + ']' : n;
                d.enumerable = false;
                if (d.value) {
                    fnName(d.value, n);
                }
                if (d.get) {
                    fnName(d.get, 'get ' + n);
                }
                if (d.set) {
                    fnName(d.set, 'set ' + n);
                }
                defineProperty(target, k[i], d);
            }
        },
        fnName: fnName,
        brandAdd: function (o, b) {
            if (b.has(o)) {
                throw new TypeError('Cannot initialize private methods twice on the same object');
            }
            b.add(o);
        },
        initTarget: function (C) {
            var t = pendingNT;
            pendingNT = undefined;
            if (t === undefined) {
                throw new TypeError("Class constructor " + C.name + " cannot be invoked without 'new'");
            }
            return t;
        },
        /* super(...args) in class C's constructor: the new `this` (init: C's instance fields) */
        superCall: function (C, nt, args, cur, init) {
            var P = getProto(C), kind = typeof P === 'function' ? classKind.get(P) : undefined, o, r;
            if (kind) {
                o = kind === 1 ? create(isObj(nt.prototype) ? nt.prototype : O.prototype) : undefined;
                pendingNT = nt;
                r = apply(P, o, args);
                o = isObj(r) ? r : o;
            } else {
                if (P === FP || typeof P !== 'function') {
                    throw new TypeError('Super constructor ' + String(P) + ' of anonymous class is not a constructor');
                }
                o = construct(P, slice.call(args));
                if (isObj(nt.prototype) && getProto(o) !== nt.prototype) {
                    setProto(o, nt.prototype);
                }
            }
            if (cur !== undefined) {
                throw new RefErr2('Super constructor may only be called once');
            }
            if (init) {
                init.call(o);
            }
            return o;
        },
        noThis: function () {
            throw new RefErr2("Must call super constructor in derived class before accessing 'this'");
        },
        /* `return v` in a derived constructor */
        derivedReturn: function (v, self) {
            if (isObj(v)) {
                return v;
            }
            if (v !== undefined) {
                throw new TypeError('Derived constructors may only return object or undefined');
            }
            return self || classHelpers.noThis();
        },
        superGet: function (home, k, self) {
            for (var p = getProto(home); p !== null; p = getProto(p)) {
                var d = getDesc(p, k);
                if (d) {
                    return d.get ? d.get.call(self) : d.value;
                }
            }
            return undefined;
        },
        superSet: function (home, k, v, self) {
            for (var p = getProto(home); p !== null; p = getProto(p)) {
                var d = getDesc(p, k);
                if (d && (d.get || d.set)) {
                    if (!d.set) {
                        throw new TypeError('Cannot set property ' + String(k) + ' which has only a getter');
                    }
                    d.set.call(self, v);
                    return v;
                }
                if (d) {
                    if (!d.writable) {
                        throw new TypeError('Cannot assign to read only property ' + String(k));
                    }
                    break;
                }
            }
            if (hasOwn.call(self, k)) {
                self[k] = v;
            } else {
                defineProperty(self, k, { value: v, writable: true, enumerable: true, configurable: true });
            }
            return v;
        },
        /* a public field: CreateDataPropertyOrThrow */
        field: function (o, k, v) {
            defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
        },
        privateName: function () {
            return new WeakMap();
        },
        privateBrand: function () {
            return new WeakSet();
        },
        privInit: function (o, m, v, name) {
            if (m.has(o)) {
                throw new TypeError('Cannot initialize ' + name + ' twice on the same object');
            }
            m.set(o, v);
        },
        privGet: function (o, m, name) {
            var v = m.get(o);
            if (v === undefined && !m.has(o)) {
                noPrivate(name);
            }
            return v;
        },
        privSet: function (o, m, v, name) {
            if (!m.has(o)) {
                noPrivate(name);
            }
            m.set(o, v);
            return v;
        },
        /* #m, get #a, set #a: b is the brand (a WeakSet, or the class itself for static members) */
        privMethod: function (o, b, f, name) {
            if (typeof b === 'function' ? b === o : b.has(o)) {
                return f;
            }
            return noPrivate(name);
        },
        privGetter: function (o, b, f, name) {
            if (!f) {
                throw new TypeError("'" + name + "' was defined without a getter");
            }
            return classHelpers.privMethod(o, b, f, name).call(o);
        },
        privSetter: function (o, b, f, v, name) {
            if (!f) {
                throw new TypeError("'" + name + "' was defined without a setter");
            }
            classHelpers.privMethod(o, b, f, name).call(o, v);
            return v;
        },
        privHas: function (o, m) {
            if (!isObj(o)) {
                throw new TypeError("Cannot use 'in' operator to search for a private field in " + String(o));
            }
            return typeof m === 'function' ? m === o : m.has(o);
        },
        privReadOnly: function (name) {
            throw new TypeError('Private method ' + name + ' is not writable');
        }
    };

    var out = {
        iter: iter,
        close: close,
        /* for-of: null when x is a plain array (index it), else its iterator */
        iterFast: function (x) {
            return plainArray(x) ? null : iter(x);
        },
        /* [...x], f(...x): a fresh array */
        spread: function (x) {
            return toArray(x, -1);
        },
        /* array destructuring: x itself when indexing is the same as iterating, else the first n values */
        arr: function (x, n) {
            return plainArray(x) ? x : toArray(x, n);
        },
        /* [a, ...b, c]: concatenates arrays made by the compiler (holes kept) */
        concat: function (a) {
            for (var i = 1; i < arguments.length; i++) {
                var b = arguments[i], n = a.length;
                for (var j = 0; j < b.length; j++) {
                    if (j in b) {
                        a[n + j] = b[j];
                    }
                }
                a.length = n + b.length;
            }
            return a;
        },
        rest: function (args, from) {
            return slice.call(args, from);
        },
        construct: function (C, args) {
            return construct(C, args);
        },
        /* {...src} with CreateDataProperty semantics; literal: copy a literal piece's descriptors */
        objectSpread: function (target, src, literal) {
            if (src == null) {
                return target;
            }
            var o = O(src), k = ownKeys(o);
            for (var i = 0; i < k.length; i++) {
                if (literal) {
                    defineProperty(target, k[i], getDesc(o, k[i]));
                } else if (isEnumerable.call(o, k[i])) {
                    defineProperty(target, k[i], { value: o[k[i]], writable: true, enumerable: true, configurable: true });
                }
            }
            return target;
        },
        /* {a, ...rest} = src: the own enumerable properties of src not in `used` */
        objectRest: function (src, used) {
            if (src == null) {
                throw new TypeError('Cannot destructure ' + src);
            }
            var o = O(src), k = ownKeys(o), out = {};
            for (var i = 0; i < k.length; i++) {
                if (used.indexOf(typeof k[i] === 'symbol' ? k[i] : String(k[i])) < 0 && isEnumerable.call(o, k[i])) {
                    out[k[i]] = o[k[i]];
                }
            }
            return out;
        },
        /* {} = x and {a} = x must throw for null and undefined */
        objectCheck: function (x) {
            if (x == null) {
                throw new TypeError('Cannot destructure ' + x);
            }
            return x;
        },
        /* {get [k]() {}} */
        accessor: function (o, k, f, isSet) {
            defineProperty(o, k, isSet ? { set: f, enumerable: true, configurable: true }
                : { get: f, enumerable: true, configurable: true });
            return o;
        },
        /* {__proto__: p} */
        setProto: function (o, p) {
            if (p === null || typeof p === 'object' || typeof p === 'function') {
                O.setPrototypeOf(o, p);
            }
            return o;
        },
        key: function (k) {
            return typeof k === 'symbol' ? k : String(k);
        },
        templateObject: function (cooked, raw) {
            defineProperty(cooked, 'raw', { value: freeze(raw) });
            return freeze(cooked);
        },
        constAssign: function (name) {
            throw new TypeError('Assignment to constant variable "' + name + '".');
        },
        tdz: function (name) {
            throw new RefErr('Cannot access "' + name + '" before initialization');
        },
        apply: apply,
        keys: keys
    };
    for (var h in classHelpers) {
        out[h] = classHelpers[h];
    }
    /* modules (lib/compile/bundle.c, lower_module.c) */
    out.setName = function (f, name) {
        try { defineProperty(f, 'name', { value: name, configurable: true }); } catch (e) { /* keep it */ }
        return f;
    };
    out.immutable = freeze({ binding: 0 });
    out.modules = modules;
    return out;
}
