// FormData (lib/js/blob.js) and form bodies (lib/web/body.c, formdata.c): multipart and urlencoded parsing
// with workerd's errors, FormData/Blob/URLSearchParams as bodies, body.blob().
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

test('append, get, getAll, has, set, delete', () => {
  const f = new FormData();
  assertEquals(f.get('a'), null);
  f.append('a', '1');
  f.append('b', 2);
  f.append('a', '3');
  assertEquals(f.get('a'), '1');
  assertEquals(f.get('b'), '2');
  assertEquals(f.getAll('a'), ['1', '3']);
  assertEquals(f.getAll('zz'), []);
  assertEquals([f.has('a'), f.has('zz')], [true, false]);
  f.set('a', 'x');
  assertEquals([...f], [['a', 'x'], ['b', '2']]);
  f.set('c', 'new');
  f.delete('b');
  assertEquals([...f.keys()], ['a', 'c']);
  assertEquals([...f.values()], ['x', 'new']);
  assertEquals(Object.prototype.toString.call(f), '[object FormData]');
});

test('iteration order, entries, forEach and live iterators', () => {
  const f = new FormData();
  f.append('k1', 'v1');
  f.append('k2', 'v2');
  const seen = [];
  f.forEach(function (v, k, fd) { seen.push([k, v, fd === f, this.t]); }, { t: 1 });
  assertEquals(seen, [['k1', 'v1', true, 1], ['k2', 'v2', true, 1]]);
  const it = f.entries();
  assertEquals(Object.prototype.toString.call(it), '[object FormData Iterator]');
  assertEquals(it.next(), { value: ['k1', 'v1'], done: false });
  f.append('k3', 'v3');
  assertEquals(it.next().value, ['k2', 'v2']);
  assertEquals(it.next().value, ['k3', 'v3']);
  assertEquals(it.next(), { value: undefined, done: true });
  assert(typeof it[Symbol.iterator] === 'function' && it[Symbol.iterator]() === it);
});

test('Blob values become Files (filename, or the entry name as in workerd)', async () => {
  const f = new FormData();
  f.append('file', new Blob(['abc'], { type: 'text/plain' }), 'a.txt');
  f.append('anon', new Blob(['x']));
  const orig = new File(['y'], 'orig.bin', { lastModified: 3 });
  f.append('file2', orig);
  f.append('renamed', orig, 'other.bin');
  const a = f.get('file');
  assert(a instanceof File);
  assertEquals([a.name, a.type, await a.text()], ['a.txt', 'text/plain', 'abc']);
  assertEquals(f.get('anon').name, 'anon');
  assert(f.get('file2') === orig);
  assertEquals([f.get('renamed').name, await f.get('renamed').text()], ['other.bin', 'y']);
});

test('argument errors', () => {
  const f = new FormData();
  assertThrows(() => f.append('a'), TypeError, "Failed to execute 'append' on 'FormData': 2 arguments required, but only 1 present.");
  assertThrows(() => f.append('a', 'b', 'c'), TypeError, "Failed to execute 'append' on 'FormData': parameter 2 is not of type 'Blob'.");
  assertThrows(() => f.get(), TypeError);
  assertThrows(() => f.forEach(1), TypeError);
  assertThrows(() => new FormData({}), TypeError);
  assertThrows(() => FormData(), TypeError);
  assertThrows(() => FormData.prototype.get.call({}, 'a'), TypeError, /Illegal invocation/);
});

test('FormData as a body: multipart with a generated boundary, parsed back', async () => {
  const f = new FormData();
  f.append('na"me\n', 'Zoë "Q"');
  f.append('upload', new File(['file body\r\nline 2'], 'up.txt', { type: 'text/plain' }));
  f.append('bin', new Blob([new Uint8Array([0, 255, 13, 10])]), 'b.bin');
  const r = new Response(f);
  const ct = r.headers.get('content-type');
  const m = /^multipart\/form-data; boundary=(.+)$/.exec(ct);
  assert(m, ct);
  const text = await r.clone().text();
  assert(text.startsWith(`--${m[1]}\r\nContent-Disposition: form-data; name="na%22me%0A"\r\n\r\nZoë "Q"\r\n`), text);
  assert(text.includes('Content-Disposition: form-data; name="upload"; filename="up.txt"\r\nContent-Type: text/plain\r\n\r\nfile body\r\nline 2\r\n'));
  assert(text.includes('filename="b.bin"\r\nContent-Type: application/octet-stream\r\n'));
  assert(text.endsWith(`--${m[1]}--`));
  const back = await r.formData();
  assertEquals(back.get('na%22me%0A'), 'Zoë "Q"'); // names stay escaped on the way back, as in workerd
  const up = back.get('upload');
  assert(up instanceof File);
  assertEquals([up.name, up.type, await up.text()], ['up.txt', 'text/plain', 'file body\r\nline 2']);
  assertEquals([...(await back.get('bin').bytes())], [0, 255, 13, 10]);
});

test('Request with a FormData body and formData() on it (the seed upload pattern)', async () => {
  const form = new FormData();
  form.append('file', new Blob(['test content'], { type: 'text/plain' }), 'test.txt');
  const req = new Request('https://example.com/upload', { method: 'POST', body: form });
  assert(req.headers.get('content-type').startsWith('multipart/form-data; boundary='));
  const data = await req.formData();
  const file = data.get('file');
  assertEquals([file.name, await file.text()], ['test.txt', 'test content']);
});

test('an explicit content-type header wins over the body type', () => {
  const r = new Response(new FormData(), { headers: { 'content-type': 'text/x-mine' } });
  assertEquals(r.headers.get('content-type'), 'text/x-mine');
});

