// Event, CustomEvent and EventTarget (lib/js/events.js): DOM Standard behaviour with workerd's choices.
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

test('Event constructor defaults and init dictionary', () => {
  const e = new Event('ping');
  assertEquals(e.type, 'ping');
  assertEquals([e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.isTrusted], [false, false, false, false, false]);
  assertEquals(e.eventPhase, Event.NONE);
  assertEquals(e.target, null);
  assertEquals(e.currentTarget, null);
  assertEquals(typeof e.timeStamp, 'number');
  const c = new Event('x', { bubbles: 1, cancelable: 'yes', composed: true });
  assertEquals([c.bubbles, c.cancelable, c.composed], [true, true, true]);
  assertEquals(new Event(42).type, '42');
  assertEquals(Object.prototype.toString.call(e), '[object Event]');
  assertEquals([Event.NONE, Event.CAPTURING_PHASE, Event.AT_TARGET, Event.BUBBLING_PHASE], [0, 1, 2, 3]);
});

test('Event constructor errors', () => {
  assertThrows(() => new Event(), TypeError, "Failed to construct 'Event': 1 argument required, but only 0 present.");
  assertThrows(() => Event('x'), TypeError, /Please use the 'new' operator/);
  assertThrows(() => new Event('x', 5), TypeError);
  assertThrows(() => Event.prototype.type, TypeError, /Illegal invocation/);
});

test('preventDefault only for cancelable events; returnValue mirrors it', () => {
  const a = new Event('a');
  a.preventDefault();
  assertEquals(a.defaultPrevented, false);
  const b = new Event('b', { cancelable: true });
  assertEquals(b.returnValue, true);
  b.returnValue = false;
  assertEquals(b.defaultPrevented, true);
  assertEquals(b.returnValue, false);
});

test('CustomEvent carries detail', () => {
  const e = new CustomEvent('c', { detail: { n: 1 } });
  assertEquals(e.detail, { n: 1 });
  assertEquals(new CustomEvent('d').detail, null);
  assert(e instanceof Event);
  assertEquals(Object.getPrototypeOf(CustomEvent), Event);
  assertThrows(() => Object.getOwnPropertyDescriptor(CustomEvent.prototype, 'detail').get.call(new Event('x')), TypeError);
});

test('listeners run in order with this = target; dispatchEvent returns !defaultPrevented', () => {
  const t = new EventTarget();
  const seen = [];
  const ev = new Event('go', { cancelable: true });
  t.addEventListener('go', function (e) {
    seen.push(['a', this === t, e === ev, e.target === t, e.currentTarget === t, e.eventPhase]);
  });
  t.addEventListener('go', (e) => { seen.push('b'); e.preventDefault(); });
  t.addEventListener('other', () => seen.push('never'));
  assertEquals(t.dispatchEvent(ev), false);
  assertEquals(seen, [['a', true, true, true, true, 2], 'b']);
  assertEquals(ev.eventPhase, 0);
  assertEquals(ev.currentTarget, null);
  assertEquals(ev.target, t);
});

test('the same listener is added once; removeEventListener removes it', () => {
  const t = new EventTarget();
  let n = 0;
  const f = () => n++;
  t.addEventListener('x', f);
  t.addEventListener('x', f);
  t.dispatchEvent(new Event('x'));
  assertEquals(n, 1);
  t.removeEventListener('x', f);
  t.dispatchEvent(new Event('x'));
  assertEquals(n, 1);
  t.removeEventListener('x', () => {}); // unknown: no effect
  t.removeEventListener('nope', f);
});

test('once listeners run a single time', () => {
  const t = new EventTarget();
  let n = 0;
  t.addEventListener('x', () => n++, { once: true });
  t.dispatchEvent(new Event('x'));
  t.dispatchEvent(new Event('x'));
  assertEquals(n, 1);
});

test('handleEvent objects are called with this = the object, looked up at dispatch', () => {
  const t = new EventTarget();
  const calls = [];
  const obj = { handleEvent(e) { calls.push([this === obj, e.type]); } };
  t.addEventListener('h', obj);
  t.dispatchEvent(new Event('h'));
  obj.handleEvent = function () { calls.push('replaced'); };
  t.dispatchEvent(new Event('h'));
  assertEquals(calls, [[true, 'h'], 'replaced']);
});

test('stopImmediatePropagation stops later listeners', () => {
  const t = new EventTarget();
  const seen = [];
  t.addEventListener('x', (e) => { seen.push(1); e.stopImmediatePropagation(); });
  t.addEventListener('x', () => seen.push(2));
  t.dispatchEvent(new Event('x'));
  assertEquals(seen, [1]);
  t.dispatchEvent(new Event('x'));
  assertEquals(seen, [1, 1]);
});

