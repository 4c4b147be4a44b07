// The Cache API (caches.default, caches.open) on the run's fresh state directory: Cloudflare's put() rules,
// match/delete with ignoreMethod, expiry, conditional matches (304) and cf-cache-status.
import { test, assert, assertEquals, assertRejects, assertThrows, run } from './harness.js';

const U = 'https://example.com/';

test('caches.default and caches.open() are Cache objects', async () => {
  assert(caches.default instanceof Cache, 'default');
  assert(caches.default === caches.default, 'the same object each time');
  const named = await caches.open('custom:cache');
  assert(named instanceof Cache, 'open');
  assertEquals(typeof caches.default.put, 'function');
  await assertRejects(caches.open(), TypeError);
});

test('put then match returns the response with cf-cache-status: HIT', async () => {
  const cache = caches.default;
  await cache.put(U + 'a', new Response('hello', {
    status: 200, statusText: 'Fine', headers: { 'Cache-Control': 'max-age=3600', 'X-Kind': 'a' },
  }));
  const hit = await cache.match(U + 'a');
  assert(hit instanceof Response, 'a Response');
  assertEquals(hit.status, 200);
  assertEquals(hit.statusText, 'Fine');
  assertEquals(hit.headers.get('x-kind'), 'a');
  assertEquals(hit.headers.get('cf-cache-status'), 'HIT');
  assertEquals(await hit.text(), 'hello');
  const viaRequest = await cache.match(new Request(U + 'a'));
  assertEquals(await viaRequest.text(), 'hello');
  assertEquals(await cache.match(U + 'missing'), undefined);
});

test('binary bodies round-trip', async () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  await caches.default.put(U + 'bin', new Response(bytes, { headers: { 'cache-control': 'max-age=60' } }));
  const got = new Uint8Array(await (await caches.default.match(U + 'bin')).arrayBuffer());
  assertEquals(got, bytes);
});

test('put() rejects non-GET requests, 206 and Vary: *', async () => {
  const c = caches.default;
  await assertRejects(c.put(new Request(U, { method: 'POST' }), new Response('x')), TypeError,
    'Cannot cache response to non-GET request.');
  await assertRejects(c.put(U, new Response('x', { status: 206 })), TypeError,
    'Cannot cache response to a range request (206 Partial Content).');
  await assertRejects(c.put(U, new Response('x', { headers: { Vary: 'Accept, *' } })), TypeError,
    "Cannot cache response with 'Vary: *' header.");
  const used = new Response('x');
  await used.text();
  await assertRejects(c.put(U, used), TypeError, /Body has already been used/);
  await assertRejects(c.put(U, 'not a response'), TypeError);
});

test('no-store, private, no-cache and Set-Cookie are not stored', async () => {
  const c = caches.default;
  const cases = [
    ['ns', { 'cache-control': 'no-store' }],
    ['pr', { 'cache-control': 'private, max-age=60' }],
    ['nc', { 'cache-control': 'no-cache' }],
    ['ck', { 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }],
    ['m0', { 'cache-control': 'max-age=0' }],
    ['ex', { expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }],
    ['500', null],
  ];
  for (const [name, headers] of cases) {
    const status = name === '500' ? 500 : 200;
    await c.put(U + name, new Response('x', { status, headers: headers || {} }));
    assertEquals(await c.match(U + name), undefined, name);
  }
});

test('private=Set-Cookie stores the response without its Set-Cookie', async () => {
  await caches.default.put(U + 'cookie', new Response('x', {
    headers: { 'cache-control': 'private=Set-Cookie, max-age=60', 'set-cookie': 'a=b' },
  }));
  const hit = await caches.default.match(U + 'cookie');
  assert(hit !== undefined, 'stored');
  assertEquals(hit.headers.get('set-cookie'), null);
});

test('Expires in the future and the default TTL of 200 store the response', async () => {
  const later = new Date(Date.now() + 3600e3).toUTCString();
  await caches.default.put(U + 'exp', new Response('e', { headers: { expires: later } }));
  assertEquals(await (await caches.default.match(U + 'exp')).text(), 'e');
  await caches.default.put(U + 'plain', new Response('p'));
  assertEquals(await (await caches.default.match(U + 'plain')).text(), 'p');
});

test('entries expire', async () => {
  await caches.default.put(U + 'short', new Response('s', { headers: { 'cache-control': 's-maxage=1, max-age=999' } }));
  assert((await caches.default.match(U + 'short')) !== undefined, 'fresh');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assertEquals(await caches.default.match(U + 'short'), undefined);
});

test('match and delete ignore non-GET requests unless ignoreMethod', async () => {
  const c = caches.default;
  await c.put(U + 'm', new Response('m', { headers: { 'cache-control': 'max-age=60' } }));
  const post = new Request(U + 'm', { method: 'POST' });
  assertEquals(await c.match(post), undefined);
  assertEquals(await (await c.match(post, { ignoreMethod: true })).text(), 'm');
  assertEquals(await c.delete(post), false);
  assertEquals(await c.delete(post, { ignoreMethod: true }), true);
  assertEquals(await c.match(U + 'm'), undefined);
  assertEquals(await c.delete(U + 'm'), false);
});

