// The engine's fast paths (lib/duk/prepare.py) give the generic paths' results: JSON.stringify's toJSON
// lookup, short string concatenation, and the property reads and writes lib/ makes on script objects.
import { test, assertEquals, run } from './harness.js';

test('JSON.stringify finds toJSON anywhere on the prototype chain', () => {
  class Point { constructor(x) { this.x = x; } toJSON() { return 'P' + this.x; } }
  assertEquals(JSON.stringify({ a: [new Point(1)], b: Object.create(new Point(2)) }), '{"a":["P1"],"b":"P2"}');
  Object.prototype.toJSON = function () { return 'object'; };
  try {
    assertEquals(JSON.stringify({ a: 1 }), '"object"');
    assertEquals(JSON.stringify([{}]), '"object"');
  } finally {
    delete Object.prototype.toJSON;
  }
  Array.prototype.toJSON = function () { return this.length; };
  try {
    assertEquals(JSON.stringify({ list: [1, 2, 3] }), '{"list":3}');
  } finally {
    delete Array.prototype.toJSON;
  }
  const proxy = new Proxy({ a: 1 }, { get: (t, k) => (k === 'toJSON' ? () => 'trapped' : t[k]) });
  assertEquals(JSON.stringify({ p: proxy }), '{"p":"trapped"}');
  assertEquals(JSON.stringify({ n: Object.create(null), s: new String('x'), arr: [1, [2, { k: 'v' }]] }),
    '{"n":{},"s":"x","arr":[1,[2,{"k":"v"}]]}');
  assertEquals(JSON.stringify({ long: 'x'.repeat(2000), esc: '"\u2028\n' }).length, 2000 + 30);
});

test('string concatenation, short and long', () => {
  const id = 7;
  assertEquals(`item-${id + 1}`, 'item-8');
  assertEquals('a' + 1.5 + true + null, 'a1.5truenull');
  const long = 'y'.repeat(250);
  assertEquals((long + 'zzzzzzzzzz').length, 260);
  assertEquals(('\u{1F30D}' + 'é').length, 3);
  assertEquals(('' + '').length, 0);
});

test('options objects are read through getters, prototypes and proxies', async () => {
  const viaProto = new Response('x', Object.create({ status: 201, headers: { 'x-a': '1' } }));
  assertEquals(viaProto.status, 201);
  assertEquals(viaProto.headers.get('x-a'), '1');
  let reads = 0;
  const viaGetter = new Response('x', { get status() { reads++; return 202; } });
  assertEquals(viaGetter.status, 202);
  assertEquals(reads, 1);
  const viaProxy = new Response('x', new Proxy({}, { get: (t, k) => (k === 'status' ? 203 : undefined) }));
  assertEquals(viaProxy.status, 203);
  const req = new Request('https://example.com/', Object.create({ method: 'POST', body: 'b' }));
  assertEquals(req.method, 'POST');
  assertEquals(await req.text(), 'b');
});

export default { fetch: run };
