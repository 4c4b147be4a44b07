// structuredClone (lib/web/clone.c): the HTML structured clone algorithm, with transfer.
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

function dataCloneError(fn, message) {
  const e = assertThrows(fn, DOMException);
  assertEquals(e.name, 'DataCloneError');
  assertEquals(e.code, 25);
  if (message !== undefined) assertEquals(e.message, message);
  return e;
}

test('primitives clone to themselves', () => {
  for (const v of [undefined, null, true, false, 0, -0, 1.5, NaN, Infinity, '', 'héllo 😀']) {
    assert(Object.is(structuredClone(v), v), String(v));
  }
});

test('wrapper objects', () => {
  const b = structuredClone(new Boolean(false));
  assertEquals([typeof b, b.valueOf()], ['object', false]);
  const n = structuredClone(new Number(42));
  assertEquals([typeof n, n.valueOf()], ['object', 42]);
  const s = structuredClone(new String('abc'));
  assertEquals([typeof s, s.valueOf(), s.length], ['object', 'abc', 3]);
});

test('Date and RegExp', () => {
  const d = new Date(1700000000123);
  const dc = structuredClone(d);
  assert(dc instanceof Date && dc !== d);
  assertEquals(dc.getTime(), 1700000000123);
  assert(Number.isNaN(structuredClone(new Date(NaN)).getTime()));
  const r = /a+b/gi;
  r.lastIndex = 3;
  const rc = structuredClone(r);
  assert(rc instanceof RegExp && rc !== r);
  assertEquals([rc.source, rc.flags, rc.lastIndex], ['a+b', 'gi', 0]);
});

test('a replaced global Date or RegExp does not change clones', () => {
  const { Date: D, RegExp: R } = globalThis;
  try {
    globalThis.Date = function () { return { fake: true }; };
    globalThis.RegExp = function () { return { fake: true }; };
    assert(structuredClone(new D(5)) instanceof D);
    assert(structuredClone(/x/) instanceof R);
  } finally {
    globalThis.Date = D;
    globalThis.RegExp = R;
  }
});

test('plain objects and arrays, deep', () => {
  const o = { a: 1, b: { c: [1, 2, { d: 'x' }] }, e: null };
  const c = structuredClone(o);
  assert(c !== o && c.b !== o.b && c.b.c !== o.b.c);
  assertEquals(c, o);
  const sparse = [1, , 3];
  sparse.extra = 'y';
  const sc = structuredClone(sparse);
  assertEquals(sc.length, 3);
  assert(!(1 in sc));
  assertEquals(sc.extra, 'y');
});

test('cycles and shared references are kept', () => {
  const shared = { s: 1 };
  const o = { x: shared, y: shared };
  o.self = o;
  const arr = [o];
  o.arr = arr;
  const c = structuredClone(o);
  assert(c.self === c);
  assert(c.x === c.y && c.x !== shared);
  assert(c.arr[0] === c);
});

test('class instances become plain objects; only own enumerable string keys', () => {
  class P { constructor() { this.v = 1; } get g() { return 2; } }
  const c = structuredClone(new P());
  assertEquals(Object.getPrototypeOf(c), Object.prototype);
  assertEquals(c, { v: 1 });
  const o = { visible: 1, [Symbol('s')]: 2 };
  Object.defineProperty(o, 'hidden', { value: 3, enumerable: false });
  assertEquals(structuredClone(o), { visible: 1 });
});

test('getters run and their values are copied', () => {
  let calls = 0;
  const o = { get x() { calls++; return 'got'; } };
  const c = structuredClone(o);
  assertEquals(calls, 1);
  assertEquals(Object.getOwnPropertyDescriptor(c, 'x').value, 'got');
});

