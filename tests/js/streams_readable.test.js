// ReadableStream: default streams, readers, locking, cancel, errors, async iteration, from() (WPT-style cases).
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

const LOCKED = 'This ReadableStream is currently locked to a reader.';
const RELEASED = 'This ReadableStream reader has been released.';

function fromArray(chunks) {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
}

test('globals exist and are lazily defined classes', () => {
  assertEquals(typeof ReadableStream, 'function');
  assertEquals(Object.prototype.toString.call(new ReadableStream()), '[object ReadableStream]');
  assertEquals(typeof ReadableStreamDefaultReader, 'function');
  assertEquals(typeof ReadableStreamBYOBReader, 'function');
  assertEquals(typeof ReadableByteStreamController, 'function');
  assertThrows(() => new ReadableStreamDefaultController(), TypeError, 'Illegal constructor');
});

test('reads chunks in order, then done', async () => {
  const r = fromArray(['a', 'b']).getReader();
  assertEquals(await r.read(), { value: 'a', done: false });
  assertEquals(await r.read(), { value: 'b', done: false });
  assertEquals(await r.read(), { value: undefined, done: true });
  assertEquals(await r.read(), { value: undefined, done: true });
  await r.closed;
});

test('getReader locks; a second reader throws TypeError', () => {
  const s = new ReadableStream();
  assertEquals(s.locked, false);
  const r = s.getReader();
  assertEquals(s.locked, true);
  assertThrows(() => s.getReader(), TypeError, LOCKED);
  assertThrows(() => new ReadableStreamDefaultReader(s), TypeError, LOCKED);
  r.releaseLock();
  assertEquals(s.locked, false);
  s.getReader();
});

test('releaseLock rejects pending reads and closed; read after release rejects', async () => {
  const s = new ReadableStream();
  const r = s.getReader();
  const pending = r.read();
  const closed = r.closed;
  r.releaseLock();
  await assertRejects(pending, TypeError, RELEASED);
  await assertRejects(closed, TypeError, RELEASED);
  await assertRejects(r.read(), TypeError, RELEASED);
  await assertRejects(r.cancel(), TypeError, RELEASED);
});

test('cancel on a locked stream rejects; cancel reason reaches the source', async () => {
  let reason;
  const s = new ReadableStream({ cancel(r) { reason = r; } });
  const r = s.getReader();
  await assertRejects(s.cancel('x'), TypeError, LOCKED);
  await r.cancel('because');
  assertEquals(reason, 'because');
  assertEquals(await r.read(), { value: undefined, done: true });
});

test('cancel drops queued chunks and resolves with undefined', async () => {
  const s = fromArray([1, 2, 3]);
  assertEquals(await s.cancel(), undefined);
  const r = s.getReader();
  assertEquals((await r.read()).done, true);
});

test('controller.error rejects reads and closed with the same error', async () => {
  const e = new Error('boom');
  let ctrl;
  const s = new ReadableStream({ start(c) { ctrl = c; } });
  const r = s.getReader();
  const p = r.read();
  ctrl.error(e);
  assertEquals(await p.catch((x) => x), e);
  assertEquals(await r.closed.catch((x) => x), e);
  assertEquals(await r.cancel().catch((x) => x), e);
});

test('a throwing start errors the stream; constructor throws only for bad arguments', async () => {
  const e = new Error('start failed');
  assertThrows(() => new ReadableStream({ start() { throw e; } }), Error, 'start failed');
  const s = new ReadableStream({ start() { return Promise.reject(e); } });
  assertEquals(await s.getReader().read().catch((x) => x), e);
  assertThrows(() => new ReadableStream({ type: 'nope' }), TypeError);
  assertThrows(() => new ReadableStream({ pull: 5 }), TypeError);
  assertThrows(() => new ReadableStream({}, { highWaterMark: -1 }), RangeError);
});

test('pull is called on demand and respects highWaterMark', async () => {
  let pulls = 0;
  const s = new ReadableStream({
    pull(c) {
      pulls++;
      c.enqueue(pulls);
      if (pulls === 5) c.close();
    },
  }, { highWaterMark: 2 });
  await Promise.resolve();
  await Promise.resolve();
  assert(pulls <= 3, `pulled ${pulls} times before any read`);
  const out = [];
  for await (const x of s) out.push(x);
  assertEquals(out, [1, 2, 3, 4, 5]);
});

test('desiredSize follows the queue and the size function', () => {
  let ctrl;
  new ReadableStream({ start(c) { ctrl = c; } }, { highWaterMark: 10, size: (chunk) => chunk.length });
  assertEquals(ctrl.desiredSize, 10);
  ctrl.enqueue('abcd');
  assertEquals(ctrl.desiredSize, 6);
  ctrl.close();
  assertEquals(ctrl.desiredSize, 6);
  assertThrows(() => ctrl.enqueue('x'), TypeError);
});

