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
    var AP = A.prototype, slice = AP.slice;
    var construct = global.Reflect.construct, apply = global.Reflect.apply;
    var ITER = global.Symbol.iterator;
    var arrayValues = AP[ITER];
    var isEnumerable = O.prototype.propertyIsEnumerable;

    var toStr = O.prototype.toString;

    /* GetIterator(x) given f, x[@@iterator] as already read once (by the C fast paths). */
    function iterWith(x, f) {
        if (f === undefined && x != null && toStr.call(x) === '[object Arguments]') {
            f = arrayValues; /* Duktape's arguments objects lack @@iterator; the built-in one is the array's */
        }
        if (typeof f !== 'function') {
            throw new TypeError(String(x) + ' is not iterable');
        }
        var it = f.call(x);
        if (it === null || (typeof it !== 'object' && typeof it !== 'function')) {
            throw new TypeError('iterator is not an object');
        }
        return it;
    }

    function iter(x) {
        return iterWith(x, x == null ? undefined : x[ITER]);
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

    /* A fresh array of an iterable's values (n >= 0: at most n, then the iterator is closed); f is
     * x[@@iterator]. */
    function toArray(x, n, f) {
        var it = iterWith(x, f), out = [], s;
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

    /* Classes (lib/compile/lower_class.c, lib/js/helpers_class.js, lib/core/class_helpers.c). A compiled
     * class's constructor exists twice (one maker function): the class, and the initialiser copy super()
     * calls with `this` = the object being built (class_helpers.c). Private names are
     * WeakMaps (weak.c keeps the entries in hidden slots on the key: invisible to reflection). */

    /* Named groups in String.prototype.match / replace (see regexGroups below). */
    var GROUPS = global.Symbol('groups'), stringPatched = false;
    function patchString() {
        var SP = global.String.prototype, origMatch = SP.match, origReplace = SP.replace;
        stringPatched = true;
        function expand(tpl, m, pos, str, groups) {
            return String(tpl).replace(/\$(\$|&|`|'|\d\d?|<[^>]*>)/g, function (all, k) {
                if (k === '$') { return '$'; }
                if (k === '&') { return m[0]; }
                if (k === '`') { return str.slice(0, pos); }
                if (k === "'") { return str.slice(pos + m[0].length); }
                if (k.charAt(0) === '<') {
                    var v = groups[k.slice(1, -1)];
                    return v === undefined ? '' : String(v);
                }
                var n = +k;
                if (n >= 1 && n < m.length) { return m[n] === undefined ? '' : m[n]; }
                if (k.length === 2 && +k.charAt(0) >= 1 && +k.charAt(0) < m.length) {
                    return (m[+k.charAt(0)] === undefined ? '' : m[+k.charAt(0)]) + k.charAt(1);
                }
                return all;
            });
        }
        defineProperty(SP, 'match', { value: function match(regexp) {
            if (regexp !== null && typeof regexp === 'object' && regexp[GROUPS] && !regexp.global && this != null) {
                return regexp.exec(String(this));
            }
            return origMatch.apply(this, arguments);
        }, writable: true, configurable: true });
        defineProperty(SP, 'replace', { value: function replace(searchValue, replaceValue) {
            if (searchValue === null || typeof searchValue !== 'object' || !searchValue[GROUPS] || this == null) {
                return origReplace.apply(this, arguments);
            }
            var str = String(this), re = searchValue, global_ = re.global, out = '', last = 0, m, args, i;
            if (global_) { re.lastIndex = 0; }
            while ((m = re.exec(str)) !== null) {
                if (typeof replaceValue === 'function') {
                    args = [];
                    for (i = 0; i < m.length; i++) { args.push(m[i]); }
                    args.push(m.index, str, m.groups);
                    out += str.slice(last, m.index) + String(replaceValue.apply(undefined, args));
                } else {
                    out += str.slice(last, m.index) + expand(replaceValue, m, m.index, str, m.groups);
                }
                last = m.index + m[0].length;
                if (!global_) { break; }
                if (m[0] === '') { re.lastIndex++; }
            }
            return out + str.slice(last);
        }, writable: true, configurable: true });
    }

    var out = {
        iter: iter,
        close: close,
        /* The iterator-protocol paths of iterFast (for-of), spread ([...x], f(...x)) and arr (array
         * patterns), which lib/core/builtin_iterfast.c replaces by C functions that index arrays whose
         * iteration is intact and call these otherwise, passing x[@@iterator] as read. concat is C only. */
        iterFast: iterWith,
        spread: function (x, f) {
            return toArray(x, -1, f);
        },
        arr: function (x, n, f) {
            return toArray(x, n, f);
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
        /* the value of a let/const/class binding before its declaration ran (lower_block.c) */
        U: freeze({}),
        tdz: function (name) {
            throw new RefErr('Cannot access "' + name + '" before initialization');
        },
        /* A script's top-level declarations on the global object g (GlobalDeclarationInstantiation, lowered by
         * lib/compile/lower_global.c): fns is [name, function, ...], vars the other var names. */
        declareGlobals: function (g, vars, fns) {
            var i, d;
            for (i = 0; i < fns.length; i += 2) {
                d = getDesc(g, fns[i]);
                if (d === undefined ? !O.isExtensible(g)
                    : !d.configurable && !(d.writable && d.enumerable && 'value' in d)) {
                    throw new TypeError('Cannot declare global function ' + fns[i]);
                }
            }
            for (i = 0; i < vars.length; i++) {
                if (!O.prototype.hasOwnProperty.call(g, vars[i]) && !O.isExtensible(g)) {
                    throw new TypeError('Cannot declare global variable ' + vars[i]);
                }
            }
            for (i = 0; i < fns.length; i += 2) {
                d = getDesc(g, fns[i]);
                if (d === undefined || d.configurable) {
                    defineProperty(g, fns[i], { value: fns[i + 1], writable: true, enumerable: true, configurable: false });
                } else {
                    g[fns[i]] = fns[i + 1];
                }
            }
            for (i = 0; i < vars.length; i++) {
                if (!O.prototype.hasOwnProperty.call(g, vars[i])) {
                    defineProperty(g, vars[i], { value: undefined, writable: true, enumerable: true, configurable: false });
                }
            }
        },
        /* A regex literal with named groups (lib/compile/lower_regex.c numbered them): exec results get .groups,
         * and so do String.prototype.match and replace (their callback's last argument, `$<name>`), which
         * regexInit (first statement of a program with such literals) wraps once to go through that exec for
         * these regexes only. */
        regexInit: function () {
            if (!stringPatched) {
                patchString();
            }
        },
        regexGroups: function (re, names) {
            var exec = re.exec;
            defineProperty(re, GROUPS, { value: names });
            defineProperty(re, 'exec', {
                value: function (s) {
                    var m = exec.call(this, s), g, i;
                    if (m) {
                        g = O.create(null);
                        for (i = 0; i < names.length; i++) {
                            if (names[i] !== null) {
                                g[names[i]] = m[i + 1];
                            }
                        }
                        m.groups = g;
                    }
                    return m;
                },
                writable: true,
                configurable: true
            });
            return re;
        },
        apply: apply,
        keys: keys
    };
    /* Class and module helpers (helpers_class.js, helpers_module.js) and the coroutine helpers (coro.js)
     * are added by lib/core/dispatch.c as getters that load them on first use. */
    return out;
}
