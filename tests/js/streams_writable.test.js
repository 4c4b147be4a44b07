// WritableStream, TransformStream, pipeTo/pipeThrough and the queuing strategies (WPT-style cases).
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

const WLOCKED = 'This WritableStream is currently locked to a writer.';

function recorder(extra = {}) {
  const log = [];
  const ws = new WritableStream({
    write(chunk) { log.push(chunk); },
    close() { log.push('<close>'); },
    abort(r) { log.push(`<abort ${r}>`); },
    ...extra,
  });
  return { ws, log };
}

test('writer writes in order, then closes', async () => {
  const { ws, log } = recorder();
  const w = ws.getWriter();
  await w.write('a');
  await w.write('b');
  await w.close();
  await w.closed;
  assertEquals(log, ['a', 'b', '<close>']);
});

test('getWriter locks; locked stream abort/close reject', async () => {
  const { ws } = recorder();
  const w = ws.getWriter();
  assertEquals(ws.locked, true);
  assertThrows(() => ws.getWriter(), TypeError, WLOCKED);
  await assertRejects(ws.abort(), TypeError, WLOCKED);
  await assertRejects(ws.close(), TypeError, WLOCKED);
  w.releaseLock();
  assertEquals(ws.locked, false);
  await assertRejects(w.write('x'), TypeError, 'This WritableStream writer has been released.');
  assertThrows(() => w.desiredSize, TypeError);
});

test('desiredSize and ready reflect backpressure', async () => {
  let release;
  const ws = new WritableStream({
    write() { return new Promise((r) => { release = r; }); },
  }, new CountQueuingStrategy({ highWaterMark: 2 }));
  const w = ws.getWriter();
  assertEquals(w.desiredSize, 2);
  w.write(1);
  w.write(2);
  assertEquals(w.desiredSize, 0);
  let ready = false;
  w.ready.then(() => { ready = true; });
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(ready, false);
  await new Promise((r) => setTimeout(r, 0));
  release();
  await new Promise((r) => setTimeout(r, 0));
  release();
  await w.ready;
  assertEquals(w.desiredSize > 0, true);
});

test('abort rejects queued writes, waits for the one in flight, then calls the sink abort', async () => {
  const { ws, log } = recorder({
    write(chunk) { log.push(chunk); return new Promise((r) => setTimeout(r, 1)); },
  });
  const w = ws.getWriter();
  await new Promise((r) => setTimeout(r, 0)); // let start() finish: writes before that are not in flight
  const p1 = w.write('a');
  const p2 = w.write('b');
  const reason = new Error('stop');
  const aborted = w.abort(reason);
  assertEquals(await p2.catch((x) => x), reason);
  await p1;
  await aborted;
  assertEquals(log, ['a', '<abort Error: stop>']);
  assertEquals(await w.closed.catch((x) => x), reason);
  assertEquals(await w.ready.catch((x) => x), reason);
});

test('a throwing sink write errors the stream', async () => {
  const e = new Error('sink');
  const ws = new WritableStream({ write() { throw e; } });
  const w = ws.getWriter();
  assertEquals(await w.write('x').catch((x) => x), e);
  assertEquals(await w.closed.catch((x) => x), e);
  assertEquals(await w.write('y').catch((x) => x), e);
});

test('close after close rejects; write after close rejects', async () => {
  const { ws } = recorder();
  const w = ws.getWriter();
  w.close();
  await assertRejects(w.close(), TypeError);
  await assertRejects(w.write('x'), TypeError);
});

test('controller.signal is an AbortSignal when AbortController exists', () => {
  let signal;
  new WritableStream({ start(c) { signal = c.signal; } });
  if (typeof AbortController === 'function') assert(signal instanceof AbortSignal);
  else assertEquals(signal, undefined);
});

test('strategies: ByteLengthQueuingStrategy and CountQueuingStrategy', () => {
  const b = new ByteLengthQueuingStrategy({ highWaterMark: 16 });
  assertEquals(b.highWaterMark, 16);
  assertEquals(b.size(new Uint8Array(5)), 5);
  const c = new CountQueuingStrategy({ highWaterMark: 3 });
  assertEquals(c.highWaterMark, 3);
  assertEquals(c.size('anything'), 1);
  assertEquals(c.size.name, 'size');
  assertThrows(() => new CountQueuingStrategy(), TypeError);
  assertThrows(() => new CountQueuingStrategy({}), TypeError);
  assertThrows(() => CountQueuingStrategy({ highWaterMark: 1 }), TypeError);
});

test('TransformStream with a transformer maps chunks; flush adds a tail', async () => {
  const ts = new TransformStream({
    transform(chunk, c) { c.enqueue(chunk.toUpperCase()); },
    flush(c) { c.enqueue('!'); },
  });
  const w = ts.writable.getWriter();
  w.write('a');
  w.write('b');
  w.close();
  const out = [];
  for await (const x of ts.readable) out.push(x);
  assertEquals(out, ['A', 'B', '!']);
});

test('TransformStream: identity by default, and write() waits for a read (readable HWM 0)', async () => {
  const { readable, writable } = new TransformStream();
  const w = writable.getWriter();
  let written = false;
  const p = w.write('x').then(() => { written = true; });
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(written, false);
  const r = readable.getReader();
  assertEquals((await r.read()).value, 'x');
  await p;
  assertEquals(written, true);
});