test('a size function returning NaN errors the stream and throws RangeError', async () => {
  let ctrl;
  const s = new ReadableStream({ start(c) { ctrl = c; } }, { size: () => NaN });
  assertThrows(() => ctrl.enqueue('x'), RangeError);
  await assertRejects(s.getReader().closed, RangeError);
});

test('async iteration reads everything; break cancels the stream', async () => {
  const got = [];
  for await (const x of fromArray([1, 2, 3])) got.push(x);
  assertEquals(got, [1, 2, 3]);

  let cancelled = false;
  const s = new ReadableStream({
    pull(c) { c.enqueue('x'); },
    cancel() { cancelled = true; },
  });
  for await (const x of s) {
    assertEquals(x, 'x');
    break;
  }
  assert(cancelled, 'break must cancel the stream');
  assertEquals(s.locked, false);
});

test('values({preventCancel: true}) leaves the stream readable after break', async () => {
  let cancelled = false;
  const s = new ReadableStream({ pull(c) { c.enqueue(1); }, cancel() { cancelled = true; } });
  for await (const x of s.values({ preventCancel: true })) break;
  assertEquals(cancelled, false);
  assertEquals(s.locked, false);
  assertEquals((await s.getReader().read()).value, 1);
});

test('async iteration of an errored stream throws the error', async () => {
  const e = new TypeError('bad');
  const s = new ReadableStream({ start(c) { c.error(e); } });
  try {
    for await (const x of s) throw new Error('unreachable');
    throw new Error('no throw');
  } catch (x) {
    assertEquals(x, e);
  }
});

test('Symbol.asyncIterator is values', () => {
  assertEquals(ReadableStream.prototype[Symbol.asyncIterator], ReadableStream.prototype.values);
});

test('ReadableStream.from(array, async generator, string)', async () => {
  const out = [];
  for await (const x of ReadableStream.from([1, Promise.resolve(2), 3])) out.push(x);
  assertEquals(out, [1, 2, 3]);
  async function* gen() {
    yield 'a';
    yield 'b';
  }
  const out2 = [];
  for await (const x of ReadableStream.from(gen())) out2.push(x);
  assertEquals(out2, ['a', 'b']);
  const out3 = [];
  for await (const x of ReadableStream.from('hi')) out3.push(x);
  assertEquals(out3, ['h', 'i']);
  assertThrows(() => ReadableStream.from(5), TypeError);
});

test('from(): cancel calls the iterator return()', async () => {
  let returned = false;
  const it = {
    [Symbol.asyncIterator]() { return this; },
    next() { return Promise.resolve({ value: 1, done: false }); },
    return() { returned = true; return Promise.resolve({ done: true }); },
  };
  const s = ReadableStream.from(it);
  const r = s.getReader();
  await r.read();
  await r.cancel('stop');
  assert(returned);
});

test('tee: both branches see every chunk; cancel of both cancels the source with both reasons', async () => {
  let reason;
  const s = new ReadableStream({
    start(c) { c.enqueue('a'); c.enqueue('b'); },
    cancel(r) { reason = r; },
  });
  const [b1, b2] = s.tee();
  assert(s.locked);
  const r1 = b1.getReader();
  const r2 = b2.getReader();
  assertEquals((await r1.read()).value, 'a');
  assertEquals((await r2.read()).value, 'a');
  assertEquals((await r2.read()).value, 'b');
  // Each branch's cancel settles once both branches have cancelled (the source is cancelled once).
  await Promise.all([r1.cancel('one'), r2.cancel('two')]);
  assertEquals(reason, ['one', 'two']);
});

test('tee: an error reaches both branches', async () => {
  let ctrl;
  const s = new ReadableStream({ start(c) { ctrl = c; } });
  const [b1, b2] = s.tee();
  const e = new Error('x');
  ctrl.error(e);
  assertEquals(await b1.getReader().closed.catch((x) => x), e);
  assertEquals(await b2.getReader().closed.catch((x) => x), e);
});

test('illegal invocation of methods and getters', async () => {
  assertThrows(() => ReadableStream.prototype.getReader.call({}), TypeError, 'Illegal invocation');
  await assertRejects(ReadableStream.prototype.cancel.call({}), TypeError, 'Illegal invocation');
  assertThrows(() => Object.getOwnPropertyDescriptor(ReadableStream.prototype, 'locked').get.call({}), TypeError);
});

export default { fetch: run };
