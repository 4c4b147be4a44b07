// Queues: the producer API (send, sendBatch: content types, options, limits and their errors) and what a
// consumer receives (MessageBatch, Message), with the same Worker consuming its own queue (queues.wrangler.json:
// env.Q -> "jstest-q", consumed here with max_batch_timeout 0 and max_retries 1; env.LATER has a one-hour
// delivery_delay and no consumer).
import { test, assert, assertEquals, assertRejects, run } from './harness.js';

// Messages delivered so far (the queue handler below records them with a tag from their body). A test waits
// for its messages by polling with timers: a promise settled by another event (the queue event) would not
// keep the fetch request alive, as on Cloudflare.
const delivered = [];
const retryOnce = new Set();

function tagOf(body) {
  if (typeof body === 'string') return body.split(':')[0];
  if (body instanceof ArrayBuffer) return 'bytes';
  if (body instanceof Map) return body.get('tag');
  if (body && typeof body === 'object' && 'tag' in body) return body.tag;
  return undefined;
}

async function waitFor(tag, count) {
  for (let i = 0; i < 2000; i++) {
    const got = delivered.filter((d) => d.tag === tag);
    if (got.length >= count) return got;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${tag}: ${count} message(s) were not delivered`);
}

test('send() and sendBatch() resolve once stored, with the backlog (workerd\'s SendResponse)', async ({ env }) => {
  const r = await env.LATER.send('plain:1', { contentType: 'text' });
  assertEquals(Object.keys(r), ['metadata']);
  const m = r.metadata.metrics;
  assert(m.backlogCount >= 1 && m.backlogBytes >= 7, JSON.stringify(m));
  assert(m.oldestMessageTimestamp instanceof Date, 'oldestMessageTimestamp is a Date');
  const r2 = await env.LATER.sendBatch([{ body: 'plain:2', contentType: 'text' }, { body: 'plain:3', contentType: 'text' }]);
  assertEquals(r2.metadata.metrics.backlogCount, m.backlogCount + 2);
  assertEquals(r2.metadata.metrics.backlogBytes, m.backlogBytes + 14);
  const now = await env.LATER.metrics();
  assertEquals(now.backlogCount, m.backlogCount + 2);
  await env.Q.send('plain:4', { contentType: 'text' });
  const got = await waitFor('plain', 1);
  assertEquals(got.map((d) => d.body), ['plain:4']);
});

test('each content type round-trips; v8 (the default) keeps structured-clone types', async ({ env }) => {
  await env.Q.send('text:hello é', { contentType: 'text' });
  await env.Q.send(new Uint8Array([1, 2, 255]), { contentType: 'bytes' });
  await env.Q.send({ tag: 'json', list: [1, 'two', null] }, { contentType: 'JSON' });
  await env.Q.send(new Map([['tag', 'v8map'], ['when', new Date(1234)]]));
  await env.Q.send({ tag: 'v8obj', d: new Date(5), s: new Set([1]), u: undefined }, { contentType: 'v8' });
  const [text] = await waitFor('text', 1);
  assertEquals(text.body, 'text:hello é');
  const [bytes] = await waitFor('bytes', 1);
  assert(bytes.body instanceof ArrayBuffer, 'bytes arrive as an ArrayBuffer');
  assertEquals(Array.from(new Uint8Array(bytes.body)), [1, 2, 255]);
  const [json] = await waitFor('json', 1);
  assertEquals(json.body, { tag: 'json', list: [1, 'two', null] });
  const [map] = await waitFor('v8map', 1);
  assert(map.body instanceof Map && map.body.get('when') instanceof Date, 'a Map with a Date');
  assertEquals(map.body.get('when').getTime(), 1234);
  const [obj] = await waitFor('v8obj', 1);
  assert(obj.body.s instanceof Set && obj.body.s.has(1) && 'u' in obj.body, 'Set and undefined kept');
});

test('messages carry id, timestamp, attempts and the queue name', async ({ env }) => {
  const before = Date.now();
  await env.Q.send('meta:x', { contentType: 'text' });
  const [m] = await waitFor('meta', 1);
  assert(/^[0-9a-f]{32}$/.test(m.id), `id ${m.id}`);
  assert(m.timestamp instanceof Date, 'timestamp is a Date');
  assert(m.timestamp.getTime() >= before - 1000 && m.timestamp.getTime() <= Date.now(), 'timestamp is the send time');
  assertEquals(m.attempts, 1);
  assertEquals(m.queue, 'jstest-q');
  assert(m.metadata.metrics.backlogCount >= 1, 'the backlog includes the batch being delivered');
});

test('retry() delivers the message again with attempts + 1', async ({ env }) => {
  retryOnce.add('again:1');
  await env.Q.send('again:1', { contentType: 'text' });
  const got = await waitFor('again', 2);
  assertEquals(got.map((d) => d.attempts), [1, 2]);
  assertEquals(got[0].id, got[1].id);
});

test('send() argument errors are workerd\'s', async ({ env }) => {
  await assertRejects(env.Q.send(undefined), TypeError, /^Message body cannot be undefined$/);
  await assertRejects(env.Q.send('x', { contentType: 'xml' }), TypeError,
    /^Unsupported queue message content type: xml$/);
  await assertRejects(env.Q.send(42, { contentType: 'text' }), TypeError,
    /^Content Type "text" requires a value of type string, but received: number$/);
  await assertRejects(env.Q.send('abc', { contentType: 'bytes' }), TypeError,
    /^Content Type "bytes" requires a value of type ArrayBufferView, but received: string$/);
  await assertRejects(env.Q.send(new ArrayBuffer(2), { contentType: 'bytes' }), TypeError,
    /requires a value of type ArrayBufferView, but received: object$/);
  await assertRejects(env.Q.send({ f() {} }, { contentType: 'v8' }), Error, /could not be cloned/);
  await assertRejects(env.Q.send('x', { delaySeconds: -1 }), Error, /^Queue send failed: message delay -1 is invalid$/);
  await assertRejects(env.Q.send('x', { delaySeconds: 43201 }), Error, /message delay 43201 is invalid/);
  await assertRejects(env.Q.send('x', { delaySeconds: 1.5 }), Error, /message delay 1.5 is invalid/);
  await assertRejects(env.Q.send('x', 'json'), TypeError,
    /^Failed to execute 'send' on 'WorkerQueue': parameter 2 is not of type 'QueueSendOptions'\.$/);
  await assertRejects(env.Q.sendBatch([{ body: 1 }], 5), TypeError, /parameter 2 is not of type 'QueueSendBatchOptions'/);
});

test('the 128 KB message limit', async ({ env }) => {
  await assertRejects(env.Q.send('a'.repeat(128001), { contentType: 'text' }), Error,
    /^Queue send failed: message length of 128001 bytes exceeds limit of 128000$/);
  assertEquals(typeof await env.LATER.send('a'.repeat(128000), { contentType: 'text' }), 'object');
});

test('sendBatch() errors and limits', async ({ env }) => {
  await assertRejects(env.Q.sendBatch([]), TypeError, /^sendBatch\(\) requires at least one message$/);
  await assertRejects(env.Q.sendBatch([{ body: undefined }]), TypeError, /^Message body cannot be undefined$/);
  await assertRejects(env.Q.sendBatch(42), TypeError);
  const many = Array.from({ length: 101 }, (_, i) => ({ body: i }));
  await assertRejects(env.Q.sendBatch(many), Error,
    /^Queue sendBatch failed: batch message count of 101 exceeds limit of 100$/);
  await assertRejects(env.Q.sendBatch([{ body: 'b'.repeat(128001), contentType: 'text' }]), Error,
    /^Queue sendBatch failed: message in batch has length 128001 bytes which exceeds single message size limit of 128000$/);
  const big = Array.from({ length: 3 }, () => ({ body: 'c'.repeat(100000), contentType: 'text' }));
  await assertRejects(env.Q.sendBatch(big), Error,
    /^Queue sendBatch failed: batch size of 300000 bytes exceeds limit of 256000$/);
  await assertRejects(env.Q.sendBatch([{ body: 1 }], { delaySeconds: 99999 }), Error,
    /^Queue sendBatch failed: message delay 99999 is invalid$/);
});

test('sendBatch() takes any iterable and per-message options', async ({ env }) => {
  function* gen() {
    yield { body: 'iter:a', contentType: 'text' };
    yield { body: 'iter:b', contentType: 'text', delaySeconds: 0 };
  }
  await env.Q.sendBatch(gen(), { delaySeconds: 0 });
  const got = await waitFor('iter', 2);
  assertEquals(got.map((d) => d.body).sort(), ['iter:a', 'iter:b']);
});

test('delayed messages are stored but not delivered yet', async ({ env }) => {
  await env.Q.send('delayed:1', { contentType: 'text', delaySeconds: 3600 });
  await env.Q.send('now:1', { contentType: 'text' });
  await waitFor('now', 1);
  assertEquals(delivered.filter((d) => d.tag === 'delayed').length, 0);
});

test('the producer is a plain object with send and sendBatch', async ({ env }) => {
  assertEquals(typeof env.Q.send, 'function');
  assertEquals(typeof env.Q.sendBatch, 'function');
  assertEquals(typeof env.Q.metrics, 'function');
  await assertRejects(env.Q.send.call({}, 'x'), TypeError, /Illegal invocation/);
});

export default {
  fetch: run,
  async queue(batch, env, ctx) {
    assert(Array.isArray(batch.messages), 'messages is an array');
    assertEquals(typeof batch.ackAll, 'function');
    assertEquals(typeof batch.retryAll, 'function');
    assertEquals(typeof ctx.waitUntil, 'function');
    for (const m of batch.messages) {
      const key = typeof m.body === 'string' ? m.body : undefined;
      if (key !== undefined && retryOnce.has(key)) {
        retryOnce.delete(key);
        m.retry();
      } else {
        m.ack();
      }
      delivered.push({ tag: tagOf(m.body), body: m.body, id: m.id, timestamp: m.timestamp, attempts: m.attempts,
                       queue: batch.queue, metadata: batch.metadata });
    }
  },
};