test('ETag and Last-Modified answer conditional matches with 304', async () => {
  const c = caches.default;
  await c.put(U + 'etag', new Response('body', {
    headers: { 'cache-control': 'max-age=60', etag: '"v1"', 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' },
  }));
  const same = await c.match(new Request(U + 'etag', { headers: { 'If-None-Match': 'W/"v1"' } }));
  assertEquals(same.status, 304);
  assertEquals(same.headers.get('etag'), '"v1"');
  assertEquals(await same.text(), '');
  const other = await c.match(new Request(U + 'etag', { headers: { 'If-None-Match': '"v2"' } }));
  assertEquals(other.status, 200);
  const since = await c.match(new Request(U + 'etag', { headers: { 'If-Modified-Since': 'Thu, 22 Oct 2015 07:28:00 GMT' } }));
  assertEquals(since.status, 304);
  const before = await c.match(new Request(U + 'etag', { headers: { 'If-Modified-Since': 'Tue, 20 Oct 2015 07:28:00 GMT' } }));
  assertEquals(before.status, 200);
});

test('match() answers a Range request with 206 or 416', async () => {
  const c = caches.default;
  await c.put(U + 'range', new Response('0123456789', { headers: { 'cache-control': 'max-age=60' } }));
  const part = await c.match(new Request(U + 'range', { headers: { Range: 'bytes=2-5' } }));
  assertEquals(part.status, 206);
  assertEquals(part.headers.get('content-range'), 'bytes 2-5/10');
  assertEquals(await part.text(), '2345');
  const tail = await c.match(new Request(U + 'range', { headers: { Range: 'bytes=-3' } }));
  assertEquals([tail.status, await tail.text()], [206, '789']);
  const open = await c.match(new Request(U + 'range', { headers: { Range: 'bytes=8-' } }));
  assertEquals([open.status, await open.text(), open.headers.get('content-range')], [206, '89', 'bytes 8-9/10']);
  const bad = await c.match(new Request(U + 'range', { headers: { Range: 'bytes=20-30' } }));
  assertEquals([bad.status, bad.headers.get('content-range')], [416, 'bytes */10']);
  const multi = await c.match(new Request(U + 'range', { headers: { Range: 'bytes=0-1,3-4' } }));
  assertEquals([multi.status, await multi.text()], [200, '0123456789']);
});

test('named caches are separate from each other and from the default', async () => {
  const a = await caches.open('a');
  const b = await caches.open('b');
  await a.put(U + 'n', new Response('from a', { headers: { 'cache-control': 'max-age=60' } }));
  assertEquals(await b.match(U + 'n'), undefined);
  assertEquals(await caches.default.match(U + 'n'), undefined);
  assertEquals(await (await (await caches.open('a')).match(U + 'n')).text(), 'from a');
});

test('a matched response can be stored again', async () => {
  await caches.default.put(U + 'again', new Response('x', { headers: { 'cache-control': 'max-age=60' } }));
  const hit = await caches.default.match(U + 'again');
  await caches.default.put(U + 'again2', hit);
  const second = await caches.default.match(U + 'again2');
  assertEquals(second.headers.get('cf-cache-status'), 'HIT');
  assertEquals([...second.headers.keys()].filter((k) => k === 'cf-cache-status').length, 1);
  assertEquals(await second.text(), 'x');
});

test('put replaces an entry', async () => {
  const c = caches.default;
  await c.put(U + 'r', new Response('one', { headers: { 'cache-control': 'max-age=60' } }));
  await c.put(U + 'r', new Response('two', { headers: { 'cache-control': 'max-age=60' } }));
  assertEquals(await (await c.match(U + 'r')).text(), 'two');
});

test('the seed caching pattern', async () => {
  const request = new Request(U + 'seed');
  const cache = caches.default;
  const cacheKey = new Request(request.url, request);
  let response = await cache.match(cacheKey);
  assertEquals(response, undefined);
  response = new Response('generated');
  const responseToCache = response.clone();
  responseToCache.headers.set('X-Cache', 'MISS');
  responseToCache.headers.set('Cache-Control', 'public, max-age=3600');
  await cache.put(cacheKey, responseToCache);
  response = await cache.match(cacheKey);
  response = new Response(response.body, response);
  response.headers.set('X-Cache', 'HIT');
  assertEquals(response.headers.get('x-cache'), 'HIT');
  assertEquals(await response.text(), 'generated');
});

test('methods check their receiver (synchronously, as V8 does)', () => {
  assertThrows(() => caches.default.match.call({}, U), TypeError, 'Illegal invocation');
  assertThrows(() => Cache.prototype.put.call(null, U, new Response('x')), TypeError, 'Illegal invocation');
});

export default { fetch: run };
