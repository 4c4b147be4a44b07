// Blob and File (lib/js/blob.js): parts, type normalisation, endings, slice, readers, stream().
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

const bytes = (b) => b.bytes().then((u) => [...u]);

test('empty Blob', async () => {
  const b = new Blob();
  assertEquals([b.size, b.type], [0, '']);
  assertEquals(await b.text(), '');
  assertEquals(Object.prototype.toString.call(b), '[object Blob]');
});

test('parts: strings (UTF-8), ArrayBuffer, views, Blobs, other values via ToString', async () => {
  const ab = new Uint8Array([0x41, 0x42]).buffer;
  const b = new Blob(['é', ab, new Uint8Array([0x43]), new DataView(new Uint8Array([0x44]).buffer), new Blob(['E']), 7, null]);
  assertEquals(await bytes(b), [0xc3, 0xa9, 0x41, 0x42, 0x43, 0x44, 0x45, 0x37, 0x6e, 0x75, 0x6c, 0x6c]);
  assertEquals(b.size, 12);
  const emoji = new Blob(['😀']);
  assertEquals(await bytes(emoji), [0xf0, 0x9f, 0x98, 0x80]);
  assertEquals(await new Blob(['\ud800']).text(), '\ufffd');
});

test('parts are copied when the Blob is made', async () => {
  const u = new Uint8Array([1, 2]);
  const b = new Blob([u]);
  u[0] = 9;
  assertEquals(await bytes(b), [1, 2]);
});

test('parts must be a sequence', () => {
  assertThrows(() => new Blob('abc'), TypeError, "Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
  assertThrows(() => new Blob(5), TypeError);
  assertThrows(() => new Blob({}), TypeError);
  assertThrows(() => Blob([]), TypeError, /Please use the 'new' operator/);
});

test('iterable parts', async () => {
  assertEquals(await new Blob(new Set(['a', 'b'])).text(), 'ab');
});

test('type is lower-cased, or empty when it has non-printable-ASCII characters', () => {
  assertEquals(new Blob([], { type: 'Text/HTML; Charset=UTF-8' }).type, 'text/html; charset=utf-8');
  assertEquals(new Blob([], { type: 'a\u00e9' }).type, '');
  assertEquals(new Blob([], { type: 'a\nb' }).type, '');
  assertThrows(() => new Blob([], 5), TypeError);
});

test('endings: native turns CR and CRLF into LF; other values are refused', async () => {
  assertEquals(await new Blob(['a\r\nb\rc\n'], { endings: 'native' }).text(), 'a\nb\nc\n');
  assertEquals(await new Blob(['a\r\nb'], { endings: 'transparent' }).text(), 'a\r\nb');
  assertThrows(() => new Blob([], { endings: 'crlf' }), TypeError,
    "Failed to construct 'Blob': The provided value 'crlf' is not a valid enum value of type EndingType.");
});

test('slice with negative indices, clamping and a content type', async () => {
  const b = new Blob(['0123456789'], { type: 'text/plain' });
  assertEquals(await b.slice(2, 5).text(), '234');
  assertEquals(await b.slice(-3).text(), '789');
  assertEquals(await b.slice(-3, -1).text(), '78');
  assertEquals(await b.slice(5, 2).text(), '');
  assertEquals(await b.slice(-100, 100).text(), '0123456789');
  assertEquals(await b.slice(1.9, 3.2).text(), '12');
  assertEquals(await b.slice(NaN).text(), '0123456789');
  assertEquals(b.slice(0, 1).type, '');
  assertEquals(b.slice(0, 1, 'Image/PNG').type, 'image/png');
  assertEquals(await b.slice(2).slice(1, 3).text(), '34');
});

test('arrayBuffer() and bytes() return copies', async () => {
  const b = new Blob(['abc']);
  const ab = await b.arrayBuffer();
  assert(ab instanceof ArrayBuffer);
  new Uint8Array(ab)[0] = 0x7a;
  const u = await b.bytes();
  assert(u instanceof Uint8Array);
  assertEquals([...u], [0x61, 0x62, 0x63]);
});

test('text() decodes UTF-8 and drops a BOM', async () => {
  assertEquals(await new Blob([new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69, 0xff])]).text(), 'hi\ufffd');
});

test('methods reject or throw on a wrong this', async () => {
  await assertRejects(Blob.prototype.text.call({}), TypeError);
  assertThrows(() => Blob.prototype.slice.call({}), TypeError);
  assertThrows(() => Object.getOwnPropertyDescriptor(Blob.prototype, 'size').get.call({}), TypeError);
});

test('stream() gives a ReadableStream of the bytes', async () => {
  const s = new Blob(['stream me']).stream();
  assert(s instanceof ReadableStream);
  const reader = s.getReader();
  const chunks = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(...value);
  }
  assertEquals(new TextDecoder().decode(new Uint8Array(chunks)), 'stream me');
});

test('File: name, lastModified, type, Blob inheritance', async () => {
  const f = new File(['x'], 'a.txt', { type: 'TEXT/plain', lastModified: 1234.9 });
  assertEquals([f.name, f.lastModified, f.type, f.size], ['a.txt', 1234, 'text/plain', 1]);
  assert(f instanceof Blob && f instanceof File);
  assertEquals(Object.prototype.toString.call(f), '[object File]');
  assertEquals(await f.text(), 'x');
  const before = Date.now();
  const g = new File([], 7);
  assertEquals(g.name, '7');
  assert(g.lastModified >= before && g.lastModified <= Date.now());
  assertEquals(f.slice(0, 1) instanceof File, false);
});

test('File argument errors', () => {
  assertThrows(() => new File(['x']), TypeError, "Failed to construct 'File': 2 arguments required, but only 1 present.");
  assertThrows(() => Object.getOwnPropertyDescriptor(File.prototype, 'name').get.call(new Blob()), TypeError);
});

test('Blob and File survive structuredClone', async () => {
  const f = new File(['data'], 'd.bin', { type: 'application/x-d', lastModified: 5 });
  const c = structuredClone({ f, b: new Blob(['b']) });
  assert(c.f instanceof File && c.f !== f);
  assertEquals([c.f.name, c.f.type, c.f.lastModified, await c.f.text()], ['d.bin', 'application/x-d', 5, 'data']);
  assertEquals(await c.b.text(), 'b');
});

test('class extends Blob', async () => {
  class Named extends Blob { constructor(s) { super([s]); this.label = s; } }
  const n = new Named('hey');
  assertEquals([n.label, n.size, await n.text()], ['hey', 3, 'hey']);
});

export default { fetch: run };
