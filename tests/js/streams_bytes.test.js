// Byte streams and BYOB readers, IdentityTransformStream, FixedLengthStream, TextEncoderStream,
// TextDecoderStream, CompressionStream / DecompressionStream.
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function collectBytes(readable) {
  const parts = [];
  for await (const c of readable) parts.push(c);
  const n = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

test('byte stream: default reader gets Uint8Array chunks', async () => {
  const s = new ReadableStream({
    type: 'bytes',
    start(c) { c.enqueue(new Uint8Array([1, 2, 3])); c.close(); },
  });
  const r = s.getReader();
  const { value, done } = await r.read();
  assertEquals(done, false);
  assertEquals(value, new Uint8Array([1, 2, 3]));
  assertEquals((await r.read()).done, true);
});

test('BYOB reader fills the given view from queued bytes', async () => {
  const s = new ReadableStream({
    type: 'bytes',
    start(c) { c.enqueue(new Uint8Array([1, 2, 3, 4, 5])); c.close(); },
  });
  const r = s.getReader({ mode: 'byob' });
  assert(r instanceof ReadableStreamBYOBReader);
  const a = await r.read(new Uint8Array(2));
  assertEquals(a.value, new Uint8Array([1, 2]));
  const b = await r.read(new Uint8Array(10));
  assertEquals(b.value, new Uint8Array([3, 4, 5]));
  const c = await r.read(new Uint8Array(4));
  assertEquals(c.done, true);
  assertEquals(c.value.byteLength, 0);
});

test('BYOB: pull gets a byobRequest and responds into the reader\'s buffer', async () => {
  let n = 0;
  const s = new ReadableStream({
    type: 'bytes',
    pull(c) {
      const req = c.byobRequest;
      assert(req !== null, 'byobRequest expected');
      req.view[0] = 42 + n++;
      req.respond(1);
      if (n === 2) c.close();
    },
  });
  const r = s.getReader({ mode: 'byob' });
  assertEquals((await r.read(new Uint8Array(8))).value, new Uint8Array([42]));
  assertEquals((await r.read(new Uint8Array(8))).value, new Uint8Array([43]));
});

test('BYOB: min option waits for enough bytes; element types are kept', async () => {
  let ctrl;
  const s = new ReadableStream({ type: 'bytes', start(c) { ctrl = c; } });
  const r = s.getReader({ mode: 'byob' });
  const p = r.read(new Uint16Array(2), { min: 2 });
  ctrl.enqueue(new Uint8Array([1, 0]));
  ctrl.enqueue(new Uint8Array([2, 0, 9]));
  const { value } = await p;
  assert(value instanceof Uint16Array);
  assertEquals(Array.from(value), [1, 2]);
  const rest = await r.read(new Uint8Array(4));
  assertEquals(rest.value, new Uint8Array([9]));
});

test('BYOB reader argument checks', async () => {
  const s = new ReadableStream({ type: 'bytes' });
  const r = s.getReader({ mode: 'byob' });
  await assertRejects(r.read(), TypeError);
  await assertRejects(r.read(new Uint8Array(0)), TypeError);
  await assertRejects(r.read(new Uint8Array(2), { min: 3 }), RangeError);
  assertThrows(() => new ReadableStream().getReader({ mode: 'byob' }), TypeError);
  assertThrows(() => new ReadableStream({ type: 'bytes' }).getReader({ mode: 'nope' }), TypeError);
});

test('byte controller enqueue checks', () => {
  let ctrl;
  new ReadableStream({ type: 'bytes', start(c) { ctrl = c; } });
  assertThrows(() => ctrl.enqueue('str'), TypeError);
  assertThrows(() => ctrl.enqueue(new Uint8Array(0)), TypeError);
  ctrl.close();
  assertThrows(() => ctrl.enqueue(new Uint8Array(1)), TypeError);
  assertThrows(() => new ReadableStream({ type: 'bytes' }, { size: () => 1 }), RangeError);
});

test('tee of a byte stream gives byte streams with independent copies', async () => {
  const s = new ReadableStream({ type: 'bytes', start(c) { c.enqueue(new Uint8Array([7, 8])); c.close(); } });
  const [a, b] = s.tee();
  const ra = a.getReader({ mode: 'byob' });
  const va = (await ra.read(new Uint8Array(4))).value;
  const vb = (await b.getReader().read()).value;
  assertEquals(va, new Uint8Array([7, 8]));
  assertEquals(vb, new Uint8Array([7, 8]));
  va[0] = 0;
  assertEquals(vb[0], 7);
});

test('IdentityTransformStream passes bytes, rejects other chunks', async () => {
  const t = new IdentityTransformStream();
  assert(t instanceof TransformStream);
  const w = t.writable.getWriter();
  w.write(enc.encode('ab'));
  w.write(new Uint8Array([99]).buffer);
  w.close();
  assertEquals(dec.decode(await collectBytes(t.readable)), 'abc');
  const t2 = new IdentityTransformStream();
  const w2 = t2.writable.getWriter();
  const read = t2.readable.getReader().read();
  await assertRejects(w2.write('text'), TypeError,
    'This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side.');
  await assertRejects(read, TypeError);
});

test('IdentityTransformStream readable supports BYOB', async () => {
  const t = new IdentityTransformStream();
  const r = t.readable.getReader({ mode: 'byob' });
  const p = r.read(new Uint8Array(16));
  t.writable.getWriter().write(enc.encode('xyz'));
  assertEquals(dec.decode((await p).value), 'xyz');
});

test('FixedLengthStream: exact length passes', async () => {
  const f = new FixedLengthStream(5);
  const w = f.writable.getWriter();
  w.write(enc.encode('he'));
  w.write(enc.encode('llo'));
  w.close();
  assertEquals(dec.decode(await collectBytes(f.readable)), 'hello');
});

test('FixedLengthStream: too many bytes and too few bytes are errors', async () => {
  const f = new FixedLengthStream(2);
  const w = f.writable.getWriter();
  const reading = collectBytes(f.readable).catch((e) => e);
  await assertRejects(w.write(enc.encode('abc')), TypeError, 'Attempt to write too many bytes through a FixedLengthStream.');
  assert((await reading) instanceof TypeError);

  const g = new FixedLengthStream(4);
  const wg = g.writable.getWriter();
  const reading2 = collectBytes(g.readable).catch((e) => e);
  wg.write(enc.encode('ab'));
  await assertRejects(wg.close(), TypeError, 'FixedLengthStream did not see all expected bytes before close().');
  assert((await reading2) instanceof TypeError);
  assertThrows(() => new FixedLengthStream(-1), TypeError);
});

test('TextEncoderStream encodes strings, joining surrogates split across chunks', async () => {
  const t = new TextEncoderStream();
  assertEquals(t.encoding, 'utf-8');
  const w = t.writable.getWriter();
  w.write('h\u00e9');
  w.write('\ud83d');
  w.write('\ude00!');
  w.close();
  const bytes = await collectBytes(t.readable);
  assertEquals(bytes, new Uint8Array([0x68, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0x21]));
});

test('TextDecoderStream decodes UTF-8 split in the middle of a character', async () => {
  const t = new TextDecoderStream();
  assertEquals(t.encoding, 'utf-8');
  const w = t.writable.getWriter();
  const bytes = enc.encode('a\u00e9\u20ac\ud83d\ude00z');
  for (const b of bytes) w.write(new Uint8Array([b]));
  w.close();
  let s = '';
  for await (const part of t.readable) s += part;
  assertEquals(s, 'a\u00e9\u20ac\ud83d\ude00z');
});

test('TextDecoderStream fatal mode errors on invalid bytes; a dangling lead byte becomes U+FFFD', async () => {
  const t = new TextDecoderStream('utf-8', { fatal: true });
  assertEquals(t.fatal, true);
  const w = t.writable.getWriter();
  const reading = t.readable.getReader().read();
  await assertRejects(w.write(new Uint8Array([0xff])), TypeError);
  await assertRejects(reading, TypeError);

  const t2 = new TextDecoderStream();
  const w2 = t2.writable.getWriter();
  w2.write(new Uint8Array([0x61, 0xe2, 0x82]));
  w2.close();
  let s = '';
  for await (const part of t2.readable) s += part;
  assertEquals(s, 'a\ufffd');
});

test('CompressionStream/DecompressionStream round trip for gzip, deflate, deflate-raw', async () => {
  const text = 'hello streams '.repeat(200);
  for (const format of ['gzip', 'deflate', 'deflate-raw']) {
    const compressed = await collectBytes(ReadableStream.from([enc.encode(text)]).pipeThrough(new CompressionStream(format)));
    assert(compressed.byteLength < text.length / 4, `${format} did not compress`);
    if (format === 'gzip') assertEquals([compressed[0], compressed[1]], [0x1f, 0x8b]);
    const chunks = [];
    for (let i = 0; i < compressed.byteLength; i += 7) chunks.push(compressed.slice(i, i + 7));
    const back = await collectBytes(ReadableStream.from(chunks).pipeThrough(new DecompressionStream(format)));
    assertEquals(dec.decode(back), text);
  }
});

test('Compression: bad format, corrupt and truncated input are TypeErrors', async () => {
  assertThrows(() => new CompressionStream('brotli'), TypeError);
  assertThrows(() => new DecompressionStream(), TypeError);
  const bad = ReadableStream.from([new Uint8Array([1, 2, 3, 4, 5])]).pipeThrough(new DecompressionStream('gzip'));
  await assertRejects(collectBytes(bad), TypeError);
  const full = await collectBytes(ReadableStream.from([enc.encode('abcdef')]).pipeThrough(new CompressionStream('gzip')));
  const cut = ReadableStream.from([full.slice(0, full.byteLength - 4)]).pipeThrough(new DecompressionStream('gzip'));
  await assertRejects(collectBytes(cut), TypeError);
  const cs = new CompressionStream('gzip');
  const reading = cs.readable.getReader().read();
  await assertRejects(cs.writable.getWriter().write('not bytes'), TypeError);
  await assertRejects(reading, TypeError);
});

export default { fetch: run };
