// @binding r2 BUCKET bucket
// @binding r2 OTHER other-bucket
// R2 buckets: put/get/head/delete, R2Object fields, bodies, values of every accepted type.
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

let env;

const MD5_HELLO = '5d41402abc4b2a76b9719d911017c592'; // md5("hello")

test('a bucket looks like an R2Bucket before its first call (its JavaScript loads then)', async () => {
  assertEquals(Object.prototype.toString.call(env.OTHER), '[object R2Bucket]');
  for (const m of ['head', 'get', 'put', 'delete', 'list', 'createMultipartUpload', 'resumeMultipartUpload']) {
    assertEquals(typeof env.OTHER[m], 'function', m);
  }
  assertThrows(() => new (Object.getPrototypeOf(env.OTHER).constructor)(), TypeError, 'Illegal constructor');
  assertEquals(await env.OTHER.head('none'), null);
  assertEquals(Object.prototype.toString.call(env.OTHER), '[object R2Bucket]');
});

test('put returns an R2Object and get returns the body', async () => {
  const o = await env.BUCKET.put('greeting', 'hello');
  assertEquals(Object.prototype.toString.call(o), '[object R2Object]');
  assertEquals(o.key, 'greeting');
  assertEquals(o.size, 5);
  assertEquals(o.etag, MD5_HELLO);
  assertEquals(o.httpEtag, `"${MD5_HELLO}"`);
  assertEquals(o.version.length, 32);
  assert(o.uploaded instanceof Date, 'uploaded is a Date');
  assert(Math.abs(o.uploaded.getTime() - Date.now()) < 60000, 'uploaded is now');
  assertEquals(o.storageClass, 'Standard');
  assertEquals(o.httpMetadata, {});
  assertEquals(o.customMetadata, {});
  assertEquals(o.range, undefined);
  const got = await env.BUCKET.get('greeting');
  assertEquals(Object.prototype.toString.call(got), '[object R2ObjectBody]');
  assertEquals(got.version, o.version);
  assertEquals(got.range, { offset: 0, length: 5 });
  assertEquals(got.bodyUsed, false);
  assertEquals(await got.text(), 'hello');
  assertEquals(got.bodyUsed, true);
  await assertRejects(got.text(), TypeError, /Body has already been used/);
});

test('checksums: md5 always, as ArrayBuffers with toJSON', async () => {
  const o = await env.BUCKET.put('sum', 'hello');
  assert(o.checksums.md5 instanceof ArrayBuffer, 'md5 is an ArrayBuffer');
  assertEquals(o.checksums.md5.byteLength, 16);
  assertEquals(o.checksums.sha1, undefined);
  assertEquals(o.checksums.toJSON(), { md5: MD5_HELLO });
  assertEquals(JSON.parse(JSON.stringify(o)).checksums, { md5: MD5_HELLO });
  const h = await env.BUCKET.head('sum');
  assertEquals(h.checksums.toJSON(), { md5: MD5_HELLO });
});

test('head returns metadata without a body; missing keys give null', async () => {
  await env.BUCKET.put('h', 'abc');
  const h = await env.BUCKET.head('h');
  assertEquals(Object.prototype.toString.call(h), '[object R2Object]');
  assertEquals(h.size, 3);
  assertEquals(h.body, undefined);
  assertEquals(await env.BUCKET.head('nope'), null);
  assertEquals(await env.BUCKET.get('nope'), null);
});

test('values: string, ArrayBuffer, views, null, body streams', async () => {
  await env.BUCKET.put('ab', new Uint8Array([1, 2, 3]).buffer);
  assertEquals(new Uint8Array(await (await env.BUCKET.get('ab')).arrayBuffer()), new Uint8Array([1, 2, 3]));
  const big = new Uint8Array([9, 8, 7, 6, 5]);
  await env.BUCKET.put('view', new Uint8Array(big.buffer, 1, 3));
  assertEquals(new Uint8Array(await (await env.BUCKET.get('view')).arrayBuffer()), new Uint8Array([8, 7, 6]));
  await env.BUCKET.put('dv', new DataView(big.buffer, 3, 2));
  assertEquals(new Uint8Array(await (await env.BUCKET.get('dv')).arrayBuffer()), new Uint8Array([6, 5]));
  const n = await env.BUCKET.put('empty', null);
  assertEquals(n.size, 0);
  assertEquals(await (await env.BUCKET.get('empty')).text(), '');
  await env.BUCKET.put('stream', new Response('from a stream').body);
  assertEquals(await (await env.BUCKET.get('stream')).text(), 'from a stream');
  await env.BUCKET.put('emoji', 'a😀b');
  const e = await env.BUCKET.get('emoji');
  assertEquals(e.size, 6);
  assertEquals(await e.text(), 'a😀b');
});