test('Map and Set, with object keys and cycles', () => {
  const k = { key: true };
  const m = new Map([[k, 'v'], ['s', k]]);
  m.set('me', m);
  const mc = structuredClone(m);
  assert(mc instanceof Map && mc !== m);
  assertEquals(mc.size, 3);
  const [ck] = mc.keys();
  assertEquals(ck, { key: true });
  assert(ck !== k);
  assert(mc.get('s') === ck);
  assert(mc.get('me') === mc);
  assertEquals(mc.get(ck), 'v');
  const s = new Set([1, 'two', k]);
  const sc = structuredClone(s);
  assert(sc instanceof Set);
  assertEquals([...sc].slice(0, 2), [1, 'two']);
  assertEquals(sc.size, 3);
});

test('ArrayBuffer, typed arrays and DataView', () => {
  const ab = new ArrayBuffer(8);
  const u8 = new Uint8Array(ab);
  u8.set([1, 2, 3, 4, 5, 6, 7, 8]);
  const abc = structuredClone(ab);
  assert(abc instanceof ArrayBuffer && abc !== ab);
  assertEquals(abc.byteLength, 8);
  assertEquals(new Uint8Array(abc)[7], 8);
  u8[0] = 99;
  assertEquals(new Uint8Array(abc)[0], 1);
  const f = new Float64Array([1.5, -2]);
  const fc = structuredClone(f);
  assert(fc instanceof Float64Array);
  assertEquals([fc[0], fc[1]], [1.5, -2]);
  const view = new Uint16Array(ab, 2, 2);
  const dv = new DataView(ab, 4, 4);
  const c = structuredClone({ view, dv, u8 });
  assert(c.view instanceof Uint16Array && c.dv instanceof DataView);
  assertEquals([c.view.byteOffset, c.view.length, c.dv.byteOffset, c.dv.byteLength], [2, 2, 4, 4]);
  assert(c.view.buffer === c.dv.buffer && c.dv.buffer === c.u8.buffer, 'views of one buffer share its clone');
  assertEquals(c.dv.getUint8(0), 5);
});

test('Error types keep name, message and stack', () => {
  const e = structuredClone(new RangeError('out'));
  assert(e instanceof RangeError);
  assertEquals([e.name, e.message], ['RangeError', 'out']);
  assertEquals(typeof e.stack, 'string');
  const te = structuredClone(new TypeError('t'));
  assert(te instanceof TypeError);
  class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
  const me = structuredClone(new MyError('mine'));
  assertEquals([Object.getPrototypeOf(me) === Error.prototype, me.message], [true, 'mine']);
  const de = structuredClone(new DOMException('gone', 'NotFoundError'));
  assert(de instanceof DOMException);
  assertEquals([de.name, de.message, de.code], ['NotFoundError', 'gone', 8]);
});

test('functions, symbols and platform objects are DataCloneErrors', () => {
  dataCloneError(() => structuredClone(function f() {}));
  dataCloneError(() => structuredClone(() => 1));
  dataCloneError(() => structuredClone(Symbol('s')), 'Symbol(s) could not be cloned.');
  dataCloneError(() => structuredClone({ nested: [Symbol.iterator] }));
  dataCloneError(() => structuredClone(Promise.resolve(1)), '#<Promise> could not be cloned.');
  dataCloneError(() => structuredClone(new Request('https://example.com/')), '#<Request> could not be cloned.');
  dataCloneError(() => structuredClone(new Headers()));
  dataCloneError(() => structuredClone(new EventTarget()));
  dataCloneError(() => structuredClone(new URL('https://a.example/')));
});

test('transfer detaches the ArrayBuffer and moves its bytes', () => {
  const ab = new Uint8Array([1, 2, 3]).buffer;
  const c = structuredClone({ ab }, { transfer: [ab] });
  assertEquals(ab.byteLength, 0);
  assertEquals(new Uint8Array(ab).length, 0);
  assertEquals([...new Uint8Array(c.ab)], [1, 2, 3]);
  dataCloneError(() => structuredClone(ab), 'An ArrayBuffer is detached and could not be cloned.');
  dataCloneError(() => structuredClone(1, { transfer: [ab] }));
});

