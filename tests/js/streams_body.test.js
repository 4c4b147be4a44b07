// Request/Response bodies as ReadableStreams: .body, stream bodies, the body mixin on streams, clone().
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

const enc = new TextEncoder();
const USED = 'Body has already been used. It can only be used once. Use tee() first if you need to read it twice.';
const LOCKED = 'This ReadableStream is currently locked to a reader.';
const DISTURBED = 'This ReadableStream is disturbed (has already been read from), and cannot be used as a body.';

function streamOf(...parts) {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(typeof p === 'string' ? enc.encode(p) : p);
      c.close();
    },
  });
}

test('.body is null without a body, a ReadableStream with one, the same object each time', async () => {
  assertEquals(new Response().body, null);
  assertEquals(new Request('http://x/').body, null);
  const r = new Response('abc');
  const b = r.body;
  assert(b instanceof ReadableStream);
  assertEquals(r.body, b);
  assertEquals(r.bodyUsed, false);
  const { value } = await b.getReader().read();
  assertEquals(new TextDecoder().decode(value), 'abc');
  assertEquals(r.bodyUsed, true);
  await assertRejects(r.text(), TypeError, USED);
});

test('a locked body cannot be read', async () => {
  const r = new Response('abc');
  r.body.getReader();
  assertEquals(r.bodyUsed, false);
  await assertRejects(r.text(), TypeError, LOCKED);
});

test('new Response(stream): text, json, arrayBuffer, bytes read the stream', async () => {
  assertEquals(await new Response(streamOf('he', 'llo')).text(), 'hello');
  assertEquals(await new Response(streamOf('{"a":', '[1,2]}')).json(), { a: [1, 2] });
  const ab = await new Response(streamOf(new Uint8Array([1, 2]), new Uint8Array([3]))).arrayBuffer();
  assert(ab instanceof ArrayBuffer);
  assertEquals(new Uint8Array(ab), new Uint8Array([1, 2, 3]));
  assertEquals(await new Response(streamOf('xy')).bytes(), new Uint8Array([120, 121]));
});

test('a stream body keeps the stream: res.body is the given stream', () => {
  const s = streamOf('x');
  const r = new Response(s);
  assertEquals(r.body, s);
  assert(s.locked === false);
  assertEquals(r.headers.has('content-type'), false);
});

test('UTF-8 split across chunks decodes once joined', async () => {
  const bytes = enc.encode('\u20ac\ud83d\ude00');
  const parts = Array.from(bytes, (b) => new Uint8Array([b]));
  assertEquals(await new Response(streamOf(...parts)).text(), '\u20ac\ud83d\ude00');
});

test('chunks that are not bytes reject the read with a TypeError', async () => {
  const s = new ReadableStream({ start(c) { c.enqueue('text'); c.close(); } });
  await assertRejects(new Response(s).text(), TypeError, 'This ReadableStream did not return bytes.');
});

test('an errored stream rejects the read with its error', async () => {
  const e = new Error('broken');
  const s = new ReadableStream({ start(c) { c.enqueue(enc.encode('a')); c.error(e); } });
  const r = new Response(s);
  assertEquals(await r.text().catch((x) => x), e);
});

test('a disturbed or locked stream cannot become a body', async () => {
  const s = streamOf('a');
  await s.getReader().read();
  assertThrows(() => new Response(s), TypeError, DISTURBED);
  const s2 = streamOf('a');
  s2.getReader();
  assertThrows(() => new Response(s2), TypeError, LOCKED);
});

test('bodyUsed after reading a stream body; reading twice rejects', async () => {
  const r = new Response(streamOf('a'));
  assertEquals(r.bodyUsed, false);
  await r.text();
  assertEquals(r.bodyUsed, true);
  await assertRejects(r.text(), TypeError, USED);
  assertThrows(() => r.clone(), TypeError, USED);
});

test('rewrap: new Response(res.body, res) passes the bytes on and disturbs the original', async () => {
  const orig = new Response('payload', { headers: { 'x-a': '1' } });
  const copy = new Response(orig.body, orig);
  assertEquals(orig.bodyUsed, true);
  assertEquals(copy.headers.get('x-a'), '1');
  assertEquals(await copy.text(), 'payload');
});

test('clone() of a stream body tees it: both read the whole body', async () => {
  const r = new Response(streamOf('ab', 'cd'));
  const c = r.clone();
  assertEquals(await c.text(), 'abcd');
  assertEquals(await r.text(), 'abcd');
});

test('clone() of a buffered body after .body was touched still shares the bytes', async () => {
  const r = new Response('same');
  void r.body;
  const c = r.clone();
  assertEquals(await r.text(), 'same');
  assertEquals(await c.text(), 'same');
});

test('new Request with a stream body (POST) reads back', async () => {
  const req = new Request('http://x/upload', { method: 'POST', body: streamOf('up', 'load') });
  assert(req.body instanceof ReadableStream);
  assertEquals(await req.text(), 'upload');
  const req2 = new Request('http://x/', { method: 'POST', body: streamOf('{"k":1}') });
  const clone = req2.clone();
  assertEquals(await req2.json(), { k: 1 });
  assertEquals(await clone.text(), '{"k":1}');
});

test('a Request body can be piped through a TransformStream into a Response', async () => {
  const req = new Request('http://x/', { method: 'POST', body: 'abc' });
  const upper = new TransformStream({
    transform(chunk, c) { c.enqueue(enc.encode(new TextDecoder().decode(chunk).toUpperCase())); },
  });
  assertEquals(await new Response(req.body.pipeThrough(upper)).text(), 'ABC');
});

test('Response with a null-body status refuses a stream', () => {
  assertThrows(() => new Response(streamOf('a'), { status: 204 }), TypeError);
});

test('a body of 50,000 queued chunks, and of empty chunks, reads whole', async () => {
  const many = new ReadableStream({
    start(c) {
      for (let i = 0; i < 50000; i++) c.enqueue(new Uint8Array([65]));
      c.close();
    },
  }, { highWaterMark: Infinity });
  assertEquals((await new Response(many).text()).length, 50000);
  const empty = new ReadableStream({
    start(c) {
      for (let i = 0; i < 50000; i++) c.enqueue(new Uint8Array(0));
      c.enqueue(new Uint8Array([66]));
      c.close();
    },
  }, { highWaterMark: Infinity });
  assertEquals(await new Response(empty).text(), 'B');
});

test('50,000 writes without awaiting each one are all delivered in order', async () => {
  const { readable, writable } = new TransformStream();
  const w = writable.getWriter();
  for (let i = 0; i < 50000; i++) w.write(new Uint8Array([48 + (i % 10)]));
  w.close();
  const text = await new Response(readable).text();
  assertEquals(text.length, 50000);
  assertEquals(text.slice(0, 12), '012345678901');
});

export default { fetch: run };
