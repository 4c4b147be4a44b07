// url.searchParams: the params of a URL share its record (lib/web/url.c). Their list is parsed from the query
// when first needed and again after the URL's query changes; get() on a list not parsed yet scans the query.
// Every case is checked against a standalone URLSearchParams of the same query, whose list is made at once.
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

const QUERIES = [
  '', '?', '?a=1', '?a=1&a=2', '?a', '?a=', '?=x', '?&&a=1&&', '?a+b=c+d', '?a%20b=c%2Bd', '?%41=%zz&%4=1',
  '?caf%C3%A9=1&%F0%9F%8C%8D=globe', '?%FF=bad&x=%FF', '?q=' + 'v'.repeat(600), '?' + 'n'.repeat(600) + '=long',
  '?a=1#frag', '?a==b',
];
const NAMES = ['a', 'a b', 'A', '', 'x', 'q', 'café', '\u{1F30D}', '\uFFFD', '\uD800', 'n'.repeat(600), 'missing'];

test('get() on a URL\'s params matches a standalone URLSearchParams', () => {
  for (const q of QUERIES) {
    const expected = new URLSearchParams(q.split('#')[0]);
    for (const name of NAMES) {
      const url = new URL('https://example.com/p' + q);
      assertEquals(url.searchParams.get(name), expected.get(name), `get(${JSON.stringify(name).slice(0, 20)}) of ${q.slice(0, 30)}`);
    }
    const url = new URL('https://example.com/p' + q);
    assertEquals([...url.searchParams], [...expected], `entries of ${q.slice(0, 30)}`);
  }
});

test('get() converts its argument once, as a USVString, and needs one', () => {
  const url = new URL('https://example.com/?1=one&%EF%BF%BD=replacement');
  let calls = 0;
  assertEquals(url.searchParams.get({ toString() { calls++; return '1'; } }), 'one');
  assertEquals(calls, 1);
  assertEquals(url.searchParams.get('\uDC00'), 'replacement');
  assertThrows(() => url.searchParams.get(), TypeError);
  assertThrows(() => URLSearchParams.prototype.get.call(url, 'a'), TypeError);
});

test('searchParams is one object per URL and follows the URL\'s query', () => {
  const url = new URL('https://example.com/?a=1');
  const sp = url.searchParams;
  assert(url.searchParams === sp);
  url.search = '?b=2';
  assertEquals(sp.get('a'), null);
  assertEquals(sp.get('b'), '2');
  assertEquals(sp.toString(), 'b=2');
  url.href = 'https://example.org/x?c=3&c=4';
  assertEquals(sp.getAll('c'), ['3', '4']);
  url.pathname = '/elsewhere';
  assertEquals(sp.get('c'), '3');
  url.search = '';
  assertEquals(sp.size, 0);
  assertEquals(url.href, 'https://example.org/elsewhere');
});

test('changes to the params write the URL\'s query', () => {
  const url = new URL('https://example.com/path?a=1#h');
  const sp = url.searchParams;
  sp.append('b', 'x y');
  assertEquals(url.href, 'https://example.com/path?a=1&b=x+y#h');
  sp.set('a', 'é');
  assertEquals(url.search, '?a=%C3%A9&b=x+y');
  sp.delete('a');
  sp.delete('b');
  assertEquals(url.href, 'https://example.com/path#h');
  url.search = '?z=1';
  sp.sort();
  assertEquals(url.search, '?z=1');
  assertEquals(sp.get('z'), '1');
});

test('a URL\'s params as a body, and copied into a new URLSearchParams', async () => {
  const url = new URL('https://example.com/?a=%20b&c');
  assertEquals(await new Response(url.searchParams).text(), 'a=+b&c=');
  assertEquals(new URLSearchParams(url.searchParams).toString(), 'a=+b&c=');
});

test('params outlive their URL', () => {
  const sp = new URL('https://example.com/?k=v').searchParams;
  sp.append('k2', 'v2');
  assertEquals(sp.toString(), 'k=v&k2=v2');
});

export default { fetch: run };
