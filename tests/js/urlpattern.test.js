// URLPattern API surface (the WPT data is run by tests/e2e/test_urlpattern_wpt.py): construction forms,
// errors, the lazy global, matching results.
import { test, assert, assertEquals, assertThrows, run } from './harness.js';

test('the global is a constructor that requires new', () => {
  assertEquals(typeof URLPattern, 'function');
  assertEquals(Object.keys(globalThis).includes('URLPattern'), false);
  assertThrows(() => URLPattern('/x', 'https://a.example'), TypeError);
});

test('string with base URL, and options', () => {
  const p = new URLPattern('/books/:id(\\d+)', 'https://example.com', { ignoreCase: true });
  assertEquals(p.hostname, 'example.com');
  assertEquals(p.pathname, '/books/:id(\\d+)');
  assertEquals(p.hasRegExpGroups, true);
  assert(p.test('https://EXAMPLE.com/BOOKS/12'));
  assertEquals(p.test('https://example.com/books/abc'), false);
});

test('exec gives inputs and groups per component', () => {
  const p = new URLPattern({ hostname: '{:sub.}?example.com', pathname: '/:path*' });
  const r = p.exec('/a/b?q=1#top', 'https://api.example.com');
  assertEquals(r.inputs, ['/a/b?q=1#top', 'https://api.example.com']);
  assertEquals(r.hostname.groups.sub, 'api');
  assertEquals(r.pathname.groups.path, 'a/b');
  assertEquals(r.search.input, 'q=1');
  assertEquals(r.hash.input, 'top');
  assertEquals(p.exec('https://other.org/'), null);
});

test('a relative string needs a base URL; a dictionary must not have one', () => {
  assertThrows(() => new URLPattern('/relative'), TypeError, /base URL/);
  assertThrows(() => new URLPattern({ pathname: '/x' }, 'https://example.com'), TypeError);
  const p = new URLPattern({ pathname: '/x' });
  assertThrows(() => p.test({ pathname: '/x' }, 'https://example.com'), TypeError);
});

test('invalid patterns throw TypeError', () => {
  assertThrows(() => new URLPattern({ pathname: '/:id/:id' }), TypeError, /duplicate/);
  assertThrows(() => new URLPattern({ pathname: '/(a' }), TypeError);
  assertThrows(() => new URLPattern({ pathname: '/(\\q)' }), TypeError, /escape/);
  assertThrows(() => new URLPattern({ hostname: 'a b' }), TypeError);
});

test('getters check their receiver', () => {
  const desc = Object.getOwnPropertyDescriptor(URLPattern.prototype, 'pathname');
  assertThrows(() => desc.get.call({}), TypeError, /Illegal invocation/);
  assertThrows(() => URLPattern.prototype.test.call({}, 'https://a.example/'), TypeError);
});

test('a routing table in the style Workers use it', () => {
  const routes = [
    [new URLPattern({ pathname: '/api/users/:id' }), 'user'],
    [new URLPattern({ pathname: '/api/*' }), 'api'],
  ];
  const route = (url) => {
    for (const [pattern, name] of routes) {
      const m = pattern.exec(url);
      if (m) return `${name}:${JSON.stringify(m.pathname.groups)}`;
    }
    return 'none';
  };
  assertEquals(route('https://x.example/api/users/7'), 'user:{"id":"7"}');
  assertEquals(route('https://x.example/api/teams'), 'api:{"0":"teams"}');
  assertEquals(route('https://x.example/'), 'none');
});

test('assigning the global before first use keeps the assigned value', () => {
  // The accessor was already replaced by the first test; a plain property stays writable.
  const saved = globalThis.URLPattern;
  globalThis.URLPattern = 1;
  assertEquals(globalThis.URLPattern, 1);
  globalThis.URLPattern = saved;
});

export default { fetch: run };
