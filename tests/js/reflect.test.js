// Reflect.get/set/has/deleteProperty with Symbol keys and Reflect.get/set with a receiver (Duktape refuses both;
// lib/duk/prepare.py patches them): what Proxy handlers written as `return Reflect.set(t, k, v, receiver)` need.
import { test, assert, assertEquals, run } from './harness.js';

test('Symbol keys reach the property', () => {
  const o = { [Symbol.iterator]: 1 };
  assertEquals(Reflect.get(o, Symbol.iterator), 1);
  assertEquals(typeof Reflect.get([], Symbol.iterator), 'function');
  assertEquals(Reflect.has([], Symbol.iterator), true);
  assertEquals(Reflect.set(o, Symbol.iterator, 2), true);
  assertEquals(o[Symbol.iterator], 2);
  assertEquals(Reflect.deleteProperty(o, Symbol.iterator), true);
  assertEquals(Symbol.iterator in o, false);
  assertEquals(Reflect.get({ 1: 'one' }, 1), 'one'); // other keys still go through ToPropertyKey
});

test('Reflect.set with a receiver creates or updates the data property on the receiver', () => {
  const target = { x: 1 }, receiver = { y: 0 };
  assertEquals(Reflect.set(target, 'x', 2, receiver), true);
  assertEquals(target.x, 1);
  assertEquals(receiver.x, 2);
  assertEquals(Object.getOwnPropertyDescriptor(receiver, 'x').enumerable, true);
  assertEquals(Reflect.set(target, 'y', 3, receiver), true); // an existing own property keeps its attributes
  assertEquals(receiver.y, 3);
  assertEquals(Reflect.set(Object.create(target), 'z', 4, receiver), true); // absent everywhere
  assertEquals(receiver.z, 4);
});

test('Reflect.set with a receiver calls a setter with the receiver as this', () => {
  let seen, value;
  const target = Object.create({ set x(v) { seen = this; value = v; } });
  const receiver = {};
  assertEquals(Reflect.set(target, 'x', 7, receiver), true);
  assert(seen === receiver && value === 7);
  assertEquals(Object.keys(receiver).length, 0);
  assertEquals(Reflect.set({ get x() { return 1; } }, 'x', 7, receiver), false); // no setter
});

test('Reflect.set with a receiver answers false where the spec refuses', () => {
  assertEquals(Reflect.set(Object.freeze({ x: 1 }), 'x', 2, {}), false); // read-only on the target's chain
  assertEquals(Reflect.set({}, 'x', 2, 5), false); // receiver not an object
  const ro = Object.defineProperty({}, 'x', { value: 1 });
  assertEquals(Reflect.set({}, 'x', 2, ro), false); // read-only on the receiver
  assertEquals(ro.x, 1);
  const acc = Object.defineProperty({}, 'x', { get() { return 1; }, set() {}, configurable: true });
  assertEquals(Reflect.set({}, 'x', 2, acc), false); // an accessor on the receiver
  assertEquals(Reflect.set({}, 'x', 2, Object.preventExtensions({})), false); // not extensible
});

test('a Proxy set trap forwarding with its receiver writes the target', () => {
  const target = {};
  const log = [];
  const p = new Proxy(target, {
    set(t, k, v, r) { log.push(k); return Reflect.set(t, k, v, r); },
    get(t, k, r) { return Reflect.get(t, k, r); },
  });
  p.a = 5;
  p[Symbol.toStringTag] = 'T';
  assertEquals(target.a, 5);
  assertEquals(p.a, 5);
  assertEquals(target[Symbol.toStringTag], 'T');
  assertEquals(log.length, 2);
});

test('Reflect.get with a receiver calls a getter with the receiver as this', () => {
  const target = { get who() { return this.name; }, plain: 1 };
  assertEquals(Reflect.get(target, 'who', { name: 'r' }), 'r');
  assertEquals(Reflect.get(Object.create(target), 'who', { name: 's' }), 's');
  assertEquals(Reflect.get(target, 'plain', {}), 1);
  assertEquals(Reflect.get(target, 'absent', {}), undefined);
  const viaProxy = Object.create(new Proxy({}, { get(t, k) { return 'trap:' + String(k); } }));
  assertEquals(Reflect.get(viaProxy, 'k', {}), 'trap:k');
});

export default { fetch: run };
