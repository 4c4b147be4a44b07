// @binding r2 BUCKET listing
// R2 list(): order, prefix, limit and cursor, startAfter, delimiter, include.
import { test, assert, assertEquals, assertRejects, run } from './harness.js';

const KEYS = ['a', 'b/1', 'b/2', 'b/3/x', 'c', 'dir/a/1', 'dir/a/2', 'dir/b/1', 'z', 'é'];  // UTF-8 byte order: é (c3 a9) after z

async function fill(bucket) {
  for (const k of KEYS) {
    await bucket.put(k, k, { httpMetadata: { contentType: 'text/plain' }, customMetadata: { k } });
  }
}

test('list returns every key in byte order, without metadata by default', async ({ env }) => {
  await fill(env.BUCKET);
  const r = await env.BUCKET.list();
  assertEquals(r.objects.map((o) => o.key), KEYS);
  assertEquals(r.truncated, false);
  assertEquals(r.cursor, undefined);
  assertEquals(r.delimitedPrefixes, []);
  const o = r.objects[0];
  assertEquals(Object.prototype.toString.call(o), '[object R2Object]');
  assertEquals(o.size, 1);
  assertEquals(o.httpMetadata, undefined);
  assertEquals(o.customMetadata, undefined);
});

test('include adds httpMetadata and customMetadata', async ({ env }) => {
  const r = await env.BUCKET.list({ prefix: 'a', include: ['httpMetadata', 'customMetadata'] });
  assertEquals(r.objects.length, 1);
  assertEquals(r.objects[0].httpMetadata, { contentType: 'text/plain' });
  assertEquals(r.objects[0].customMetadata, { k: 'a' });
  const h = new Headers();
  r.objects[0].writeHttpMetadata(h);
  assertEquals(h.get('content-type'), 'text/plain');
  const bare = (await env.BUCKET.list({ prefix: 'a' })).objects[0];
  let threw = null;
  try { bare.writeHttpMetadata(new Headers()); } catch (e) { threw = e; }
  assert(threw instanceof TypeError && /Did you forget to add 'httpMetadata'/.test(threw.message), String(threw));
  await assertRejects(env.BUCKET.list({ include: ['nope'] }), RangeError, 'Unsupported include value nope');
});

test('prefix', async ({ env }) => {
  assertEquals((await env.BUCKET.list({ prefix: 'b/' })).objects.map((o) => o.key), ['b/1', 'b/2', 'b/3/x']);
  assertEquals((await env.BUCKET.list({ prefix: 'nothing' })).objects, []);
});

test('limit and cursor page through the keys', async ({ env }) => {
  const seen = [];
  let cursor;
  let pages = 0;
  for (;;) {
    const r = await env.BUCKET.list({ limit: 3, cursor });
    pages++;
    seen.push(...r.objects.map((o) => o.key));
    if (!r.truncated) break;
    assertEquals(typeof r.cursor, 'string');
    cursor = r.cursor;
  }
  assertEquals(seen, KEYS);
  assertEquals(pages, 4);
});

test('limit must be 1..1000', async ({ env }) => {
  const msg = 'list: MaxKeys params must be positive integer <= 1000. (10022)';
  await assertRejects(env.BUCKET.list({ limit: 0 }), Error, msg);
  await assertRejects(env.BUCKET.list({ limit: 1001 }), Error, msg);
  assertEquals((await env.BUCKET.list({ limit: 1000 })).objects.length, KEYS.length);
  await assertRejects(env.BUCKET.list({ cursor: 'not-a-cursor' }), Error, /^list: /);
});

test('startAfter', async ({ env }) => {
  assertEquals((await env.BUCKET.list({ startAfter: 'dir/b/1' })).objects.map((o) => o.key), ['z', 'é']);
  assertEquals((await env.BUCKET.list({ prefix: 'b/', startAfter: 'b/1' })).objects.map((o) => o.key),
    ['b/2', 'b/3/x']);
});

test('delimiter groups keys into delimitedPrefixes', async ({ env }) => {
  const r = await env.BUCKET.list({ delimiter: '/' });
  assertEquals(r.objects.map((o) => o.key), ['a', 'c', 'z', 'é']);
  assertEquals(r.delimitedPrefixes, ['b/', 'dir/']);
  const d = await env.BUCKET.list({ prefix: 'dir/', delimiter: '/' });
  assertEquals(d.objects, []);
  assertEquals(d.delimitedPrefixes, ['dir/a/', 'dir/b/']);
  const b = await env.BUCKET.list({ prefix: 'b/', delimiter: '/' });
  assertEquals(b.objects.map((o) => o.key), ['b/1', 'b/2']);
  assertEquals(b.delimitedPrefixes, ['b/3/']);
});

test('delimiter with paging does not repeat a prefix', async ({ env }) => {
  const items = [];
  let cursor;
  for (;;) {
    const r = await env.BUCKET.list({ delimiter: '/', limit: 2, cursor });
    items.push(...r.objects.map((o) => o.key), ...r.delimitedPrefixes);
    if (!r.truncated) break;
    cursor = r.cursor;
  }
  assertEquals(items.sort(), ['a', 'b/', 'c', 'dir/', 'z', 'é'].sort());
});

test('deleted keys disappear from the list', async ({ env }) => {
  await env.BUCKET.delete(KEYS);
  assertEquals((await env.BUCKET.list()).objects, []);
});

export default { fetch: run };