test('TransformStream: a throwing transform errors both sides', async () => {
  const e = new Error('t');
  const ts = new TransformStream({ transform() { throw e; } });
  const w = ts.writable.getWriter();
  const r = ts.readable.getReader();
  const read = r.read(); // the write waits for demand from the readable side
  assertEquals(await w.write('x').catch((x) => x), e);
  assertEquals(await read.catch((x) => x), e);
});

test('TransformStream: terminate closes the readable and errors the writable', async () => {
  const ts = new TransformStream({ start(c) { c.terminate(); } });
  const r = ts.readable.getReader();
  assertEquals((await r.read()).done, true);
  await assertRejects(ts.writable.getWriter().write('x'), TypeError);
});

test('TransformStream: cancelling the readable errors the writable with the reason', async () => {
  const ts = new TransformStream();
  const w = ts.writable.getWriter();
  await ts.readable.cancel('bye');
  assertEquals(await w.closed.catch((x) => x), 'bye');
});

test('pipeTo copies everything and closes the destination', async () => {
  const { ws, log } = recorder();
  const rs = ReadableStream.from(['a', 'b', 'c']);
  await rs.pipeTo(ws);
  assertEquals(log, ['a', 'b', 'c', '<close>']);
  assertEquals(rs.locked, false);
  assertEquals(ws.locked, false);
});

test('pipeTo preventClose leaves the destination open', async () => {
  const { ws, log } = recorder();
  await ReadableStream.from(['a']).pipeTo(ws, { preventClose: true });
  assertEquals(log, ['a']);
  const w = ws.getWriter();
  await w.write('b');
  assertEquals(log, ['a', 'b']);
});

test('pipeTo: a source error aborts the destination (unless preventAbort)', async () => {
  const e = new Error('src');
  const errored = () => new ReadableStream({ start(c) { c.error(e); } });
  let r1 = recorder();
  assertEquals(await errored().pipeTo(r1.ws).catch((x) => x), e);
  assertEquals(r1.log, ['<abort Error: src>']);
  let r2 = recorder();
  assertEquals(await errored().pipeTo(r2.ws, { preventAbort: true }).catch((x) => x), e);
  assertEquals(r2.log, []);
});

test('pipeTo: a destination error cancels the source (unless preventCancel)', async () => {
  const e = new Error('dst');
  let cancelled;
  const rs = new ReadableStream({ pull(c) { c.enqueue('x'); }, cancel(r) { cancelled = r; } });
  const ws = new WritableStream({ write() { throw e; } });
  assertEquals(await rs.pipeTo(ws).catch((x) => x), e);
  assertEquals(cancelled, e);

  cancelled = undefined;
  const rs2 = new ReadableStream({ pull(c) { c.enqueue('x'); }, cancel(r) { cancelled = r; } });
  const ws2 = new WritableStream({ write() { throw e; } });
  assertEquals(await rs2.pipeTo(ws2, { preventCancel: true }).catch((x) => x), e);
  assertEquals(cancelled, undefined);
  assertEquals(rs2.locked, false);
});

test('pipeTo with an aborted signal rejects with the reason and cancels/aborts', async () => {
  if (typeof AbortController !== 'function') return;
  const ac = new AbortController();
  const reason = new Error('aborted');
  ac.abort(reason);
  let cancelled;
  const rs = new ReadableStream({ cancel(r) { cancelled = r; } });
  const { ws, log } = recorder();
  assertEquals(await rs.pipeTo(ws, { signal: ac.signal }).catch((x) => x), reason);
  assertEquals(cancelled, reason);
  assertEquals(log, ['<abort Error: aborted>']);
});

test('pipeTo rejects for locked streams and bad arguments', async () => {
  const rs = new ReadableStream();
  rs.getReader();
  await assertRejects(rs.pipeTo(new WritableStream()), TypeError, 'This ReadableStream is currently locked to a reader.');
  const ws = new WritableStream();
  ws.getWriter();
  await assertRejects(new ReadableStream().pipeTo(ws), TypeError, 'This WritableStream is currently locked to a writer.');
  await assertRejects(new ReadableStream().pipeTo({}), TypeError);
});

test('pipeThrough returns the readable side and streams through', async () => {
  const out = ReadableStream.from(['x', 'y']).pipeThrough(new TransformStream({
    transform(chunk, c) { c.enqueue(chunk + chunk); },
  }));
  const got = [];
  for await (const v of out) got.push(v);
  assertEquals(got, ['xx', 'yy']);
  assertThrows(() => new ReadableStream().pipeThrough({}), TypeError);
});

test('the seed pattern: a TransformStream written after the Response is made', async () => {
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  (async () => {
    try {
      for (let i = 0; i < 3; i++) await writer.write(new TextEncoder().encode(`line ${i}\n`));
    } finally {
      await writer.close();
    }
  })();
  const res = new Response(readable, { headers: { 'Content-Type': 'text/plain' } });
  assertEquals(await res.text(), 'line 0\nline 1\nline 2\n');
});

export default { fetch: run };