test('listeners added during dispatch wait; removed ones are skipped', () => {
  const t = new EventTarget();
  const seen = [];
  const late = () => seen.push('late');
  const b = () => seen.push('b');
  t.addEventListener('x', () => { seen.push('a'); t.addEventListener('x', late); t.removeEventListener('x', b); });
  t.addEventListener('x', b);
  t.dispatchEvent(new Event('x'));
  assertEquals(seen, ['a']);
  t.dispatchEvent(new Event('x'));
  assertEquals(seen, ['a', 'a', 'late']);
});

test('an error thrown by a listener leaves dispatchEvent (workerd)', () => {
  const t = new EventTarget();
  let after = false;
  t.addEventListener('x', () => { throw new RangeError('boom'); });
  t.addEventListener('x', () => { after = true; });
  const ev = new Event('x');
  assertThrows(() => t.dispatchEvent(ev), RangeError, 'boom');
  assertEquals(after, false);
  // The event is usable again afterwards.
  t.removeEventListener('x', () => {});
  assertEquals(ev.eventPhase, 0);
});

test('a listener returning true cancels the event (workerd)', () => {
  const t = new EventTarget();
  t.addEventListener('x', () => true);
  assertEquals(t.dispatchEvent(new Event('x', { cancelable: true })), false);
});

test('re-dispatching an event being dispatched is an InvalidStateError', () => {
  const t = new EventTarget();
  let err;
  const ev = new Event('x');
  t.addEventListener('x', (e) => { try { t.dispatchEvent(e); } catch (x) { err = x; } });
  t.dispatchEvent(ev);
  assert(err instanceof DOMException);
  assertEquals(err.name, 'InvalidStateError');
  assertEquals(err.message, 'The event is already being dispatched.');
});

test('capture and passive are refused as in workerd', () => {
  const t = new EventTarget();
  const f = () => {};
  assertThrows(() => t.addEventListener('x', f, true), TypeError, 'addEventListener(): useCapture must be false.');
  assertThrows(() => t.addEventListener('x', f, { capture: true }), TypeError, 'addEventListener(): options.capture must be false.');
  assertThrows(() => t.addEventListener('x', f, { passive: true }), TypeError, 'addEventListener(): options.passive must be false.');
  assertThrows(() => t.removeEventListener('x', f, true), TypeError, 'removeEventListener(): useCapture must be false.');
  assertThrows(() => t.removeEventListener('x', f, { capture: true }), TypeError, 'removeEventListener(): options.capture must be false.');
  t.addEventListener('x', f, { capture: false, passive: false, once: false });
  t.addEventListener('x', f, false);
});

test('argument errors', () => {
  const t = new EventTarget();
  assertThrows(() => t.addEventListener('x'), TypeError, /2 arguments required, but only 1 present/);
  assertThrows(() => t.addEventListener('x', 5), TypeError, /not of type 'EventListener'/);
  assertThrows(() => t.addEventListener('x', null), TypeError);
  assertThrows(() => t.dispatchEvent({ type: 'x' }), TypeError, /parameter 1 is not of type 'Event'/);
  assertThrows(() => t.addEventListener('x', () => {}, { signal: {} }), TypeError, /member signal is not of type 'AbortSignal'/);
  assertThrows(() => EventTarget.prototype.addEventListener.call({}, 'x', () => {}), TypeError, /Illegal invocation/);
  assertThrows(() => EventTarget(), TypeError);
});

test('class extends EventTarget', () => {
  class Emitter extends EventTarget {
    constructor(name) { super(); this.name = name; }
    fire(v) { return this.dispatchEvent(new CustomEvent('value', { detail: v })); }
  }
  const em = new Emitter('e1');
  let got;
  em.addEventListener('value', (e) => { got = [e.detail, e.target.name, e.target === em]; });
  assertEquals(em.fire(7), true);
  assertEquals(got, [7, 'e1', true]);
  assert(em instanceof EventTarget);
  assert(em instanceof Emitter);
});

test('class extends Event', () => {
  class Ping extends Event {
    constructor(n) { super('ping'); this.n = n; }
  }
  const t = new EventTarget();
  let n = 0;
  t.addEventListener('ping', (e) => { n = e.n; });
  t.dispatchEvent(new Ping(3));
  assertEquals(n, 3);
});

test('globals are replaceable and load lazily', () => {
  const d = Object.getOwnPropertyDescriptor(globalThis, 'EventTarget');
  assertEquals([d.enumerable, d.configurable, 'value' in d], [false, true, true]);
  assertEquals(typeof globalThis.AbortController, 'function');
});

export default { fetch: run };
