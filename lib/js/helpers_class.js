/*
 * helpers_class.js — the runtime helpers of lowered classes (lib/compile/lower_class.c), in ES5.
 *
 * Loaded on first use only (lib/core/dispatch.c installs getters on the helper object for these names), so a
 * Worker without classes does not pay for them in its isolate. Called as `function (native, global)`;
 * returns the helpers, which are copied onto the helper object ($ew). Built-ins are captured here at load
 * time; that is at the first class evaluation, after the Worker's top level may have run: only intrinsics
 * a script cannot replace without breaking itself are read from `global`. `native` holds the C helpers of
 * lib/core/class_helpers.c (markClass, noNew, ntOf, superCtor, superGet, field, brandAdd,
 * privInit/Get/Set/Method): construction, fields, private members and super.m() are hot.
 */
function (native, global) {
    'use strict';

    var O = global.Object, A = global.Array, TypeError = global.TypeError, RefErr = global.ReferenceError;
    var defineProperty = O.defineProperty, getDesc = O.getOwnPropertyDescriptor, keys = O.keys;
    var getOwnNames = O.getOwnPropertyNames, getSymbols = O.getOwnPropertySymbols, freeze = O.freeze;
    var getProto = O.getPrototypeOf;
    var ITER = global.Symbol.iterator;
    var isEnumerable = O.prototype.propertyIsEnumerable;

    function ownKeys(o) {
        var k = getOwnNames(o), s = getSymbols ? getSymbols(o) : [];
        for (var i = 0; i < s.length; i++) {
            k.push(s[i]);
        }
        return k;
    }

    var WeakMap = global.WeakMap, WeakSet = global.WeakSet, RefErr2 = RefErr, markClass = native.markClass;
    var setProto = O.setPrototypeOf, create = O.create, FP = global.Function.prototype;
    var hasOwn = O.prototype.hasOwnProperty;

    function isObj(x) {
        return x !== null && (typeof x === 'object' || typeof x === 'function');
    }

    function fnName(f, name) {
        defineProperty(f, 'name', { value: name, configurable: true });
        return f;
    }

    var classHelpers = {
        classCreate: function (C, derived, P, name, init) {
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
            markClass(C, init);
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
        brandAdd: native.brandAdd,
        noNew: native.noNew,
        ntOf: native.ntOf,
        superCtor: native.superCtor,
        /* super(...) that is not the constructor's only one, at its top level: a fresh object each time
         * (superAlloc), and the binding checked after the parent ran (superEnd) */
        superAlloc: function (nt) {
            return create(isObj(nt.prototype) ? nt.prototype : O.prototype);
        },
        superEnd: function (result, cur) {
            if (cur !== undefined) {
                throw new RefErr2('Super constructor may only be called once');
            }
            return result;
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
        /* `return v` in a base constructor (which also runs as an initialiser: it returns its object) */
        baseReturn: function (v, self) {
            return isObj(v) ? v : self;
        },
        superGet: native.superGet,
        /* sloppy: a method of an object literal in sloppy code, where a failed [[Set]] is silent */
        superSet: function (home, k, v, self, sloppy) {
            var p = getProto(home);
            if (p === null) {
                throw new TypeError('Cannot set properties of null (setting \'' + String(k) + '\')');
            }
            for (; p !== null; p = getProto(p)) {
                var d = getDesc(p, k);
                if (d && (d.get || d.set)) {
                    if (!d.set) {
                        if (sloppy) {
                            return v;
                        }
                        throw new TypeError('Cannot set property ' + String(k) + ' which has only a getter');
                    }
                    d.set.call(self, v);
                    return v;
                }
                if (d) {
                    if (!d.writable) {
                        if (sloppy) {
                            return v;
                        }
                        throw new TypeError('Cannot assign to read only property ' + String(k));
                    }
                    break;
                }
            }
            var own = getDesc(self, k);
            if (sloppy && (own ? own.get || own.set || !own.writable : !O.isExtensible(self))) {
                return v; /* the [[Set]] or CreateDataProperty would fail: silent in sloppy code */
            }
            if (own) {
                self[k] = v;
            } else {
                defineProperty(self, k, { value: v, writable: true, enumerable: true, configurable: true });
            }
            return v;
        },
        field: native.field,
        privateName: function () {
            return new WeakMap();
        },
        privateBrand: function () {
            return new WeakSet();
        },
        /* private fields and methods: WeakMaps and WeakSet brands read in C (the class itself is the brand of
         * static members) */
        privInit: native.privInit,
        privGet: native.privGet,
        privSet: native.privSet,
        privMethod: native.privMethod,
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


    return classHelpers;
}
