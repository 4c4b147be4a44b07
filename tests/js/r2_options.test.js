// @binding r2 BUCKET options
// R2 put/get options: httpMetadata, customMetadata, checksums, onlyIf, range, storageClass.
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

const HELLO = {
  md5: '5d41402abc4b2a76b9719d911017c592',
  sha1: 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d',
  sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
  sha384: '59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f',
  sha512: '9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043',
};

function hexBytes(hex) {
  const b = new Uint8Array(hex.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.substr(2 * i, 2), 16);
  return b;
}

test('httpMetadata as an object round-trips and writes headers', async ({ env }) => {
  const expiry = new Date('2030-01-02T03:04:05Z');
  const o = await env.BUCKET.put('page', '<p>hi</p>', {
    httpMetadata: {
      contentType: 'text/html', contentLanguage: 'en', contentDisposition: 'inline',
      contentEncoding: 'identity', cacheControl: 'max-age=60', cacheExpiry: expiry,
    },
  });
  assertEquals(o.httpMetadata.contentType, 'text/html');
  const g = await env.BUCKET.get('page');
  assertEquals(g.httpMetadata.cacheControl, 'max-age=60');
  assert(g.httpMetadata.cacheExpiry instanceof Date, 'cacheExpiry is a Date');
  assertEquals(g.httpMetadata.cacheExpiry.getTime(), expiry.getTime());
  const h = new Headers();
  g.writeHttpMetadata(h);
  assertEquals(h.get('content-type'), 'text/html');
  assertEquals(h.get('content-language'), 'en');
  assertEquals(h.get('content-disposition'), 'inline');
  assertEquals(h.get('content-encoding'), 'identity');
  assertEquals(h.get('cache-control'), 'max-age=60');
  assertEquals(h.get('expires'), 'Wed, 02 Jan 2030 03:04:05 GMT');
  assertThrows(() => g.writeHttpMetadata({}), TypeError);
});

test('httpMetadata from Headers takes the HTTP header names', async ({ env }) => {
  const hs = new Headers({ 'content-type': 'image/png', 'cache-control': 'no-store', 'x-other': '1' });
  await env.BUCKET.put('img', 'PNG', { httpMetadata: hs });
  const h = await env.BUCKET.head('img');
  assertEquals(h.httpMetadata, { contentType: 'image/png', cacheControl: 'no-store' });
});

test('customMetadata round-trips as strings; over 2048 bytes is refused', async ({ env }) => {
  await env.BUCKET.put('meta', 'x', { customMetadata: { owner: 'ana', n: 3 } });
  assertEquals((await env.BUCKET.head('meta')).customMetadata, { owner: 'ana', n: '3' });
  assertEquals((await env.BUCKET.get('meta')).customMetadata, { owner: 'ana', n: '3' });
  await assertRejects(env.BUCKET.put('meta2', 'x', { customMetadata: { big: 'v'.repeat(2048) } }), Error,
    'put: Your metadata headers exceed the maximum allowed metadata size. (10012)');
  assertEquals(await env.BUCKET.head('meta2'), null);
});

test('each checksum algorithm is verified and kept', async ({ env }) => {
  for (const [algo, hex] of Object.entries(HELLO)) {
    const o = await env.BUCKET.put(`sum-${algo}`, 'hello', { [algo]: hex.toUpperCase() });
    const want = { md5: HELLO.md5 };
    want[algo] = hex;
    assertEquals(o.checksums.toJSON(), want, algo);
    assertEquals((await env.BUCKET.head(`sum-${algo}`)).checksums.toJSON(), want, algo);
    const b = await env.BUCKET.put(`bin-${algo}`, 'hello', { [algo]: hexBytes(hex).buffer });
    assertEquals(b.checksums.toJSON()[algo], hex);
  }
});

test('a checksum mismatch rejects with R2 words and stores nothing', async ({ env }) => {
  const wrong = '0'.repeat(64);
  await assertRejects(env.BUCKET.put('bad', 'hello', { sha256: wrong }), Error,
    'put: The SHA-256 checksum you specified did not match what we received.\n' +
    `You provided a SHA-256 checksum with value: ${wrong}\nActual SHA-256 was: ${HELLO.sha256} (10037)`);
  assertEquals(await env.BUCKET.head('bad'), null);
  await assertRejects(env.BUCKET.put('bad', 'hello', { md5: '00'.repeat(16) }), Error, /^put: The MD5 checksum/);
});

