/*
 * helpers_module.js — the runtime helpers of bundled ES modules (lib/compile/bundle.c, lower_module.c).
 *
 * Loaded on first use only, like helpers_class.js: called as `function (native, global)`, returns the
 * helpers copied onto the helper object ($ew).
 */
function (native, global) {
    'use strict';

    var O = global.Object, A = global.Array, TypeError = global.TypeError, RefErr = global.ReferenceError;
    var defineProperty = O.defineProperty, getDesc = O.getOwnPropertyDescriptor, keys = O.keys;
    var getOwnNames = O.getOwnPropertyNames, getSymbols = O.getOwnPropertySymbols, freeze = O.freeze;
    var getProto = O.getPrototypeOf, isArray = A.isArray, AP = A.prototype, slice = AP.slice;
    var construct = global.Reflect.construct, apply = global.Reflect.apply;
    var ITER = global.Symbol.iterator;
    var isEnumerable = O.prototype.propertyIsEnumerable;

    /* The bundle's module registry: R.d/c/j(k, ...) register module k (ES, CommonJS, JSON), R.f(k, message) a
     * module that failed to compile, R.e(k, getters)
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
        var pending = [];
        var i, R;
        for (i = 0; i < n; i++) {
            ns.push(O.create(null));
        }
        function cjsRun(k) {
            var m = { exports: {} }, props, ks, j;
            cjs[k] = m;
            if (urls[k].indexOf('cloudflare:') === 0) {
                m.exports = H.builtinModule(urls[k]); /* a module the runtime provides (bundle.c) */
            } else {
                fns[k].call(m.exports, H, m, m.exports, function (spec) { return R.req(k, spec); });
            }
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
        /* state: 0 new, 1 started (its prologue evaluates its dependencies), 5 async body running after its
         * prologue, 2 done, 3 failed (errs). */
        function run(k) {
            var s = state[k], r;
            if (s === 3) {
                throw errs[k];
            }
            if (s) {
                return ns[k];
            }
            state[k] = 1;
            try {
                if (kinds[k] === 0 || kinds[k] === 3) {
                    r = fns[k].call(kinds[k] === 3 ? global : undefined, H, R);
                    if (r !== undefined) { /* an async module: its body runs on */
                        pending[k] = r.then(function () { state[k] = 2; }, function (e) {
                            state[k] = 3;
                            errs[k] = e;
                            throw e;
                        });
                        return ns[k];
                    }
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
            s: function (k, f) { fns[k] = f; kinds[k] = 3; }, /* a script entry that uses import() */
            /* a module only import()/require() reach that failed to parse, link or compile (bundle.c): running
             * or importing it throws this SyntaxError */
            f: function (k, message) { state[k] = 3; errs[k] = new global.SyntaxError(message); },
            e: function (k, getters) {
                var o = ns[k], names = keys(getters).sort(), j;
                for (j = 0; j < names.length; j++) {
                    defineProperty(o, names[j], { get: getDesc(getters, names[j]).get, enumerable: true });
                }
                seal(o);
            },
            run: run,
            /* the promise an importer of async module k awaits: none once k is done, nor when k had already
             * started and is still in its prologue (a cycle back to it: waiting would deadlock) */
            wait: function (k) {
                var s = state[k];
                run(k);
                return (!s && state[k] === 1) || state[k] === 5 ? pending[k] : undefined;
            },
            b: function (k) { state[k] = 5; },
            start: run,
            meta: function (k) {
                if (!metas[k]) {
                    metas[k] = O.create(null);
                    metas[k].url = urls[k];
                }
                return metas[k];
            },
            imp: function (k, spec) {
                return new Promise(function (resolve) {
                    var t = target(k, String(spec)), p = kinds[t] === 0 ? R.wait(t) : undefined;
                    resolve(p ? p.then(function () { return ns[t]; }) : run(t));
                });
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

    return {
        modules: modules,
        setName: function (f, name) {
            try { defineProperty(f, 'name', { value: name, configurable: true }); } catch (e) { /* keep it */ }
            return f;
        },
        immutable: freeze({ binding: 0 })
    };
}
