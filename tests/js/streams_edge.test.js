// More edge cases of the Streams Standard (WPT-style): promise identity, ordering, releaseLock with
// pending operations, closed promises, strategies on TransformStream sides, BYOB after close.
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

test('reader.closed resolves when the stream closes and is the same promise each time', async () => {
  let ctrl;
  const s = new ReadableStream({ start(c) { ctrl = c; } });
  const r = s.getReader();
  assertEquals(r.closed, r.closed);
  let closed = false;
  r.closed.then(() => { closed = true; });
  ctrl.close();
  await r.closed;
  assert(closed);
});

test('chunks enqueued before close are still read; close after close throws', async () => {
  let ctrl;
  const s = new ReadableStream({ start(c) { ctrl = c; } });
  ctrl.enqueue('a');
  ctrl.close();
  assertThrows(() => ctrl.close(), TypeError);
  const r = s.getReader();
  assertEquals(await r.read(), { value: 'a', done: false });
  assertEquals((await r.read()).done, true);
});

test('read requests are fulfilled in the order they were made', async () => {
  let ctrl;
  const s = new ReadableStream({ start(c) { ctrl = c; } });
  const r = s.getReader();
  const p1 = r.read();
  const p2 = r.read();
  const p3 = r.read();
  ctrl.enqueue(1);
  ctrl.enqueue(2);
  ctrl.close();
  assertEquals([await p1, await p2, await p3], [
    { value: 1, done: false }, { value: 2, done: false }, { value: undefined, done: true },
  ]);
});

test('writer.releaseLock with a write in flight: the write still completes, closed rejects', async () => {
  let finish;
  const ws = new WritableStream({ write() { return new Promise((r) => { finish = r; }); } });
  const w = ws.getWriter();
  await new Promise((r) => setTimeout(r, 0));
  const p = w.write('x');
  await new Promise((r) => setTimeout(r, 0));
  w.releaseLock();
  await assertRejects(w.closed, TypeError);
  await assertRejects(w.ready, TypeError);
  finish();
  await p;
  const w2 = ws.getWriter();
  await w2.close();
});

test('writer.closed resolves after close; ready is fulfilled while there is room', async () => {
  const ws = new WritableStream();
  const w = ws.getWriter();
  await w.ready;
  assertEquals(w.desiredSize, 1);
  await w.close();
  await w.closed;
  assertEquals(w.desiredSize, 0);
});

test('TransformStream strategies: writable HWM lets writes run ahead of reads', async () => {
  const ts = new TransformStream({}, new CountQueuingStrategy({ highWaterMark: 3 }),
    new CountQueuingStrategy({ highWaterMark: 2 }));
  const w = ts.writable.getWriter();
  assertEquals(w.desiredSize, 3);
  let writes = 0;
  for (let i = 0; i < 3; i++) w.write(i).then(() => { writes++; });
  await new Promise((r) => setTimeout(r, 0));
  assert(writes >= 2, `only ${writes} writes completed with room on the readable side`);
  const r = ts.readable.getReader();
  assertEquals((await r.read()).value, 0);
});

test('TransformStreamDefaultController.desiredSize follows the readable side', async () => {
  let ctrl;
  const ts = new TransformStream({ start(c) { ctrl = c; } }, undefined, { highWaterMark: 2 });
  assertEquals(ctrl.desiredSize, 2);
  ctrl.enqueue('a');
  assertEquals(ctrl.desiredSize, 1);
  void ts;
});

test('flush errors reject close and error the readable side', async () => {
  const e = new Error('flush');
  const ts = new TransformStream({ flush() { throw e; } });
  const reading = ts.readable.getReader().read();
  assertEquals(await ts.writable.getWriter().close().catch((x) => x), e);
  assertEquals(await reading.catch((x) => x), e);
});

test('BYOB read on a closed byte stream returns done with an empty view of the same type', async () => {
  const s = new ReadableStream({ type: 'bytes', start(c) { c.close(); } });
  const r = s.getReader({ mode: 'byob' });
  const { value, done } = await r.read(new Uint16Array(4));
  assertEquals(done, true);
  assert(value instanceof Uint16Array);
  assertEquals(value.length, 0);
});

test('autoAllocateChunkSize gives a default reader a byobRequest to fill', async () => {
  const s = new ReadableStream({
    type: 'bytes',
    autoAllocateChunkSize: 8,
    pull(c) {
      const v = c.byobRequest.view;
      assertEquals(v.byteLength, 8);
      v[0] = 7;
      c.byobRequest.respond(1);
      c.close();
    },
  });
  const r = s.getReader();
  const { value } = await r.read();
  assertEquals(value, new Uint8Array([7]));
  assertEquals((await r.read()).done, true);
});

test('pipeTo waits for the destination: a slow sink sees every chunk in order', async () => {
  const seen = [];
  const ws = new WritableStream({
    write(chunk) {
      seen.push(chunk);
      return new Promise((r) => setTimeout(r, 1));
    },
  });
  await ReadableStream.from([1, 2, 3, 4, 5]).pipeTo(ws);
  assertEquals(seen, [1, 2, 3, 4, 5]);
});

test('an async iterator return() twice is harmless; next after return is done', async () => {
  const s = ReadableStream.from([1, 2]);
  const it = s.values();
  assertEquals(await it.next(), { value: 1, done: false });
  assertEquals(await it.return('r'), { value: 'r', done: true });
  assertEquals(await it.return('s'), { value: 's', done: true });
  assertEquals(await it.next(), { value: undefined, done: true });
});

test('strategy size is called with the chunk; ByteLengthQueuingStrategy on a ReadableStream', () => {
  let ctrl;
  new ReadableStream({ start(c) { ctrl = c; } }, new ByteLengthQueuingStrategy({ highWaterMark: 10 }));
  ctrl.enqueue(new Uint8Array(4));
  assertEquals(ctrl.desiredSize, 6);
});

export default { fetch: run };
