// @binding r2 BUCKET streams
// R2 and ReadableStream: put of a stream goes to disk chunk by chunk; object bodies are streams.
import { test, assert, assertEquals, assertRejects, run } from './harness.js';

function chunkStream(n, size) {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i === n) {
        c.close();
        return;
      }
      c.enqueue(new Uint8Array(size).fill(i % 256, 0, 1)); // first byte = chunk index
      i++;
    },
  });
}

async function sha256hex(buf) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

test('put of a pulled stream of many chunks', async ({ env }) => {
  const o = await env.BUCKET.put('chunks', chunkStream(200, 1000));
  assertEquals(o.size, 200 * 1000);
  const got = new Uint8Array(await (await env.BUCKET.get('chunks')).arrayBuffer());
  assertEquals(got.length, 200000);
  assertEquals(got[0], 0);
  assertEquals(got[1000], 1);
  assertEquals(got[199 * 1000], 199);
  assertEquals(got[199 * 1000 + 1], 0);
});

test('put of a TransformStream fed while the put runs, with a checksum', async ({ env }) => {
  const { readable, writable } = new TransformStream();
  const parts = ['alpha ', 'beta ', 'gamma'];
  const expected = await sha256hex(new TextEncoder().encode(parts.join('')));
  const put = env.BUCKET.put('fed', readable, { sha256: expected });
  const w = writable.getWriter();
  for (const p of parts) await w.write(new TextEncoder().encode(p));
  await w.close();
  const o = await put;
  assertEquals(o.checksums.toJSON().sha256, expected);
  assertEquals(await (await env.BUCKET.get('fed')).text(), 'alpha beta gamma');
});

test('a stream whose checksum does not match stores nothing', async ({ env }) => {
  const s = new Response('some bytes').body.pipeThrough(new TransformStream());
  await assertRejects(env.BUCKET.put('badsum', s, { md5: '0'.repeat(32) }), Error, /^put: The MD5 checksum/);
  assertEquals(await env.BUCKET.head('badsum'), null);
});

test('a stream that errors rejects the put and stores nothing', async ({ env }) => {
  let n = 0;
  const s = new ReadableStream({
    pull(c) {
      if (n++ < 3) c.enqueue(new Uint8Array(10));
      else c.error(new Error('source broke'));
    },
  });
  await assertRejects(env.BUCKET.put('broken', s), Error, /source broke/);
  assertEquals(await env.BUCKET.head('broken'), null);
});

test('a locked or read stream is refused', async ({ env }) => {
  const s = chunkStream(1, 1);
  s.getReader();
  await assertRejects(env.BUCKET.put('locked', s), TypeError, 'This ReadableStream is currently locked to a reader.');
  const t = chunkStream(1, 1);
  const r = t.getReader();
  await r.read();
  r.releaseLock();
  await assertRejects(env.BUCKET.put('read', t), TypeError, /disturbed/);
});

test('uploadPart of a stream: parts go to disk chunk by chunk', async ({ env }) => {
  const up = await env.BUCKET.createMultipartUpload('mp-stream');
  const p1 = await up.uploadPart(1, chunkStream(5 * 1024, 1024)); // 5 MiB in 1 KiB chunks
  const p2 = await up.uploadPart(2, chunkStream(3, 10));
  assertEquals(p1.partNumber, 1);
  let n = 0;
  const broken = new ReadableStream({ pull(c) { if (n++ < 2) c.enqueue(new Uint8Array(4)); else c.error(new Error('part source broke')); } });
  await assertRejects(up.uploadPart(3, broken), Error, /^uploadPart: .*part source broke/);
  const o = await up.complete([p1, p2]);
  assertEquals(o.size, 5 * 1024 * 1024 + 30);
  const tail = await env.BUCKET.get('mp-stream', { range: { suffix: 10 } });
  assertEquals(new Uint8Array(await tail.arrayBuffer())[0], 2);
});

test('the body of an object is a ReadableStream', async ({ env }) => {
  await env.BUCKET.put('rs', 'streamed body');
  const o = await env.BUCKET.get('rs');
  assert(o.body instanceof ReadableStream, 'body is a ReadableStream');
  const reader = o.body.getReader();
  const parts = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(...value);
  }
  assertEquals(new TextDecoder().decode(new Uint8Array(parts)), 'streamed body');
  assertEquals(o.bodyUsed, true);
});

test('a small body is read at get(): replacing the object afterwards does not change it', async ({ env }) => {
  await env.BUCKET.put('small', 'before');
  const o = await env.BUCKET.get('small');
  await env.BUCKET.put('small', 'after');
  await env.BUCKET.delete('small');
  assertEquals(await o.text(), 'before');
  await assertRejects(o.arrayBuffer(), TypeError, /Body has already been used/);
  assertEquals(o.bodyUsed, true);
});

test('a large body streams from the file in chunks as it is read', async ({ env }) => {
  await env.BUCKET.put('large', chunkStream(30, 100 * 1024)); // 3000 KiB
  const o = await env.BUCKET.get('large');
  assertEquals(o.bodyUsed, false);
  const reader = o.body.getReader();
  let chunks = 0, total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks++;
    total += value.byteLength;
  }
  assertEquals(total, 3000 * 1024);
  assert(chunks >= 10, `read in chunks, not at once (${chunks})`);
  assertEquals(o.bodyUsed, true);
  const whole = await env.BUCKET.get('large', { range: { offset: 100 * 1024, length: 2 * 1024 * 1024 } });
  const bytes = new Uint8Array(await whole.arrayBuffer());
  assertEquals(bytes.length, 2 * 1024 * 1024);
  assertEquals(bytes[0], 1);
});

test('a large body whose object is deleted before it is read fails with R2 words', async ({ env }) => {
  await env.BUCKET.put('gone', chunkStream(12, 100 * 1024));
  const a = await env.BUCKET.get('gone');
  const b = await env.BUCKET.get('gone');
  await env.BUCKET.delete('gone');
  await assertRejects(a.arrayBuffer(), Error, /^get: We encountered an internal error. Please try again. \(10001\)/);
  await assertRejects(new Response(b.body).arrayBuffer(), TypeError, /^get: We encountered an internal error/);
});

test('an object body can be put into another key', async ({ env }) => {
  await env.BUCKET.put('src', 'copy me');
  const src = await env.BUCKET.get('src');
  await env.BUCKET.put('dst', src.body);
  assertEquals(await (await env.BUCKET.get('dst')).text(), 'copy me');
});

export default { fetch: run };