test('checksum argument errors', async ({ env }) => {
  await assertRejects(env.BUCKET.put('c', 'x', { md5: 'abc' }), TypeError, 'MD5 is 32 hex characters, not 3');
  await assertRejects(env.BUCKET.put('c', 'x', { sha1: new Uint8Array(3) }), TypeError, 'SHA-1 is 20 bytes, not 3');
  await assertRejects(env.BUCKET.put('c', 'x', { md5: 'z'.repeat(32) }), TypeError,
    "Provided MD5 wasn't a valid hex string");
  await assertRejects(env.BUCKET.put('c', 'x', { md5: HELLO.md5, sha1: HELLO.sha1 }), TypeError,
    'You cannot specify multiple hashing algorithms.');
});

test('put onlyIf: etag conditions, null when they fail', async ({ env }) => {
  const a = await env.BUCKET.put('cond', 'one');
  assertEquals(await env.BUCKET.put('cond', 'two', { onlyIf: { etagMatches: 'nope' } }), null);
  assertEquals(await (await env.BUCKET.get('cond')).text(), 'one');
  const b = await env.BUCKET.put('cond', 'two', { onlyIf: { etagMatches: a.etag } });
  assertEquals(b.size, 3);
  assertEquals(await env.BUCKET.put('cond', 'three', { onlyIf: { etagDoesNotMatch: b.etag } }), null);
  // create-only: etagDoesNotMatch '*' holds only when the key is absent
  assertEquals(await env.BUCKET.put('cond', 'x', { onlyIf: { etagDoesNotMatch: '*' } }), null);
  assert(await env.BUCKET.put('fresh', 'x', { onlyIf: { etagDoesNotMatch: '*' } }) !== null, 'created');
  // etagMatches on an absent key fails
  assertEquals(await env.BUCKET.put('absent', 'x', { onlyIf: { etagMatches: '*' } }), null);
  assertEquals(await env.BUCKET.head('absent'), null);
  await assertRejects(env.BUCKET.put('cond', 'x', { onlyIf: { etagMatches: `"${b.etag}"` } }), TypeError,
    `Conditional ETag should not be wrapped in quotes ("${b.etag}").`);
});

test('put onlyIf: only one of two puts of the same turn with the same precondition wins', async ({ env }) => {
  const a = await env.BUCKET.put('race', 'base');
  const [x, y] = await Promise.all([
    env.BUCKET.put('race', 'x', { onlyIf: { etagMatches: a.etag } }),
    env.BUCKET.put('race', 'yy', { onlyIf: { etagMatches: a.etag } }),
  ]);
  assert(x !== null && y === null, 'the first wins, the second sees the new etag');
  assertEquals(await (await env.BUCKET.get('race')).text(), 'x');
});

test('get onlyIf: a failed precondition gives the object without a body', async ({ env }) => {
  const o = await env.BUCKET.put('g', 'body');
  const miss = await env.BUCKET.get('g', { onlyIf: { etagDoesNotMatch: o.etag } });
  assertEquals(Object.prototype.toString.call(miss), '[object R2Object]');
  assertEquals(miss.body, undefined);
  assertEquals(miss.etag, o.etag);
  const hit = await env.BUCKET.get('g', { onlyIf: { etagMatches: o.etag } });
  assertEquals(await hit.text(), 'body');
  const past = new Date(o.uploaded.getTime() - 10000);
  const future = new Date(o.uploaded.getTime() + 10000);
  assertEquals((await env.BUCKET.get('g', { onlyIf: { uploadedAfter: future } })).body, undefined);
  assert((await env.BUCKET.get('g', { onlyIf: { uploadedAfter: past } })).body !== undefined, 'after past');
  assertEquals((await env.BUCKET.get('g', { onlyIf: { uploadedBefore: past } })).body, undefined);
  assert((await env.BUCKET.get('g', { onlyIf: { uploadedBefore: future } })).body !== undefined, 'before future');
});

