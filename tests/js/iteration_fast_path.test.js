// for-of, array patterns and spread index arrays directly when their iteration is the intrinsic one
// (lib/core/builtin_iterfast.c) and follow the iterator protocol otherwise: what a user can observe must be
// the same on both paths.
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

const AP = Array.prototype;
const values = AP[Symbol.iterator];
const ArrayIteratorProto = Object.getPrototypeOf([][Symbol.iterator]());
const next = ArrayIteratorProto.next;

// Runs fn with Array.prototype[Symbol.iterator] replaced by one that logs and yields doubled values.
function withPatchedIterator(log, fn) {
  AP[Symbol.iterator] = function () {
    log.push('iter');
    return values.call(this.map((x) => x * 2));
  };
  try {
    fn();
  } finally {
    AP[Symbol.iterator] = values;
  }
}

test('a replaced Array.prototype[Symbol.iterator] is used by for-of, patterns and spread', () => {
  const log = [];
  withPatchedIterator(log, () => {
    const seen = [];
    for (const x of [1, 2]) seen.push(x);
    const [a, b] = [3, 4];
    const s = [...[5, 6]];
    const f = (...r) => r.join();
    assertEquals(seen.join(), '2,4');
    assertEquals(a + ',' + b, '6,8');
    assertEquals(s.join(), '10,12');
    assertEquals(f(...[7]), '14');
  });
  assertEquals(log.length, 4);
  const [c] = [1];
  assertEquals(c, 1);
});

test('a replaced %ArrayIteratorPrototype%.next is used', () => {
  let calls = 0;
  ArrayIteratorProto.next = function () {
    calls++;
    return next.call(this);
  };
  try {
    let sum = 0;
    for (const x of [1, 2, 3]) sum += x;
    const [a, b] = [4, 5];
    assertEquals(sum + a + b, 15);
    assertEquals([...[6, 7]].length, 2);
  } finally {
    ArrayIteratorProto.next = next;
  }
  assertEquals(calls, 4 + 2 + 3);
});

test('an own Symbol.iterator on an array wins', () => {
  const a = [1, 2, 3];
  a[Symbol.iterator] = function* () { yield 'x'; };
  const out = [];
  for (const v of a) out.push(v);
  const [first, second] = a;
  assertEquals(out.join() + '|' + [...a].join() + '|' + first + '|' + second, 'x|x|x|undefined');
});

test('Symbol.iterator is read once per iteration, also through a getter', () => {
  let reads = 0;
  const a = [1, 2];
  Object.defineProperty(a, Symbol.iterator, { get() { reads++; return values; } });
  for (const x of a) assert(x > 0);
  const [p] = a;
  const s = [...a];
  assertEquals(p + s.length, 3);
  assertEquals(reads, 3);
});

test('holes read as undefined, through the prototype chain like the iterator', () => {
  const a = [, 1, , 3];
  const seen = [];
  for (const x of a) seen.push(x);
  assertEquals(seen.length, 4);
  assertEquals(String(seen[0]) + String(seen[2]), 'undefinedundefined');
  const s = [...a];
  assert(0 in s, 'spread fills holes');
  AP[2] = 'proto';
  try {
    assertEquals([...a][2], 'proto');
    const [, , z] = a;
    assertEquals(z, 'proto');
  } finally {
    delete AP[2];
  }
});

test('array literal holes stay holes next to a spread', () => {
  const a = [, ...[1], , 2];
  assertEquals(a.length, 4);
  assert(!(0 in a) && 1 in a && !(2 in a) && 3 in a);
});

test('a setter on an Array.prototype index is not called by spread', () => {
  let called = false;
  Object.defineProperty(AP, 1, { set() { called = true; }, get() { return 'p'; }, configurable: true });
  try {
    const s = [...[7, 8, 9]];
    const c = [0, ...[7, 8]];
    assertEquals(Object.getOwnPropertyDescriptor(s, 1).value, 8);
    assertEquals(Object.getOwnPropertyDescriptor(c, 1).value, 7);
  } finally {
    delete AP[1];
  }
  assert(!called);
});

test('an array that grows during for-of yields the new items; one that shrinks stops early', () => {
  const a = [1, 2];
  const seen = [];
  for (const x of a) {
    seen.push(x);
    if (a.length < 4) a.push(x * 10);
  }
  assertEquals(seen.join(), '1,2,10,20');
  const b = [1, 2, 3, 4];
  const seen2 = [];
  for (const x of b) {
    seen2.push(x);
    b.length = 2;
  }
  assertEquals(seen2.join(), '1,2');
});

test('break, return and throw call return() of a non-array iterable, not of an array', () => {
  const log = [];
  const iterable = {
    [Symbol.iterator]() {
      let i = 0;
      return {
        next: () => ({ value: i++, done: i > 5 }),
        return: () => { log.push('return'); return {}; },
      };
    },
  };
  for (const x of iterable) if (x === 1) break;
  (() => { for (const x of iterable) return x; })();
  assertThrows(() => { for (const x of iterable) throw new RangeError(String(x)); }, RangeError);
  const [a] = iterable;
  assertEquals(a, 0);
  assertEquals(log.length, 4);
  for (const x of [1, 2]) if (x) break;
  assertEquals(log.length, 4);
});

