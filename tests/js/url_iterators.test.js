// URLSearchParams iterators inherit from %IteratorPrototype% (lib/web/url.c), like every built-in iterator.
import { test, assertEquals, run } from './harness.js';

test('URLSearchParams iterators share %IteratorPrototype%', () => {
  const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  for (const it of [new URLSearchParams('a=1').entries(), new URLSearchParams('a=1').keys(), new URLSearchParams('a=1')[Symbol.iterator]()]) {
    assertEquals(Object.getPrototypeOf(Object.getPrototypeOf(it)) === IteratorPrototype, true);
    assertEquals(it[Symbol.iterator]() === it, true);
    assertEquals(Object.prototype.toString.call(it), '[object URLSearchParams Iterator]');
  }
  assertEquals([...new URLSearchParams('a=1&b=2').keys()], ['a', 'b']);
});

export default { fetch: run };