test('get onlyIf as Headers: If-None-Match, If-Match lists and weak etags', async ({ env }) => {
  const o = await env.BUCKET.put('hdr', 'data');
  const notModified = await env.BUCKET.get('hdr', { onlyIf: new Headers({ 'if-none-match': `"${o.etag}"` }) });
  assertEquals(notModified.body, undefined);
  const weakNone = await env.BUCKET.get('hdr', { onlyIf: new Headers({ 'if-none-match': `W/"${o.etag}"` }) });
  assertEquals(weakNone.body, undefined);
  const list = await env.BUCKET.get('hdr', { onlyIf: new Headers({ 'if-match': `"other", "${o.etag}"` }) });
  assert(list.body !== undefined, 'one of the list matches');
  const weakMatch = await env.BUCKET.get('hdr', { onlyIf: new Headers({ 'if-match': `W/"${o.etag}"` }) });
  assertEquals(weakMatch.body, undefined, 'If-Match compares strongly');
  await assertRejects(env.BUCKET.get('hdr', { onlyIf: new Headers({ 'if-match': '"a" "b"' }) }), Error,
    /^Comma was expected to separate etags/);
  await assertRejects(env.BUCKET.get('hdr', { onlyIf: new Headers({ 'if-match': '"open' }) }), Error,
    'Unclosed double quote for Etag');
});

test('ranges: offset/length, suffix, Range header', async ({ env }) => {
  await env.BUCKET.put('r', '0123456789');
  let g = await env.BUCKET.get('r', { range: { offset: 2, length: 3 } });
  assertEquals(g.range, { offset: 2, length: 3 });
  assertEquals(await g.text(), '234');
  assertEquals(g.size, 10);
  assertEquals(await (await env.BUCKET.get('r', { range: { offset: 7 } })).text(), '789');
  assertEquals(await (await env.BUCKET.get('r', { range: { length: 2 } })).text(), '01');
  assertEquals(await (await env.BUCKET.get('r', { range: { offset: 8, length: 100 } })).text(), '89');
  g = await env.BUCKET.get('r', { range: { suffix: 4 } });
  assertEquals(g.range, { offset: 6, length: 4 });
  assertEquals(await g.text(), '6789');
  assertEquals(await (await env.BUCKET.get('r', { range: new Headers({ range: 'bytes=1-3' }) })).text(), '123');
  assertEquals(await (await env.BUCKET.get('r', { range: new Headers({ range: 'bytes=-2' }) })).text(), '89');
  assertEquals(await (await env.BUCKET.get('r', { range: new Headers({ range: 'bytes=5-' }) })).text(), '56789');
  assertEquals(await (await env.BUCKET.get('r', { range: new Headers({ range: 'bytes=0-1,3-4' }) })).text(),
    '0123456789', 'several ranges: the whole object');
});

test('range errors: workerd argument checks and R2 InvalidRange', async ({ env }) => {
  await env.BUCKET.put('re', 'abc');
  await assertRejects(env.BUCKET.get('re', { range: { offset: -1 } }), RangeError,
    'Invalid range. Starting offset (-1) must be greater than or equal to 0.');
  await assertRejects(env.BUCKET.get('re', { range: { offset: 1.5 } }), RangeError,
    'Invalid range. Starting offset (1.5) must be an integer, not floating point.');
  await assertRejects(env.BUCKET.get('re', { range: { length: -2 } }), RangeError,
    'Invalid range. Length (-2) must be greater than or equal to 0.');
  await assertRejects(env.BUCKET.get('re', { range: { suffix: 1, offset: 0 } }), TypeError,
    'Suffix is incompatible with offset.');
  await assertRejects(env.BUCKET.get('re', { range: { suffix: 1, length: 1 } }), TypeError,
    'Suffix is incompatible with length.');
  await assertRejects(env.BUCKET.get('re', { range: { offset: 4 } }), Error,
    'get: The requested range is not satisfiable (10039)');
  await assertRejects(env.BUCKET.get('re', { range: { suffix: 0 } }), Error,
    'get: The requested range is not satisfiable (10039)');
});

test('storageClass defaults to Standard and is kept', async ({ env }) => {
  assertEquals((await env.BUCKET.put('sc1', 'x')).storageClass, 'Standard');
  await env.BUCKET.put('sc2', 'x', { storageClass: 'InfrequentAccess' });
  assertEquals((await env.BUCKET.head('sc2')).storageClass, 'InfrequentAccess');
});

export default { fetch: run };
