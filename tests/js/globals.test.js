// Small Workers globals: performance, navigator, self, reportError, scheduler.wait, MessageChannel.
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

test('performance.now() and timeOrigin (workerd: origin 0, now() is Date.now() with sub-ms precision)', () => {
  assertEquals(performance.timeOrigin, 0);
  const a = performance.now();
  const d = Date.now();
  assert(Math.abs(a - d) < 1000, `${a} vs ${d}`);
  const b = performance.now();
  assert(b >= a);
  assertEquals(Object.prototype.toString.call(performance), '[object Performance]');
  assertEquals(JSON.stringify(performance), '{"timeOrigin":0}');
});

test('navigator and self', () => {
  assertEquals(navigator.userAgent, 'Cloudflare-Workers');
  assertEquals(navigator.hardwareConcurrency, 1);
  assert(self === globalThis);
});

test('reportError dispatches a cancelable error event to global listeners', () => {
  const seen = [];
  const onError = (e) => { seen.push([e.type, e.error && e.error.message, e.message, e.cancelable]); e.preventDefault(); };
  addEventListener('error', onError);
  reportError(new Error('reported'));
  removeEventListener('error', onError);
  assertEquals(seen, [['error', 'reported', 'reported', true]]);
  assertThrows(() => reportError(), TypeError);
});

test('scheduler.wait resolves after the delay', async () => {
  const t0 = Date.now();
  assertEquals(await scheduler.wait(5), undefined);
  assert(Date.now() >= t0);
});

test('scheduler.wait with an AbortSignal', async () => {
  let reason;
  await scheduler.wait(10, { signal: AbortSignal.abort('early') }).catch((e) => { reason = e; });
  assertEquals(reason, 'early');
  const ac = new AbortController();
  const p = scheduler.wait(10000, { signal: ac.signal });
  ac.abort(new RangeError('stop'));
  await assertRejects(p, RangeError, 'stop');
  await assertRejects(scheduler.wait(1, { signal: {} }), TypeError);
});

test('MessageChannel delivers structured clones asynchronously once started', async () => {
  const { port1, port2 } = new MessageChannel();
  const got = new Promise((resolve) => { port2.onmessage = (e) => resolve(e); });
  const payload = { n: 1, nested: [new Map([['k', 'v']])] };
  port1.postMessage(payload);
  payload.n = 2;
  const e = await got;
  assert(e instanceof MessageEvent);
  assertEquals(e.data.n, 1);
  assert(e.data.nested[0] instanceof Map);
  assertEquals([e.type, e.origin, e.lastEventId, e.source, e.ports], ['message', '', '', null, []]);
  assertEquals(e.target, port2);
});

test('messages wait for start() when only addEventListener is used', async () => {
  const ch = new MessageChannel();
  const seen = [];
  ch.port2.addEventListener('message', (e) => seen.push(e.data));
  ch.port1.postMessage('a');
  ch.port1.postMessage('b');
  await scheduler.wait(5);
  assertEquals(seen, []);
  const done = new Promise((r) => ch.port2.addEventListener('message', () => { if (seen.length === 2) r(); }));
  ch.port2.start();
  await done;
  assertEquals(seen, ['a', 'b']);
});

test('both directions, transfer, close', async () => {
  const { port1, port2 } = new MessageChannel();
  const back = new Promise((r) => { port1.onmessage = (e) => r(e.data); });
  port2.onmessage = (e) => port2.postMessage(e.data.byteLength);
  const buf = new Uint8Array([1, 2, 3]).buffer;
  port1.postMessage(buf, [buf]);
  assertEquals(buf.byteLength, 0);
  assertEquals(await back, 3);
  const buf2 = new ArrayBuffer(2);
  port1.postMessage(buf2, { transfer: [buf2] });
  assertEquals(buf2.byteLength, 0);
  port1.close();
  port2.postMessage('dropped'); // the other side is closed: nothing happens
  assertThrows(() => port1.postMessage(() => 1), DOMException);
});

test('MessagePort and MessageEvent constructors', () => {
  assertThrows(() => new MessagePort(), TypeError, 'Illegal constructor');
  const e = new MessageEvent('message', { data: 5, origin: 'o' });
  assertEquals([e.data, e.origin, e.ports], [5, 'o', []]);
  assertThrows(() => MessageChannel(), TypeError);
  assert(new MessageChannel().port1 instanceof EventTarget);
});

export default { fetch: run };
