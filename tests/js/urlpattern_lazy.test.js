// URLPattern is installed lazily (lib/web/urlpattern.c): an accessor until first use. An assignment made
// before any read must simply store the value, as for any other writable global.
import { test, assertEquals, run } from './harness.js';

const before = Object.getOwnPropertyDescriptor(globalThis, 'URLPattern');
globalThis.URLPattern = 'replaced';

test('before first use the global is a non-enumerable accessor', () => {
  assertEquals(typeof before.get, 'function');
  assertEquals(before.enumerable, false);
});

test('an assignment before first use is kept', () => {
  assertEquals(globalThis.URLPattern, 'replaced');
  const after = Object.getOwnPropertyDescriptor(globalThis, 'URLPattern');
  assertEquals([after.writable, after.enumerable, after.configurable], [true, false, true]);
});

export default { fetch: run };
