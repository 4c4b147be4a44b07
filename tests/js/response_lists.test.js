// Responses and requests whose header lists are made only when read (lib/web/response.c, request.c): what a
// Worker reads must not depend on when it reads it.
import { test, assertEquals, run } from './harness.js';

test('body readers see the default content type', async () => {
  assertEquals((await new Response('x').blob()).type, 'text/plain;charset=UTF-8');
  assertEquals((await Response.json({ a: 1 }).blob()).type, 'application/json');
  assertEquals((await new Response(new Uint8Array([1])).blob()).type, '');
});

test('a re-wrapped default response keeps its type', async () => {
  const r = new Response(new Response('hi').body, new Response('hi'));
  assertEquals(r.headers.get('content-type'), 'text/plain;charset=UTF-8');
  const j = new Response('{}', Response.json(null));
  assertEquals([...j.headers].length, 1);
  assertEquals(j.headers.get('content-type'), 'application/json');
});

test('a copied request keeps method, url, headers and cf', async () => {
  const req = new Request('https://a.example/x', { method: 'POST', body: 'b', headers: { 'X-A': '1' } });
  const copy = new Request(req);
  assertEquals([copy.method, copy.url, copy.headers.get('x-a'), await copy.text()], ['POST', 'https://a.example/x', '1', 'b']);
});

test('Response.json and JSON.stringify write integers exactly (the fast path formats them by hand)', async () => {
  const v = [0, -1, 1, 9, 10, -10, 123456789, -2147483648, 2147483647, 140737488355327, -140737488355328, 1.5, -0, 1e21, { a: -7 }];
  const want = '[0,-1,1,9,10,-10,123456789,-2147483648,2147483647,140737488355327,-140737488355328,1.5,0,1e+21,{"a":-7}]';
  assertEquals(JSON.stringify(v), want);
  assertEquals(await Response.json(v).text(), want);
  let n = 0;
  for (let i = -1000; i <= 1000; i++) if (JSON.stringify([i]) === '[' + String(i) + ']') n++;
  assertEquals(n, 2001);
});

export default { fetch: run };
