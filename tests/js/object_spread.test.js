// Object spread ({...src}) through the C objectSpread helper and its script fallback (literal pieces with
// accessors): what CopyDataProperties says a user sees. Proxy sources take the script path, where Duktape's
// missing getOwnPropertyDescriptor trap still loses their keys (test262 known failures object-spread-proxy-*).
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

test('own enumerable string and symbol keys are copied as data properties, in order', () => {
  const s = Symbol('s');
  const src = { b: 1, a: 2, [s]: 3 };
  Object.defineProperty(src, 'hidden', { value: 4, enumerable: false });
  const o = { z: 0, ...src, c: 5 };
  assertEquals(Object.keys(o).join(), 'z,b,a,c');
  assertEquals(o[s], 3);
  assert(!('hidden' in o));
  const d = Object.getOwnPropertyDescriptor(o, 'a');
  assert(d.writable && d.enumerable && d.configurable);
});

test('getters of the source run once, in key order, and their values are copied', () => {
  const log = [];
  const src = { get x() { log.push('x'); return 1; }, get y() { log.push('y'); return 2; } };
  const o = { ...src };
  assertEquals(log.join(), 'x,y');
  assertEquals(Object.getOwnPropertyDescriptor(o, 'x').value, 1);
});

test('inherited properties are not copied; null, undefined and numbers add nothing; strings spread', () => {
  const proto = { inherited: 1 };
  const o = { ...Object.create(proto), ...null, ...undefined, ...42, ...'ab' };
  assertEquals(JSON.stringify(o), '{"0":"a","1":"b"}');
});

test('a literal piece with an accessor keeps its accessor', () => {
  const base = { a: 1 };
  let n = 0;
  const o = { ...base, get g() { return ++n; } };
  assertEquals(typeof Object.getOwnPropertyDescriptor(o, 'g').get, 'function');
  assertEquals(o.g + o.g, 3);
});

test('a getter that throws stops the spread with its error', () => {
  const src = { get bad() { throw new RangeError('no'); } };
  assertThrows(() => ({ ...src }), RangeError);
});

test('__proto__ from a source is an own property, not the prototype', () => {
  const src = JSON.parse('{"__proto__": {"x": 1}}');
  const o = { ...src };
  assertEquals(Object.getPrototypeOf(o), Object.prototype);
  assertEquals(Object.getOwnPropertyDescriptor(o, '__proto__').value.x, 1);
});

export default { fetch: run };
