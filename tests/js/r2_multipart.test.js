// @binding r2 BUCKET multipart
// R2 multipart uploads: create, uploadPart, complete (R2's part rules and etag), abort, resume.
import { test, assert, assertEquals, assertRejects, assertThrows, run } from './harness.js';

const MiB = 1024 * 1024;

// size bytes of `byte`, by doubling with set() (a native copy: fill() loops in script)
function filled(size, byte) {
  const u = new Uint8Array(size);
  if (size === 0) return u;
  u[0] = byte;
  for (let n = 1; n < size; n *= 2) u.set(u.subarray(0, Math.min(n, size - n)), n);
  return u;
}

async function md5hex(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest('MD5', bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

test('three parts complete into one object with a multipart etag', async ({ env }) => {
  const up = await env.BUCKET.createMultipartUpload('big', {
    httpMetadata: { contentType: 'application/octet-stream' },
    customMetadata: { from: 'multipart' },
  });
  assertEquals(Object.prototype.toString.call(up), '[object R2MultipartUpload]');
  assertEquals(up.key, 'big');
  assertEquals(typeof up.uploadId, 'string');
  const p1 = filled(5 * MiB, 1), p2 = filled(5 * MiB, 2), p3 = filled(1000, 3);
  const parts = [];
  parts.push(await up.uploadPart(1, p1));
  parts.push(await up.uploadPart(2, p2));
  parts.push(await up.uploadPart(3, p3));
  assertEquals(parts[0].partNumber, 1);
  assertEquals(parts[0].etag, await md5hex(p1));
  const obj = await up.complete(parts);
  assertEquals(obj.key, 'big');
  assertEquals(obj.size, 10 * MiB + 1000);
  assert(/^[0-9a-f]{32}-3$/.test(obj.etag), obj.etag);
  // the etag is the MD5 of the parts' binary MD5s, then -<count>
  const cat = new Uint8Array(48);
  for (let i = 0; i < 3; i++) {
    const hex = parts[i].etag;
    for (let j = 0; j < 16; j++) cat[i * 16 + j] = parseInt(hex.substr(2 * j, 2), 16);
  }
  assertEquals(obj.etag, `${await md5hex(cat)}-3`);
  assertEquals(obj.checksums.toJSON(), {});
  const g = await env.BUCKET.get('big', { range: { offset: 5 * MiB - 2, length: 4 } });
  assertEquals(new Uint8Array(await g.arrayBuffer()), new Uint8Array([1, 1, 2, 2]));
  const h = await env.BUCKET.head('big');
  assertEquals(h.httpMetadata, { contentType: 'application/octet-stream' });
  assertEquals(h.customMetadata, { from: 'multipart' });
  const tail = await env.BUCKET.get('big', { range: { suffix: 2 } });
  assertEquals(new Uint8Array(await tail.arrayBuffer()), new Uint8Array([3, 3]));
});

test('parts may be given out of order; a single small part is fine', async ({ env }) => {
  const up = await env.BUCKET.createMultipartUpload('small');
  const only = await up.uploadPart(1, 'just this');
  const obj = await up.complete([only]);
  assertEquals(obj.size, 9);
  assertEquals(await (await env.BUCKET.get('small')).text(), 'just this');

  const up2 = await env.BUCKET.createMultipartUpload('ordered');
  const b = await up2.uploadPart(2, filled(5 * MiB, 66));
  const a = await up2.uploadPart(1, filled(5 * MiB, 65));
  const o2 = await up2.complete([b, a]);
  assertEquals(o2.size, 10 * MiB);
  const first = await env.BUCKET.get('ordered', { range: { length: 1 } });
  assertEquals(await first.text(), 'A', 'parts are joined in part-number order');
  const last = await env.BUCKET.get('ordered', { range: { suffix: 1 } });
  assertEquals(await last.text(), 'B');

  // the size rule reads the list in argument order: a small part that is not last is refused
  const up3 = await env.BUCKET.createMultipartUpload('small-first');
  const s2 = await up3.uploadPart(2, 'tail');
  const s1 = await up3.uploadPart(1, filled(5 * MiB, 1));
  await assertRejects(up3.complete([s2, s1]), Error,
    'completeMultipartUpload: Your proposed upload is smaller than the minimum allowed object size. (10011)');
  assertEquals((await up3.complete([s1, s2])).size, 5 * MiB + 4);
});

test('R2 part rules: too small, unequal sizes, missing parts', async ({ env }) => {
  const up = await env.BUCKET.createMultipartUpload('rules');
  const a = await up.uploadPart(1, filled(100, 1));
  const b = await up.uploadPart(2, filled(100, 2));
  await assertRejects(up.complete([a, b]), Error,
    'completeMultipartUpload: Your proposed upload is smaller than the minimum allowed object size. (10011)');
  await assertRejects(up.complete([a, { partNumber: 9, etag: a.etag }]), Error,
    'completeMultipartUpload: One or more of the specified parts could not be found. (10025)');
  await assertRejects(up.complete([{ partNumber: 1, etag: 'f'.repeat(32) }]), Error,
    'completeMultipartUpload: One or more of the specified parts could not be found. (10025)');
  const c = await up.uploadPart(3, filled(5 * MiB, 3));
  const d = await up.uploadPart(4, filled(5 * MiB + 1, 4));
  const e = await up.uploadPart(5, filled(10, 5));
  await assertRejects(up.complete([c, d, e]), Error,
    'completeMultipartUpload: There was a problem with the multipart upload. (10048)');
  assertEquals(await env.BUCKET.head('rules'), null);
  await up.abort();
});

test('abort: the upload is gone for parts and completion', async ({ env }) => {
  const up = await env.BUCKET.createMultipartUpload('aborted');
  const p = await up.uploadPart(1, 'x');
  assertEquals(await up.abort(), undefined);
  await assertRejects(up.uploadPart(2, 'y'), Error,
    'uploadPart: The specified multipart upload does not exist. (10024)');
  await assertRejects(up.complete([p]), Error,
    'completeMultipartUpload: The specified multipart upload does not exist. (10024)');
  await up.abort(); // again: nothing to do
  assertEquals(await env.BUCKET.head('aborted'), null);
});

test('resumeMultipartUpload continues an upload by id; a completed upload takes no more parts', async ({ env }) => {
  const up = await env.BUCKET.createMultipartUpload('resumed');
  const p1 = await up.uploadPart(1, filled(5 * MiB, 7));
  const again = env.BUCKET.resumeMultipartUpload('resumed', up.uploadId);
  assertEquals(again.uploadId, up.uploadId);
  const p2 = await again.uploadPart(2, 'end');
  const obj = await again.complete([p1, p2]);
  assertEquals(obj.size, 5 * MiB + 3);
  await assertRejects(up.uploadPart(3, 'late'), Error,
    'uploadPart: The specified multipart upload does not exist. (10024)');
  const bogus = env.BUCKET.resumeMultipartUpload('resumed', 'no-such-id');
  await assertRejects(bogus.uploadPart(1, 'x'), Error,
    'uploadPart: The specified multipart upload does not exist. (10024)');
  const wrongKey = env.BUCKET.resumeMultipartUpload('other-key', up.uploadId);
  await assertRejects(wrongKey.complete([p1]), Error,
    'completeMultipartUpload: The specified multipart upload does not exist. (10024)');
  assertThrows(() => env.BUCKET.resumeMultipartUpload('k'), TypeError);
});

test('part numbers must be 1..10000', async ({ env }) => {
  const up = await env.BUCKET.createMultipartUpload('numbers');
  await assertRejects(up.uploadPart(0, 'x'), TypeError,
    'Part number must be between 1 and 10000 (inclusive). Actual value was: 0');
  await assertRejects(up.uploadPart(10001, 'x'), TypeError,
    'Part number must be between 1 and 10000 (inclusive). Actual value was: 10001');
  await assertRejects(up.uploadPart(1, { not: 'a value' }), TypeError,
    /^Failed to execute 'uploadPart' on 'R2MultipartUpload': parameter 2/);
  await up.abort();
});

test('re-uploading a part replaces it', async ({ env }) => {
  const up = await env.BUCKET.createMultipartUpload('replace');
  await up.uploadPart(1, 'first');
  const p = await up.uploadPart(1, 'second');
  const o = await up.complete([p]);
  assertEquals(await (await env.BUCKET.get('replace')).text(), 'second');
  assertEquals(o.size, 6);
});

export default { fetch: run };
