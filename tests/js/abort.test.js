// AbortController and AbortSignal (lib/js/events.js): reasons, events, timeout, any, listener removal.
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

test('abort() with the default AbortError DOMException', () => {
  const ac = new AbortController();
  const s = ac.signal;
  assertEquals(s.aborted, false);
  assertEquals(s.reason, undefined);
  s.throwIfAborted();
  ac.abort();
  assertEquals(s.aborted, true);
  assert(s.reason instanceof DOMException);
  assertEquals(s.reason.name, 'AbortError');
  assertEquals(s.reason.message, 'The operation was aborted');
  assertEquals(s.reason.code, 20);
  const e = assertThrows(() => s.throwIfAborted(), DOMException);
  assertEquals(e, s.reason);
});

test('abort(reason) keeps any reason; a second abort changes nothing', () => {
  const ac = new AbortController();
  const why = { why: 1 };
  ac.abort(why);
  assertEquals(ac.signal.reason, why);
  ac.abort('again');
  assertEquals(ac.signal.reason, why);
  try { ac.signal.throwIfAborted(); } catch (e) { assertEquals(e, why); }
});

test("'abort' event and onabort fire once, in order, with the signal as target", () => {
  const ac = new AbortController();
  const log = [];
  ac.signal.onabort = (e) => log.push(['on', e.type, e.target === ac.signal, e.isTrusted, ac.signal.aborted]);
  ac.signal.addEventListener('abort', () => log.push('listener'));
  ac.abort();
  ac.abort();
  assertEquals(log, [['on', 'abort', true, true, true], 'listener']);
  assertEquals(ac.signal.onabort, null); // handlers and listeners are dropped after abort (workerd)
});

test('the signal option removes a listener on abort', () => {
  const t = new EventTarget();
  const ac = new AbortController();
  let n = 0;
  t.addEventListener('x', () => n++, { signal: ac.signal });
  t.dispatchEvent(new Event('x'));
  ac.abort();
  t.dispatchEvent(new Event('x'));
  assertEquals(n, 1);
  t.addEventListener('x', () => n++, { signal: ac.signal }); // already aborted: not added
  t.dispatchEvent(new Event('x'));
  assertEquals(n, 1);
});

test('AbortSignal.abort()', () => {
  const s = AbortSignal.abort();
  assertEquals(s.aborted, true);
  assertEquals(s.reason.name, 'AbortError');
  assertEquals(AbortSignal.abort('r').reason, 'r');
  assert(s instanceof EventTarget);
  assertEquals(Object.prototype.toString.call(s), '[object AbortSignal]');
});

test('AbortSignal is not constructible; AbortController needs new', () => {
  assertThrows(() => new AbortSignal(), TypeError, 'Illegal constructor');
  assertThrows(() => AbortController(), TypeError, /Please use the 'new' operator/);
  assertThrows(() => Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted').get.call(new EventTarget()), TypeError);
});

test('AbortSignal.timeout aborts with a TimeoutError', async () => {
  const s = AbortSignal.timeout(5);
  assertEquals(s.aborted, false);
  const e = await new Promise((resolve) => s.addEventListener('abort', (ev) => resolve(ev)));
  assertEquals(e.type, 'abort');
  assertEquals(s.aborted, true);
  assert(s.reason instanceof DOMException);
  assertEquals(s.reason.name, 'TimeoutError');
  assertEquals(s.reason.message, 'The operation was aborted due to timeout');
  assertEquals(s.reason.code, 23);
});

test('AbortSignal.timeout validates its argument', () => {
  assertThrows(() => AbortSignal.timeout(-1), TypeError);
  assertThrows(() => AbortSignal.timeout(NaN), TypeError);
  assertThrows(() => AbortSignal.timeout(), TypeError);
});

test('AbortSignal.any follows the first signal to abort', () => {
  const a = new AbortController(), b = new AbortController();
  const any = AbortSignal.any([a.signal, b.signal]);
  assertEquals(any.aborted, false);
  let fired = 0;
  any.addEventListener('abort', () => fired++);
  b.abort('from b');
  assertEquals([any.aborted, any.reason, fired], [true, 'from b', 1]);
  a.abort('from a');
  assertEquals(any.reason, 'from b');
  assertEquals(fired, 1);
});

test('AbortSignal.any with an aborted signal, an empty list, an iterable, bad members', () => {
  const s = AbortSignal.any([new AbortController().signal, AbortSignal.abort('x')]);
  assertEquals([s.aborted, s.reason], [true, 'x']);
  assertEquals(AbortSignal.any([]).aborted, false);
  const c = new AbortController();
  const viaSet = AbortSignal.any(new Set([c.signal]));
  c.abort();
  assertEquals(viaSet.aborted, true);
  assertThrows(() => AbortSignal.any([{}]), TypeError);
});

test('an error in an abort listener reaches the caller of abort()', () => {
  const ac = new AbortController();
  ac.signal.addEventListener('abort', () => { throw new Error('listener'); });
  assertThrows(() => ac.abort(), Error, 'listener');
  assertEquals(ac.signal.aborted, true);
});

test('Object.prototype pollution does not forge a signal', () => {
  Object.prototype.sig = 1;
  Object.prototype.aborted = true;
  try {
    const t = new EventTarget();
    assertThrows(() => t.addEventListener('x', () => {}, { signal: new EventTarget() }), TypeError);
    assertEquals(new AbortController().signal.aborted, false);
  } finally {
    delete Object.prototype.sig;
    delete Object.prototype.aborted;
  }
});

test('class extends AbortController', () => {
  class Mine extends AbortController {}
  const m = new Mine();
  m.abort('m');
  assertEquals(m.signal.reason, 'm');
});

export default { fetch: run };
