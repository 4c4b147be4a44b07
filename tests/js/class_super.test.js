// Construction and super of lowered classes (lib/compile/lower_class.c, lib/core/class_helpers.c): the
// constructor's only top-level super(...) calls the parent directly on the object `new` made; other
// super() calls, built-in parents and super.x reads must keep the spec's behaviour.
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

class Base {
  constructor(a, b) { this.args = [a, b]; this.nt = new.target; this.kind = this.describe(); }
  describe() { return 'base'; }
  get label() { return `label of ${this.args[0]}`; }
  static make() { return new this(1, 2); }
}
class Mid extends Base {
  constructor(a) { super(a, a * 2); this.mid = true; }
  describe() { return 'mid'; }
}
class Leaf extends Mid {
  field = this.args[0] + 100;
  describe() { return `leaf/${super.describe()}`; }
  get label() { return `leaf ${super.label}`; }
}

test('arguments, new.target, prototype and virtual calls along a chain', () => {
  const l = new Leaf(3);
  assertEquals(l.args, [3, 6]);
  assertEquals(l.nt, Leaf);
  assertEquals(Object.getPrototypeOf(l), Leaf.prototype);
  assertEquals(l.kind, 'leaf/mid'); // the base constructor already sees the subclass's methods
  assertEquals(l.mid, true);
  assertEquals(l.field, 103);
  assert(l instanceof Base && l instanceof Mid && l instanceof Leaf);
  assertEquals(Object.keys(l), ['args', 'nt', 'kind', 'mid', 'field']); // no helper property left behind
  assertEquals(Leaf.make().nt, Leaf);
});

test('instances carry nothing a script can see or that changes their integrity level', () => {
  const l = new Leaf(1);
  assertEquals(Reflect.ownKeys(l), ['args', 'nt', 'kind', 'mid', 'field']);
  assertEquals(JSON.stringify(structuredClone({ ...l, nt: 0 })), '{"args":[1,2],"nt":0,"kind":"leaf/mid","mid":true,"field":101}');
  class E extends class {} {}
  const e = new E();
  Object.preventExtensions(e);
  assert(Object.isSealed(e) && Object.isFrozen(e), 'an empty non-extensible instance is sealed and frozen');
  const f = Object.freeze(new Leaf(2));
  assert(Object.isFrozen(f));
});

test('a getter through super runs with this = the instance', () => {
  assertEquals(new Leaf(7).label, 'leaf label of 7');
});

test('class constructors throw without new, also through call', () => {
  assertThrows(() => Base(1, 2), TypeError, "Class constructor Base cannot be invoked without 'new'");
  assertThrows(() => Mid.call(new Mid(1), 1), TypeError, "Class constructor Mid cannot be invoked without 'new'");
  assertThrows(() => Leaf.apply({}, [1]), TypeError, "Class constructor Leaf cannot be invoked without 'new'");
});

test('super() inside an arrow in the constructor', () => {
  class A extends Base {
    constructor(x) {
      const init = () => super(x, 'arrow');
      init();
      this.after = new.target === A;
    }
  }
  const a = new A(5);
  assertEquals(a.args, [5, 'arrow']);
  assertEquals(a.after, true);
  assertEquals(a.nt, A);
  assertEquals(Object.getPrototypeOf(a), A.prototype);
});

test('conditional super() and a second super() call', () => {
  let parentRuns = 0;
  class P { constructor(v) { parentRuns++; this.v = v; } }
  class C extends P {
    constructor(flag) {
      if (flag) super('yes'); else super('no');
      try {
        super('again');
      } catch (e) {
        this.second = e instanceof ReferenceError;
      }
    }
  }
  const c = new C(false);
  assertEquals(c.v, 'no'); // the second call built another object; this kept the first
  assertEquals(c.second, true);
  assertEquals(parentRuns, 2);
});

test('this before super() is a ReferenceError', () => {
  class C extends Base { constructor() { this.x = 1; super(); } }
  assertThrows(() => new C(), ReferenceError);
  class D extends Base { constructor() { } }
  assertThrows(() => new D(), ReferenceError);
});

test('constructions nested in super() arguments and parameter defaults', () => {
  class Inner extends Base { constructor() { super('inner', 0); } }
  class Outer extends Base { constructor() { super(new Inner(), new Inner()); } }
  const o = new Outer();
  assertEquals(o.nt, Outer);
  assertEquals(o.args[0].nt, Inner);
  class WithDefault { constructor(x = new Inner()) { this.x = x; } }
  class Sub extends WithDefault { constructor() { super(); } }
  const s = new Sub();
  assertEquals(s.x.args, ['inner', 0]);
  assertEquals(Object.getPrototypeOf(s), Sub.prototype);
});