test('a return method added to the array iterator prototype chain is called on early exit', () => {
  const IteratorProto = Object.getPrototypeOf(ArrayIteratorProto);
  let closed = 0;
  IteratorProto.return = function () { closed++; return {}; };
  try {
    for (const x of [1, 2, 3]) if (x === 2) break;
    const [a] = [1, 2];
    assertEquals(a, 1);
  } finally {
    delete IteratorProto.return;
  }
  assertEquals(closed, 2);
});

test('arguments objects, strings, Sets and Maps spread and iterate', () => {
  function args() { return [...arguments]; }
  function each() { const out = []; for (const x of arguments) out.push(x); return out; }
  function pat() { const [a, , c] = arguments; return a + c; }
  assertEquals(args(1, 2, 3).join(), '1,2,3');
  assertEquals(each('a', 'b').join(), 'a,b');
  assertEquals(pat(1, 2, 3), 4);
  assertEquals([...'a😀b'].length, 3);
  const [ch] = '😀x';
  assertEquals(ch.length, 2);
  assertEquals([...new Set([1, 1, 2])].join(), '1,2');
  const [[k, v]] = new Map([['k', 'v']]);
  assertEquals(k + v, 'kv');
  assertEquals(Math.max(...new Set([3, 9, 4])), 9);
});

test('typed arrays iterate through their own iterator', () => {
  const t = new Uint8Array([1, 2, 3]);
  const [a, b] = t;
  assertEquals([...t].join() + '|' + a + b, '1,2,3|12');
});

test('non-iterables throw TypeError; spread copies are fresh arrays', () => {
  assertThrows(() => [...{}], TypeError);
  assertThrows(() => { for (const x of 5) assert(x); }, TypeError);
  assertThrows(() => { const [a] = null; return a; }, TypeError);
  const src = [1, 2];
  const copy = [...src];
  copy.push(3);
  assertEquals(src.length + ',' + Object.getPrototypeOf(copy === src ? null : copy).constructor.name, '2,Array');
  const f = (...r) => r;
  const r = f(...src);
  assert(r !== src && r.join() === '1,2');
});

test('a Proxy of an array is read through its traps, once per step', () => {
  const log = [];
  const p = new Proxy([1, 2], { get(t, k) { log.push(typeof k === 'symbol' ? 'iter' : k); return t[k]; } });
  assertEquals([...p].join(), '1,2');
  assertEquals(log.join(), 'iter,length,0,length,1,length');
});

test('spread of other iterables follows the protocol: generators, errors, result checks', async () => {
  function* gen() { yield 1; yield 2; }
  assertEquals([...gen(), ...gen()].join(), '1,2,1,2');
  const later = async () => { await null; return [...gen()]; };
  assertEquals((await later()).join(), '1,2');
  let closed = 0;
  const throwing = { [Symbol.iterator]() { return { next() { throw new RangeError('n'); }, return() { closed++; } }; } };
  assertThrows(() => [...throwing], RangeError);
  assertEquals(closed, 0);
  const bad = { [Symbol.iterator]() { return { next() { return 1; } }; } };
  assertThrows(() => [...bad], TypeError);
  let setterCalled = false;
  Object.defineProperty(AP, 0, { set() { setterCalled = true; }, configurable: true });
  try {
    const s = [...new Set(['a'])];
    assertEquals(Object.getOwnPropertyDescriptor(s, 0).value, 'a');
    assertEquals(Object.getPrototypeOf(s), AP);
  } finally {
    delete AP[0];
  }
  assert(!setterCalled);
});

test('arrays longer than one packed batch spread whole, with holes', () => {
  const a = [];
  for (let i = 0; i < 100010; i++) a.push(i);
  const s = [...a];
  assertEquals(s.length + ':' + s[100009], '100010:100009');
  a[5] = undefined;
  delete a[6];
  const t = [...a, 'end'];
  assertEquals(t.length + ':' + t[100010] + ':' + (6 in t) + ':' + t[6], '100011:end:true:undefined');
});

test('plain properties after an object spread are defined in order, without setters', () => {
  let setterCalled = false;
  Object.defineProperty(Object.prototype, 'zz', { set() { setterCalled = true; }, configurable: true });
  try {
    const base = { a: 1, d: 0 };
    const d = 4, __proto__ = 5;
    const o = { ...base, zz: 2, d, 'quoted key': 3, __proto__ };
    assertEquals(Object.keys(o).join(), 'a,d,zz,quoted key,__proto__');
    assertEquals(o.d + o.zz + o['quoted key'], 9);
    assertEquals(Object.getPrototypeOf(o), Object.prototype);
    assert(Object.getOwnPropertyDescriptor(o, 'zz').writable);
    const order = [];
    const p = { ...{ x: order.push('spread') }, y: order.push('y'), z: order.push('z') };
    assertEquals(order.join() + '|' + p.y + p.z, 'spread,y,z|23');
  } finally {
    delete Object.prototype.zz;
  }
  assert(!setterCalled);
});

export default { fetch: run };