test('transfer errors leave the buffers attached', () => {
  const ab = new ArrayBuffer(4);
  dataCloneError(() => structuredClone(ab, { transfer: [ab, ab] }));
  assertEquals(ab.byteLength, 4);
  dataCloneError(() => structuredClone([ab, () => 1], { transfer: [ab] }));
  assertEquals(ab.byteLength, 4);
  dataCloneError(() => structuredClone(1, { transfer: [{}] }));
  assertThrows(() => structuredClone(1, { transfer: [1] }), TypeError);
  assertThrows(() => structuredClone(1, { transfer: 5 }), TypeError);
  assertThrows(() => structuredClone(1, 5), TypeError);
  assertThrows(() => structuredClone(), TypeError);
  assertEquals(structuredClone(7, { transfer: [] }), 7);
  assertEquals(structuredClone(7, null), 7);
});

test('very deep nesting is a RangeError, not a crash', () => {
  let o = {};
  for (let i = 0; i < 100000; i++) o = { o };
  assertThrows(() => structuredClone(o), RangeError);
});

// ---- MessagePort transfer ----

function nextMessage(port) {
  return new Promise((resolve) => { port.onmessage = (e) => resolve(e); });
}

test('structuredClone transfers a MessagePort: the clone is entangled, the original detached', async () => {
  const { port1, port2 } = new MessageChannel();
  const moved = structuredClone(port1, { transfer: [port1] });
  assert(moved instanceof MessagePort && moved !== port1);
  const got = nextMessage(port2);
  moved.postMessage('from the moved port');
  assertEquals((await got).data, 'from the moved port');
  const back = nextMessage(moved);
  port2.postMessage({ n: 1 });
  assertEquals((await back).data.n, 1);
  // the old port is detached: it sends nothing and cannot be transferred again
  port1.postMessage('lost');
  assertThrows(() => structuredClone(port1, { transfer: [port1] }), DOMException, /already neutered/);
});

test('a port inside the value maps to its transferred clone, shared references kept', () => {
  const { port1 } = new MessageChannel();
  const out = structuredClone({ a: port1, b: [port1] }, { transfer: [port1] });
  assert(out.a instanceof MessagePort && out.a !== port1);
  assert(out.b[0] === out.a);
});

test('a port not in the transfer list cannot be cloned', () => {
  const { port1 } = new MessageChannel();
  assertThrows(() => structuredClone(port1), DOMException, /could not be cloned/);
});

test('transfer list errors: duplicate ports', () => {
  const { port1 } = new MessageChannel();
  assertThrows(() => structuredClone(1, { transfer: [port1, port1] }), DOMException,
    /Port at index 1 is a duplicate of an earlier port\./);
});

test('postMessage transfers a port: the receiver gets it in event.ports and can talk through it', async () => {
  const a = new MessageChannel(), b = new MessageChannel();
  const arrived = nextMessage(a.port2);
  a.port1.postMessage({ hello: 'there', reply: b.port1 }, [b.port1]);
  const e = await arrived;
  assertEquals(e.ports.length, 1);
  assert(e.data.reply === e.ports[0]);
  const answered = nextMessage(b.port2);
  e.ports[0].postMessage('over the transferred port');
  assertEquals((await answered).data, 'over the transferred port');
});

test('postMessage refuses to transfer the posting port itself', () => {
  const { port1 } = new MessageChannel();
  assertThrows(() => port1.postMessage('x', [port1]), DOMException, /Port at index 0 contains the source port\./);
});

test('messages waiting at a port move with it', async () => {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage('queued before the transfer'); // port2 not started: it waits in port2's queue
  const moved = structuredClone(port2, { transfer: [port2] });
  assertEquals((await nextMessage(moved)).data, 'queued before the transfer');
});

export default { fetch: run };