test('a derived class whose parent returns another object', () => {
  const other = { other: true };
  class P { constructor() { return other; } }
  class C extends P { constructor() { super(); this.tag = 'c'; } }
  const c = new C();
  assertEquals(c, other);
  assertEquals(other.tag, 'c');
  class Q { constructor() { return 42; } } // a primitive is ignored
  class D extends Q { constructor() { super(); this.d = 1; } }
  assertEquals(Object.getPrototypeOf(new D()), D.prototype);
  class R { constructor(early) { this.a = 1; if (early) return; this.b = 2; } }
  class E extends R { constructor(early) { super(early); } }
  assertEquals(Object.keys(new E(true)), ['a']);
  assertEquals(Object.keys(new E(false)), ['a', 'b']);
});

test('a derived constructor returning an object or a wrong value', () => {
  const o = { mine: 1 };
  class C extends Base { constructor() { super(); return o; } }
  assertEquals(new C(), o);
  class D extends Base { constructor() { super(); return 1; } }
  assertThrows(() => new D(), TypeError, 'Derived constructors may only return object or undefined');
});

test('the parent is read when super() runs (Object.setPrototypeOf on the class)', () => {
  class A { constructor() { this.from = 'A'; } }
  class B { constructor() { this.from = 'B'; } }
  class C extends A { constructor() { super(); } }
  Object.setPrototypeOf(C, B);
  assertEquals(new C().from, 'B');
  Object.setPrototypeOf(C, Error);
  const e = new C();
  assert(e instanceof C);
  assertEquals(Object.prototype.toString.call(e), '[object Error]');
});

test('super() to a parent that is not a constructor', () => {
  class C extends Base { constructor() { super(); } }
  Object.setPrototypeOf(C, Function.prototype);
  assertThrows(() => new C(), TypeError, 'Super constructor null of anonymous class is not a constructor');
  let evaluated = false;
  class D extends Base { constructor() { super(evaluated = true); } }
  Object.setPrototypeOf(D, {});
  assertThrows(() => new D(), TypeError);
  assert(evaluated, 'the arguments are evaluated before the check');
  class N extends null { constructor() { super(); } }
  assertThrows(() => new N(), TypeError);
});

test('super.m() after the home object\'s prototype changed', () => {
  const one = { who() { return 'one'; } };
  const two = { who() { return 'two'; } };
  class C { who() { return 'c'; } }
  class D extends C { who() { return `d>${super.who()}`; } }
  const d = new D();
  assertEquals(d.who(), 'd>c');
  Object.setPrototypeOf(D.prototype, one);
  assertEquals(d.who(), 'd>one');
  Object.setPrototypeOf(D.prototype, two);
  assertEquals(d.who(), 'd>two');
  Object.setPrototypeOf(D.prototype, null);
  assertThrows(() => d.who(), TypeError);
});

test('super property reads: missing, symbols, computed keys, statics, proxies', () => {
  const sym = Symbol('s');
  class P {
    [sym]() { return 'sym'; }
    static s() { return 'static P'; }
  }
  P.prototype.data = 5;
  class C extends P {
    missing() { return super.nope; }
    viaSym() { return super[sym](); }
    computed(k) { return super[k]; }
    static s() { return `static C>${super.s()}`; }
  }
  const c = new C();
  assertEquals(c.missing(), undefined);
  assertEquals(c.viaSym(), 'sym');
  assertEquals(c.computed('data'), 5);
  assertEquals(c.computed({ toString() { return 'data'; } }), 5);
  assertEquals(C.s(), 'static C>static P');
  const seen = [];
  const proxy = new Proxy({ hello: 'hi' }, { get(t, k, r) { seen.push(k); return t[k]; } });
  class Q { m() { return super.hello; } }
  Object.setPrototypeOf(Q.prototype, proxy);
  assertEquals(new Q().m(), 'hi');
});

test('super in object literal methods', () => {
  const base = { hi() { return `hi ${this.name}`; }, get g() { return this.name.length; } };
  const o = { __proto__: base, name: 'obj', hi() { return `${super.hi()}!`; }, g2() { return super.g; } };
  assertEquals(o.hi(), 'hi obj!');
  assertEquals(o.g2(), 3);
});

test('subclassing Error, Array and Map', () => {
  class MyError extends Error {
    constructor(msg) { super(msg, { cause: 'c' }); this.name = 'MyError'; }
  }
  const e = new MyError('boom');
  assert(e instanceof MyError && e instanceof Error);
  assertEquals(e.message, 'boom');
  assertEquals(e.cause, 'c');
  assertEquals(String(e), 'MyError: boom');
  class List extends Array {
    sum() { return this.reduce((a, b) => a + b, 0); }
  }
  const l = new List(1, 2, 3); // the implicit constructor passes its arguments on
  assertEquals(l.length, 3);
  assertEquals(l.sum(), 6);
  assert(Array.isArray(l) && l instanceof List);
  l.push(4);
  assertEquals(l.length, 4);
  class CountingMap extends Map {
    constructor(entries) { super(entries); this.sets = 0; }
    set(k, v) { this.sets = (this.sets || 0) + 1; return super.set(k, v); }
  }
  const m = new CountingMap([['a', 1]]);
  m.set('b', 2);
  assertEquals(m.get('a'), 1);
  assertEquals(m.size, 2);
  assertEquals(m.sets, 1); // the constructor's own entries went through set() before sets = 0
  assert(m instanceof Map);
});

