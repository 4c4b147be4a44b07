// fetch(): argument handling and the errors that need no origin (tests/e2e/test_fetch.py has the network).
import { test, assert, assertEquals, assertRejects, assertThrows, run } from './harness.js';

test('fetch is a global function of length 1', () => {
  assertEquals(typeof fetch, 'function');
  assertEquals(fetch.length, 1);
  assertEquals(fetch.name, 'fetch');
  assert(!Object.keys(globalThis).includes('fetch'), 'fetch is not enumerable');
});

test('invalid input rejects instead of throwing', async () => {
  const p = fetch('not a url');
  assert(p instanceof Promise);
  await assertRejects(p, TypeError, 'Invalid URL: not a url');
});

test('schemes other than http and https are refused', async () => {
  await assertRejects(fetch('ftp://example.com/x'), TypeError, 'Fetch API cannot load: ftp://example.com/x');
  await assertRejects(fetch('data:,hi'), TypeError, 'Fetch API cannot load: data:,hi');
  await assertRejects(fetch('wss://example.com/'), TypeError, 'Fetch API cannot load: wss://example.com/');
});

test('Request rules apply to fetch(input, init)', async () => {
  await assertRejects(fetch('http://127.0.0.1/', { method: 'GET', body: 'x' }), TypeError,
    'Request with a GET or HEAD method cannot have a body.');
  await assertRejects(fetch('http://127.0.0.1/', { method: 'TRACE' }), TypeError);
  await assertRejects(fetch('http://127.0.0.1/', { redirect: 'sideways' }), TypeError);
  await assertRejects(fetch('http://127.0.0.1/', { headers: { 'bad name': 'x' } }), TypeError);
});

test('a used Request cannot be fetched', async () => {
  const r = new Request('http://127.0.0.1:1/', { method: 'POST', body: 'x' });
  await r.text();
  await assertRejects(fetch(r), TypeError);
});

test('signal must be an AbortSignal', async () => {
  await assertRejects(fetch('http://127.0.0.1:1/', { signal: 'no' }), TypeError, /member signal is not of type AbortSignal/);
  await assertRejects(fetch('http://127.0.0.1:1/', { signal: { aborted: true, addEventListener() {} } }), TypeError,
    /member signal is not of type AbortSignal/);
});

test('a Request keeps its signal, and fetch(request) honours it', async () => {
  const signal = AbortSignal.abort(new Error('from the request'));
  const req = new Request('http://127.0.0.1:1/', { signal });
  assertEquals(req.signal, signal);
  assertEquals(new Request(req).signal, signal);
  assertEquals(req.clone().signal, signal);
  assertEquals(new Request(req, { signal: null }).signal, null);
  assertEquals(new Request('http://x/').signal, null);
  let caught;
  try { await fetch(req); } catch (e) { caught = e; }
  assertEquals(caught.message, 'from the request');
});

test('an already aborted signal rejects with its reason before any I/O', async () => {
  const reason = new Error('gave up');
  let caught;
  try { await fetch('http://127.0.0.1:1/', { signal: AbortSignal.abort(reason) }); } catch (e) { caught = e; }
  assertEquals(caught, reason);
});

test('an aborted signal without a reason rejects with an AbortError', async () => {
  let caught;
  try { await fetch('http://127.0.0.1:1/', { signal: AbortSignal.abort() }); } catch (e) { caught = e; }
  assertEquals(caught.name, 'AbortError');
  assert(caught instanceof DOMException);
});

test('aborting while connecting rejects with the reason', async () => {
  const controller = new AbortController();
  const p = fetch('http://127.0.0.1:1/', { signal: controller.signal });
  controller.abort('stop');
  let caught;
  try { await p; } catch (e) { caught = e; }
  assertEquals(caught, 'stop');
});

test('a refused connection is a TypeError naming the address', async () => {
  await assertRejects(fetch('http://127.0.0.1:1/'), TypeError, /^Could not connect to 127\.0\.0\.1 port 1: /);
});

test('names under .invalid never resolve', async () => {
  await assertRejects(fetch('http://example.invalid/'), TypeError,
    'DNS lookup failed for example.invalid: no such host.');
});

test('responses made by scripts have an empty url and were not redirected', () => {
  const r = new Response('x');
  assertEquals(r.url, '');
  assertEquals(r.redirected, false);
  assertEquals(r.clone().url, '');
});

test("cache: only 'no-store' is supported", () => {
  assertEquals(new Request('http://x/', { cache: 'no-store' }).cache, 'no-store');
  assertEquals(new Request(new Request('http://x/', { cache: 'no-store' })).cache, 'no-store');
  assertEquals(new Request('http://x/').cache, undefined);
  assertThrows(() => new Request('http://x/', { cache: 'no-cache' }), TypeError, 'Unsupported cache mode: no-cache');
});

export default { fetch: run };
