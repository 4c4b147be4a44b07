// %TypedArray%.from and .of (lib/core/builtin_typed.c): iterables, array-likes, mappers, errors.
import { test, assertEquals, assertThrows, run } from './harness.js';

test('from an iterable, with a mapper and thisArg', () => {
  const out = Uint8Array.from('abc', function (c, i) { return c.charCodeAt(0) + i + this.add; }, { add: 1 });
  assertEquals(out, new Uint8Array([98, 100, 102]));
  assertEquals(Int16Array.from(new Set([1, -2])), new Int16Array([1, -2]));
  assertEquals(Float64Array.from([0.5, 1.5].values()), new Float64Array([0.5, 1.5]));
});

test('from an array-like and of', () => {
  assertEquals(Uint16Array.from({ length: 2, 0: 7, 1: 65537 }), new Uint16Array([7, 1]));
  assertEquals(Uint8Array.of(1, 2, 300), new Uint8Array([1, 2, 44]));
  assertEquals(Int8Array.of().length, 0);
});

test('errors', () => {
  assertThrows(() => Uint8Array.from([1], 'not a function'), TypeError);
  assertThrows(() => Uint8Array.from.call({}, [1]), TypeError, /not a constructor/);
  const TypedArray = Object.getPrototypeOf(Uint8Array);
  assertThrows(() => TypedArray.from([1]), TypeError, /Abstract class/);
  assertThrows(() => Uint8Array.from.call(function () { return {}; }, [1]), TypeError);
});

export default { fetch: run };
