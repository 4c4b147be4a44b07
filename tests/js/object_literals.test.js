// Object literals: Duktape's MPUTOBJ appends new string-keyed properties directly (a lib/duk/prepare.py
// patch); duplicates, accessors, indices, symbols and spreads must keep their ES2015 meaning. The expected
// line is what Node 20 prints for the same code.
import { test, assertEquals, run } from './harness.js';

test('object literal properties: order, duplicates, accessors, indices, computed keys, descriptors', () => {
  const out = [];
  const sym = Symbol('s');
  const k = 'dyn';
  const a = { x: 1, y: 2, x: 3 };
  out.push(JSON.stringify(a), Object.keys(a).join());
  const b = { get v() { return 'g'; }, v: 'data' };
  out.push(b.v, typeof Object.getOwnPropertyDescriptor(b, 'v').get);
  const c = { v: 'data', get v() { return 'g2'; } };
  out.push(c.v, 'value' in Object.getOwnPropertyDescriptor(c, 'v'));
  const d = { 0: 'zero', 10: 'ten', 2: 'two', n: 'n' };
  out.push(Object.keys(d).join());
  const e = { [sym]: 1, [k]: 2, [1 + 1]: 3, ['s' + 't']: 4 };
  out.push(e[sym], e.dyn, e[2], e.st, Object.keys(e).join());
  const f = { a: 1, ...{ b: 2, a: 3 }, c: 4 };
  out.push(JSON.stringify(f));
  const desc = Object.getOwnPropertyDescriptor({ q: 1 }, 'q');
  out.push([desc.writable, desc.enumerable, desc.configurable].join());
  const g = { length: 3, constructor: 'x', toString() { return 'T'; }, hasOwnProperty: 5 };
  out.push(g.length, g.constructor, String(g), g.hasOwnProperty);
  const h = Object.freeze({ z: 1 });
  out.push(Object.isFrozen(h), h.z);
  const big = {}; for (let i = 0; i < 40; i++) big['p' + i] = i;
  const lit = { p0: 0, p1: 1, p2: 2, p3: 3, p4: 4, p5: 5, p6: 6, p7: 7, p8: 8, p9: 9, p10: 10, p11: 11, p12: 12, p13: 13, p14: 14, p15: 15, p16: 16, p17: 17, p18: 18, p19: 19, p20: 20 };
  out.push(Object.keys(lit).length, lit.p20, lit.p0);
  assertEquals(out.join('|'),
    '{"x":3,"y":2}|x,y|data|undefined|g2|false|0,2,10,n|1|2|3|4|2,dyn,st|{"a":3,"b":2,"c":4}|true,true,true|3|x|T|5|true|1|21|20|0');
});

export default { fetch: run };