test('a name ending with a backslash cannot be encoded (workerd)', () => {
  const f = new FormData();
  f.append('bad\\', 'v');
  assertThrows(() => new Response(f), TypeError, "Name or filename can't end with backslash");
});

test('parsing hand-written multipart: LF-only lines, quoted escapes, preamble', async () => {
  const body = 'preamble\r\n--XyZ\nContent-Disposition: form-data; name="a\\"b"\n\nvalue 1\n' +
    '--XyZ\r\ncontent-disposition: form-data; name="f"; filename="x.txt"\r\nContent-Type: text/csv\r\n\r\n1,2\r\n--XyZ--\r\nepilogue';
  const r = new Response(body, { headers: { 'content-type': 'multipart/form-data; boundary="XyZ"' } });
  const f = await r.formData();
  assertEquals(f.get('a"b'), 'value 1');
  const file = f.get('f');
  assertEquals([file.name, file.type, await file.text()], ['x.txt', 'text/csv', '1,2']);
});

test('application/x-www-form-urlencoded bodies', async () => {
  const r = new Request('https://x/', { method: 'POST', body: 'a=1&b=x+y&a=%F0%9F%98%80&c' ,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' } });
  const f = await r.formData();
  assertEquals([...f], [['a', '1'], ['b', 'x y'], ['a', '😀'], ['c', '']]);
  await assertRejects(new Response('a=1', { headers: { 'content-type': 'application/x-www-form-urlencoded;charset=latin1' } }).formData(),
    TypeError, 'Non-utf-8 application/x-www-form-urlencoded body.');
});

test('URLSearchParams as a body', async () => {
  const r = new Response(new URLSearchParams({ q: 'a b', n: '1' }));
  assertEquals(r.headers.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');
  assertEquals(await r.clone().text(), 'q=a+b&n=1');
  assertEquals((await r.formData()).get('q'), 'a b');
});

test('formData() errors are workerd TypeErrors', async () => {
  const form = (body, ct) => new Response(body, ct === undefined ? {} : { headers: { 'content-type': ct } }).formData();
  await assertRejects(new Response(new Uint8Array([1])).formData(), TypeError, 'Parsing a Body as FormData requires a Content-Type header.');
  await assertRejects(form('{}', 'application/json'), TypeError,
    'Unrecognized Content-Type header value. FormData can only parse the following MIME types: multipart/form-data, application/x-www-form-urlencoded');
  await assertRejects(form('x', 'multipart/form-data'), TypeError, /^No boundary string in Content-Type header/);
  await assertRejects(form('nothing here', 'multipart/form-data; boundary=b'), TypeError, 'No initial boundary string (or you have a truncated message).');
  await assertRejects(form('--bX', 'multipart/form-data; boundary=b'), TypeError, "Boundary string was not succeeded by CRLF, LF, or '--'.");
  await assertRejects(form('--b\r\nContent-Disposition: form-data; name="a"', 'multipart/form-data; boundary=b'), TypeError, 'No multipart message header termination found.');
  await assertRejects(form('--b\r\nX-Other: 1\r\n\r\nv\r\n--b--', 'multipart/form-data; boundary=b'), TypeError, 'No valid Content-Disposition header found in FormData part.');
  await assertRejects(form('--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b--', 'multipart/form-data; boundary=b'), TypeError, 'Invalid Content-Disposition header found in FormData part.');
  await assertRejects(form('--b\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n--b--', 'multipart/form-data; boundary=b'), TypeError,
    'Content-Disposition header for FormData part must have the value "form-data", possibly followed by parameters. Got: "attachment"');
  await assertRejects(form('--b\r\nContent-Disposition: form-data; filename="a"\r\n\r\nv\r\n--b--', 'multipart/form-data; boundary=b'), TypeError,
    'Content-Disposition header in FormData part is missing a name.');
  await assertRejects(form('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv without end', 'multipart/form-data; boundary=b'), TypeError,
    'No subsequent boundary string after multipart message.');
  await assertRejects(form('--b\r\nbad header line\r\n\r\nv\r\n--b--', 'multipart/form-data; boundary=b'), TypeError, 'FormData part had invalid headers.');
});

test('a used body cannot be read as FormData', async () => {
  const r = new Response('a=1', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  await r.text();
  await assertRejects(r.formData(), TypeError, /Body has already been used/);
});

test('Blob bodies take their type; blob() reads the content type back', async () => {
  const r = new Response(new Blob(['<p>hi</p>'], { type: 'text/html' }));
  assertEquals(r.headers.get('content-type'), 'text/html');
  const b = await r.blob();
  assert(b instanceof Blob);
  assertEquals([b.type, b.size, await b.text()], ['text/html', 9, '<p>hi</p>']);
  const untyped = new Response(new Blob(['x']));
  assertEquals(untyped.headers.get('content-type'), null);
  assertEquals((await untyped.blob()).type, '');
  const req = new Request('https://x/', { method: 'PUT', body: new File(['f'], 'f.txt', { type: 'text/plain' }) });
  assertEquals([req.headers.get('content-type'), await req.text()], ['text/plain', 'f']);
});

test('formData() and blob() of a stream body', async () => {
  const enc = new TextEncoder();
  const stream = new ReadableStream({ start(c) { c.enqueue(enc.encode('a=1&')); c.enqueue(enc.encode('b=2')); c.close(); } });
  const r = new Response(stream, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assertEquals([...(await r.formData())], [['a', '1'], ['b', '2']]);
  const s2 = new ReadableStream({ start(c) { c.enqueue(enc.encode('blob!')); c.close(); } });
  const b = await new Response(s2, { headers: { 'content-type': 'text/plain' } }).blob();
  assertEquals([b.type, await b.text()], ['text/plain', 'blob!']);
});

export default { fetch: run };