test('Blob values and blob(): the body with the object\'s content type', async () => {
  await env.BUCKET.put('blob', new Blob(['bl', new Uint8Array([111, 98])], { type: 'text/x-blob' }),
    { httpMetadata: { contentType: 'text/x-blob' } });
  const o = await env.BUCKET.get('blob');
  assertEquals(o.size, 4);
  const b = await o.blob();
  assert(b instanceof Blob, 'blob() gives a Blob');
  assertEquals(b.type, 'text/x-blob');
  assertEquals(await b.text(), 'blob');
  assertEquals(o.bodyUsed, true);
});

test('json(), bytes of body through new Response(object.body)', async () => {
  await env.BUCKET.put('j', JSON.stringify({ a: [1, 2] }));
  assertEquals(await (await env.BUCKET.get('j')).json(), { a: [1, 2] });
  const o = await env.BUCKET.get('j');
  const r = new Response(o.body);
  assertEquals(await r.text(), '{"a":[1,2]}');
  assertEquals(o.bodyUsed, true);
});

test('put of an unsupported value type is a TypeError', async () => {
  await assertRejects(env.BUCKET.put('x', { a: 1 }), TypeError,
    "Failed to execute 'put' on 'R2Bucket': parameter 2 is not of type 'ReadableStream or ArrayBuffer or ArrayBufferView or string or Blob'.");
  await assertRejects(env.BUCKET.put('x', 42), TypeError);
  await assertRejects(env.BUCKET.put(), TypeError,
    "Failed to execute 'put' on 'R2Bucket': parameter 1 is not of type 'string'.");
  await assertRejects(env.BUCKET.get(), TypeError);
  await assertRejects(env.BUCKET.get('k', 'bad'), TypeError,
    "Failed to execute 'get' on 'R2Bucket': parameter 2 is not of type 'R2GetOptions'.");
  await assertRejects(env.BUCKET.list(7), TypeError,
    "Failed to execute 'list' on 'R2Bucket': parameter 1 is not of type 'R2ListOptions'.");
});

test('overwrite replaces the object and its version', async () => {
  const a = await env.BUCKET.put('ow', 'one');
  const b = await env.BUCKET.put('ow', 'second');
  assert(a.version !== b.version, 'new version');
  const g = await env.BUCKET.get('ow');
  assertEquals(g.version, b.version);
  assertEquals(await g.text(), 'second');
});

test('delete of one key, of several, and of absent keys', async () => {
  await env.BUCKET.put('d1', '1');
  await env.BUCKET.put('d2', '2');
  await env.BUCKET.put('d3', '3');
  assertEquals(await env.BUCKET.delete('d1'), undefined);
  assertEquals(await env.BUCKET.head('d1'), null);
  await env.BUCKET.delete(['d2', 'd3', 'never-there']);
  assertEquals(await env.BUCKET.head('d2'), null);
  assertEquals(await env.BUCKET.head('d3'), null);
  await env.BUCKET.delete([]);
  await env.BUCKET.delete('never-there');
});

test('keys: up to 1024 bytes; longer is InvalidObjectName', async () => {
  const k = 'k'.repeat(1024);
  await env.BUCKET.put(k, 'v');
  assertEquals((await env.BUCKET.head(k)).key, k);
  const long = 'é'.repeat(513); // 1026 bytes
  await assertRejects(env.BUCKET.put(long, 'v'), Error, 'put: The specified object name is not valid. (10020)');
  await assertRejects(env.BUCKET.get(long), Error, 'get: The specified object name is not valid. (10020)');
  await assertRejects(env.BUCKET.head(long), Error, 'head: The specified object name is not valid. (10020)');
  await assertRejects(env.BUCKET.delete([long]), Error, 'delete: The specified object name is not valid. (10020)');
  await env.BUCKET.put('ключ/😀', 'unicode');
  assertEquals(await (await env.BUCKET.get('ключ/😀')).text(), 'unicode');
});

test('buckets are separate', async () => {
  await env.BUCKET.put('shared-name', 'in BUCKET');
  assertEquals(await env.OTHER.get('shared-name'), null);
  await env.OTHER.put('shared-name', 'in OTHER');
  assertEquals(await (await env.BUCKET.get('shared-name')).text(), 'in BUCKET');
});

test('a script reads its own writes without awaiting them', async () => {
  const p = env.BUCKET.put('ryw', 'fresh');
  const h = await env.BUCKET.head('ryw');
  assertEquals(h.size, 5);
  await p;
});

test('methods check their receiver; classes cannot be constructed', async () => {
  await assertRejects(env.BUCKET.get.call({}, 'x'), TypeError, 'Illegal invocation');
  const o = await env.BUCKET.put('recv', 'x');
  assertThrows(() => o.writeHttpMetadata.call({}, new Headers()), TypeError, 'Illegal invocation');
  assertThrows(() => new (Object.getPrototypeOf(env.BUCKET).constructor)(), TypeError, 'Illegal constructor');
});

export default {
  fetch(request, e) {
    env = e;
    return run(request, e);
  },
};