test('subclassing Promise and Response', async () => {
  class Later extends Promise {
    constructor(executor) { super(executor); this.tagged = true; }
  }
  const p = new Later((resolve) => resolve(3));
  assert(p instanceof Later && p.tagged);
  assertEquals(await p, 3);
  const chained = p.then((v) => v + 1);
  assert(chained instanceof Later, 'then() builds the species');
  assertEquals(await chained, 4);
  class JsonResponse extends Response {
    constructor(value, init) {
      super(JSON.stringify(value), init);
      this.headers.set('content-type', 'application/json');
    }
    get kind() { return 'json'; }
  }
  const r = new JsonResponse({ a: 1 }, { status: 201 });
  assert(r instanceof Response && r instanceof JsonResponse);
  assertEquals(r.status, 201);
  assertEquals(r.kind, 'json');
  assertEquals(r.headers.get('content-type'), 'application/json');
  assertEquals(await r.json(), { a: 1 });
});

test('spread arguments and the implicit constructor', () => {
  class C extends Base { constructor(...xs) { super(...xs); } }
  assertEquals(new C(1, 2).args, [1, 2]);
  class D extends Base {}
  const d = new D('x', 'y');
  assertEquals(d.args, ['x', 'y']);
  assertEquals(d.nt, D);
});

test('new.target in the parent of a parent, and Reflect.construct', () => {
  class A { constructor() { this.nt = new.target; } }
  class B extends A {}
  class C extends B { constructor() { super(); } }
  assertEquals(new C().nt, C);
  assertEquals(Reflect.construct(C, []).nt, C);
});

test('private fields and brands of every class in the chain', () => {
  class A { #a = 1; getA() { return this.#a; } }
  class B extends A { #b = 2; #m() { return this.#b; } getB() { return this.#m(); } }
  class C extends B { constructor() { super(); this.c = this.getA() + this.getB(); } }
  const c = new C();
  assertEquals(c.c, 3);
  assertEquals(Object.keys(c), ['c']);
});

test('public fields are own, enumerable, writable data properties defined in order', () => {
  const k = 'computed';
  class F {
    a = 1;
    [k] = 2;
    3 = 'three';
    fn = () => this.a;
    static s = 'static';
  }
  const f = new F();
  assertEquals(Object.keys(f), ['3', 'a', 'computed', 'fn']);
  const d = Object.getOwnPropertyDescriptor(f, 'a');
  assertEquals([d.value, d.writable, d.enumerable, d.configurable], [1, true, true, true]);
  assertEquals(f.fn(), 1);
  assertEquals(f.fn.name, 'fn');
  assertEquals(F.s, 'static');
});

test('a field over a non-configurable property or on a frozen object throws TypeError', () => {
  class P { constructor() { Object.defineProperty(this, 'x', { value: 0, configurable: false }); } }
  class C extends P { x = 1; }
  assertThrows(() => new C(), TypeError);
  class Q { constructor() { return Object.freeze({}); } }
  class D extends Q { y = 1; }
  assertThrows(() => new D(), TypeError);
});

test('private members: foreign objects, double initialisation, statics, brands', () => {
  class A {
    #x = 1;
    static #count = 0;
    #m() { return this.#x; }
    static inc() { return ++A.#count; }
    static getX(o) { return o.#x; }
    static setX(o, v) { return (o.#x = v); }
    static callM(o) { return o.#m(); }
    static has(o) { return #x in o; }
  }
  const a = new A();
  assertEquals(A.getX(a), 1);
  assertEquals(A.setX(a, 5), 5);
  assertEquals(A.callM(a), 5);
  assertEquals([A.inc(), A.inc()], [1, 2]);
  assertEquals([A.has(a), A.has({})], [true, false]);
  const msg = 'Cannot access private member #x on an object whose class did not declare it';
  assertThrows(() => A.getX({}), TypeError, msg);
  assertThrows(() => A.setX({}, 1), TypeError, msg);
  assertThrows(() => A.getX(1), TypeError, msg);
  assertThrows(() => A.callM({}), TypeError, 'Cannot access private member #m on an object whose class did not declare it');
  assertThrows(() => A.has(1), TypeError);
  // a base constructor returning an existing object: the subclass's fields go onto it, once
  class Stamp { constructor(o) { return o; } }
  class Stamped extends Stamp { #tag = 't'; static tag(o) { return o.#tag; } }
  const target = {};
  new Stamped(target);
  assertEquals(Stamped.tag(target), 't');
  assertThrows(() => new Stamped(target), TypeError, 'Cannot initialize #tag twice on the same object');
  class WithMethod extends Stamp { #m() { return 'm'; } static m(o) { return o.#m(); } }
  const host = {};
  new WithMethod(host);
  assertEquals(WithMethod.m(host), 'm');
  assertThrows(() => new WithMethod(host), TypeError, 'Cannot initialize private methods twice on the same object');
  const frozen = Object.freeze({});
  new Stamped(frozen); // private names are not properties: a frozen object still takes them
  assertEquals(Stamped.tag(frozen), 't');
});

export default { fetch: run };
