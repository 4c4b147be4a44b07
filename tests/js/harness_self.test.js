// The harness itself: assertions fail when they should, async cases are awaited.
import { test, assert, assertEquals, assertThrows, assertRejects, AssertionError, run } from './harness.js';

test('assertEquals compares arrays and objects deeply', () => {
  assertEquals([1, { a: 'x' }], [1, { a: 'x' }]);
  assertThrows(() => assertEquals([1], [2]), AssertionError, 'expected [2], got [1]');
  assertThrows(() => assertEquals(new Uint8Array([1]), new Uint8Array([2])), AssertionError);
});

test('assertThrows checks the type and message', () => {
  assertThrows(() => { throw new TypeError('bad'); }, TypeError, 'bad');
  assertThrows(() => assertThrows(() => { throw new RangeError('x'); }, TypeError), AssertionError);
  assertThrows(() => assertThrows(() => {}), AssertionError, /nothing was thrown/);
});

test('async cases are awaited', async () => {
  const v = await new Promise((resolve) => setTimeout(() => resolve(42), 1));
  assertEquals(v, 42);
  await assertRejects(Promise.reject(new TypeError('no')), TypeError, 'no');
  let failed = false;
  try {
    await assertRejects(Promise.resolve(1));
  } catch (e) {
    failed = e instanceof AssertionError;
  }
  assert(failed, 'assertRejects of a fulfilled promise must fail');
});

export default { fetch: run };
