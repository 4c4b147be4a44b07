// The y (sticky) and d (hasIndices) flags of regex literals (lib/compile/lower_regex.c,
// lib/compile/lower_regex_indices.c, lib/js/helpers_regex.js). Expected values are the specification's
// (ES2022 RegExpBuiltinExec, String.prototype.match/replace/search/split), as V8 gives them.
import { test, assert, assertEquals, run } from './harness.js';

const same = (actual, expected, msg) => assertEquals(JSON.stringify(actual), JSON.stringify(expected), msg);

test('y: flag properties, source and toString', () => {
  const re = /a+/iy;
  assertEquals(re.sticky, true);
  assertEquals(re.global, false);
  assertEquals(re.ignoreCase, true);
  assertEquals(re.hasIndices, false);
  assertEquals(re.flags, 'iy');
  assertEquals(re.source, 'a+');
  assertEquals(String(re), '/a+/iy');
  assert(re instanceof RegExp, 'instanceof RegExp');
  assertEquals(Object.prototype.toString.call(re), '[object RegExp]');
  const all = /x/ysgimd;
  assertEquals(all.flags, 'dgimsy');
  assertEquals(all.global && all.sticky && all.hasIndices && all.dotAll, true);
  assertEquals(/a/.sticky, false);
  assertEquals(/(?:)/y.source, '(?:)');
});

test('y: exec matches only at lastIndex and advances it', () => {
  const re = /a/y;
  assertEquals(re.exec('ba'), null);
  assertEquals(re.lastIndex, 0);
  re.lastIndex = 1;
  const m = re.exec('ba');
  same(m, ['a']);
  assertEquals(m.index, 1);
  assertEquals(m.input, 'ba');
  assertEquals(re.lastIndex, 2);
  assertEquals(re.exec('ba'), null, 'at the end');
  assertEquals(re.lastIndex, 0, 'failure resets lastIndex');
});

test('y: failure resets lastIndex even when a later match exists', () => {
  const re = /b/y;
  re.lastIndex = 1;
  assertEquals(re.exec('aab'), null);
  assertEquals(re.lastIndex, 0);
  re.lastIndex = 10;
  assertEquals(re.exec('aab'), null, 'lastIndex past the end');
  assertEquals(re.lastIndex, 0);
});

test('y: alternation, empty matches and anchors at lastIndex', () => {
  const alt = /b|bc/y;
  alt.lastIndex = 1;
  assertEquals(alt.exec('abc')[0], 'b', 'the first alternative that matches there');
  const star = /a*/y;
  star.lastIndex = 3;
  const m = star.exec('bbb');
  same([m[0], m.index, star.lastIndex], ['', 3, 3]);
  const end = /$/y;
  end.lastIndex = 1;
  assertEquals(end.exec('ab'), null);
  end.lastIndex = 2;
  assertEquals(end.exec('ab').index, 2);
  const caps = /(x)?(y)/y;
  same(caps.exec('y'), ['y', null, 'y'], 'no extra group in the result');
  assertEquals(caps.exec('y'), null);
});

test('y: test() honours lastIndex', () => {
  const re = /o/y;
  assertEquals(re.test('foo'), false);
  re.lastIndex = 1;
  assertEquals(re.test('foo'), true);
  assertEquals(re.lastIndex, 2);
  assertEquals(re.test('foo'), true);
  assertEquals(re.test('foo'), false);
  assertEquals(re.lastIndex, 0);
});

test('y: a sticky tokenizer loop', () => {
  const token = /\s*(?:(\d+)|([a-z]+)|([+*()-]))/y;
  const src = 'x1 + 42*(y - 7)';
  const out = [];
  let m;
  while (token.lastIndex < src.length && (m = token.exec(src)) !== null)
    out.push(m[1] !== undefined ? 'num:' + m[1] : m[2] !== undefined ? 'id:' + m[2] : m[3]);
  same(out, ['id:x', 'num:1', '+', 'num:42', '*', '(', 'id:y', '-', 'num:7', ')']);
  token.lastIndex = 0;
  const bad = 'a ? b';
  const seen = [];
  while ((m = token.exec(bad)) !== null) seen.push(m[0]);
  same(seen, ['a'], 'stops at the first character no token matches');
  assertEquals(token.lastIndex, 0);
});

test('y: RegExp.prototype.exec and test called on the regex', () => {
  const re = /b/y;
  assertEquals(RegExp.prototype.exec.call(re, 'ab'), null);
  re.lastIndex = 1;
  assertEquals(RegExp.prototype.test.call(re, 'ab'), true);
  assertEquals(re.lastIndex, 2);
  same(RegExp.prototype.exec.call(/x(y)/d, 'xy').indices, [[0, 2], [1, 2]]);
  assertEquals(RegExp.prototype.exec.call(/a/g, 'a')[0], 'a', 'other regexes are the engine\'s');
});

test('y with g: exec advances, lastIndex from the previous match', () => {
  const re = /a/gy;
  same([re.exec('aab')[0], re.lastIndex], ['a', 1]);
  same([re.exec('aab')[0], re.lastIndex], ['a', 2]);
  assertEquals(re.exec('aab'), null);
  assertEquals(re.lastIndex, 0);
});

test('y: String.prototype.replace and match', () => {
  assertEquals('aaxa'.replace(/a/y, 'b'), 'baxa');
  assertEquals('xaa'.replace(/a/y, 'b'), 'xaa', 'no match at 0');
  const re = /a/y;
  re.lastIndex = 1;
  assertEquals('xaa'.replace(re, 'b'), 'xba', 'a non-global sticky replace starts at lastIndex');
  assertEquals(re.lastIndex, 2);
  assertEquals('aaxa'.replace(/a/gy, 'b'), 'bbxa', 'g+y: only the adjacent run');
  assertEquals('aaxa'.replace(/(a)/gy, (m, p1, off) => `[${p1}${off}]`), '[a0][a1]xa');
  assertEquals('ab'.replace(/(a)(b)/y, '$2$1$&$$'), 'baab$');
  same('aaxa'.match(/a/gy), ['a', 'a']);
  assertEquals('xa'.match(/a/gy), null);
  const m = 'abc'.match(/b/y);
  assertEquals(m, null, 'non-global match with lastIndex 0');
  const r2 = /b/y;
  r2.lastIndex = 1;
  assertEquals('abc'.match(r2)[0], 'b');
  assertEquals(r2.lastIndex, 2);
});

test('y: search matches at 0 only and restores lastIndex', () => {
  const re = /b/y;
  re.lastIndex = 1;
  assertEquals('abc'.search(re), -1);
  assertEquals(re.lastIndex, 1);
  assertEquals('bc'.search(re), 0);
  assertEquals(re.lastIndex, 1);
});

test('y: split ignores sticky', () => {
  same('a,b,,c'.split(/,/y), ['a', 'b', '', 'c']);
  same('a1b22c'.split(/(\d)+/y), ['a', '1', 'b', '2', 'c']);
  same('abc'.split(/(?:)/y), ['a', 'b', 'c']);
  same('a,b,c'.split(/,/y, 2), ['a', 'b']);
  same(''.split(/x/y), ['']);
  same(''.split(/(?:)/y), []);
  const re = /,/y;
  re.lastIndex = 3;
  'a,b'.split(re);
  assertEquals(re.lastIndex, 3, 'split does not touch lastIndex');
});

test('y: replaceAll and matchAll', () => {
  let err = null;
  try { 'aa'.replaceAll(/a/y, 'b'); } catch (e) { err = e; }
  assert(err instanceof TypeError, 'replaceAll without g throws TypeError');
  assertEquals('aaxa'.replaceAll(/a/gy, 'b'), 'bbxa');
});

test('y with named groups', () => {
  const re = /(?<d>\d)/y;
  assertEquals(re.exec('1a').groups.d, '1');
  assertEquals(re.exec('1a'), null);
  assertEquals('12x'.replace(/(?<d>\d)/gy, '<$<d>>'), '<1><2>x');
});

test('d: indices of nested groups', () => {
  const re = /a(b(c))(d)/d;
  assertEquals(re.hasIndices, true);
  assertEquals(re.flags, 'd');
  assertEquals(re.source, 'a(b(c))(d)');
  const m = re.exec('xxabcd');
  same(m, ['abcd', 'bc', 'c', 'd'], 'only the original groups');
  assertEquals(m.index, 2);
  same(m.indices, [[2, 6], [3, 5], [4, 5], [5, 6]]);
  assertEquals(m.indices.groups, undefined);
  assertEquals(m.groups, undefined);
  assertEquals(re.lastIndex, 0, 'no g: lastIndex untouched');
});

test('d: unmatched optional groups are undefined', () => {
  const m = /(a)?(b)|(c)/d.exec('zc');
  same(m, ['c', null, null, 'c']);
  assertEquals(m[1], undefined);
  same(m.indices, [[1, 2], null, null, [1, 2]]);
  assertEquals(m.indices[1], undefined);
  assertEquals(m.indices.length, 4);
});

test('d: quantified terms before a group and groups in quantified groups', () => {
  same(/x+(y)/d.exec('axxxy').indices, [[1, 5], [4, 5]]);
  same(/(?:ab)*(c)/d.exec('ababc').indices, [[0, 5], [4, 5]]);
  const m = /(?:x(a|b(c)))+/d.exec('zxaxbc');
  same(m, ['xaxbc', 'bc', 'c']);
  same(m.indices, [[1, 6], [4, 6], [5, 6]]);
  const last = /(?:(a)|b)+(c)/d.exec('abc');
  same(last.indices, [[0, 3], null, [2, 3]], 'captures of earlier iterations are reset');
  same(/(\w)+!/d.exec('abc!').indices, [[0, 4], [2, 3]]);
  same(/(a{2})\w{1,3}(b)/d.exec('aaxyb').indices, [[0, 5], [0, 2], [4, 5]]);
  same(/(?=(ab))a(b)/d.exec('_ab').indices, [[1, 3], [1, 3], [2, 3]], 'groups in a lookahead');
  same(/[()](\()/d.exec('x((').indices, [[1, 3], [2, 3]], 'parentheses in a class and escaped');
});

test('d: the indices of every group select its text, and the captures are those without d', () => {
  const cases = [
    [/(a+)(b*)(c?)/d, /(a+)(b*)(c?)/, 'xaabbc'],
    [/(?:(\d)|([a-z]))+(!)/d, /(?:(\d)|([a-z]))+(!)/, '--1a2b!'],
    [/((a)(b)?)*(c)/d, /((a)(b)?)*(c)/, 'abaac'],
    [/(?:x(y(z)?)){2,3}(w)/d, /(?:x(y(z)?)){2,3}(w)/, 'xyzxyxyzw'],
    [/^(\w+)\s(?:(\w+)\s)?(\w+)$/d, /^(\w+)\s(?:(\w+)\s)?(\w+)$/, 'one two three'],
    [/(a)(?=(b)(c))bc(\2)/d, /(a)(?=(b)(c))bc(\2)/, 'zabcb'],
    [/(["'])(.*?)\1/d, /(["'])(.*?)\1/, `x = 'it "is"' + y`],
    [/(?:(a)|b|(c))*?(d)/d, /(?:(a)|b|(c))*?(d)/, 'cabd'],
    [/([^\]]+)\]((?:\\.)*)(.)/d, /([^\]]+)\]((?:\\.)*)(.)/, 'ab]\\x\\yz'],
  ];
  for (const [d, plain, str] of cases) {
    const m = d.exec(str), p = plain.exec(str);
    same(m, p, `${plain}: the same captures`);
    assertEquals(m.index, p.index);
    for (let i = 0; i < m.length; i++) {
      if (m[i] === undefined) assertEquals(m.indices[i], undefined, `${plain} group ${i}`);
      else assertEquals(str.slice(m.indices[i][0], m.indices[i][1]), m[i], `${plain} group ${i}`);
    }
  }
});

test('d: named groups', () => {
  const m = /(?<year>\d{4})-(?<month>\d\d)(?:-(?<day>\d\d))?/d.exec('on 2024-05!');
  assertEquals(m.groups.year, '2024');
  same(m.indices, [[3, 10], [3, 7], [8, 10], null]);
  same(m.indices.groups.year, [3, 7]);
  same(m.indices.groups.month, [8, 10]);
  assertEquals(m.indices.groups.day, undefined);
  assert('day' in m.indices.groups, 'an unmatched name is present');
});

test('d: backreferences are renumbered', () => {
  const m = /x(a)\1(b)\2/d.exec('_xaabb');
  same(m, ['xaabb', 'a', 'b']);
  same(m.indices, [[1, 6], [2, 3], [4, 5]]);
  const n = /(?<q>['"]).*?\k<q>/d.exec(`say "hi" now`);
  same(n.indices, [[4, 8], [4, 5]]);
  assertEquals(n.groups.q, '"');
});

test('d with g and y', () => {
  const re = /(\d)/dg;
  const a = re.exec('a1b2');
  same([a.indices[1], re.lastIndex], [[1, 2], 2]);
  const b = re.exec('a1b2');
  same([b.indices[1], re.lastIndex], [[3, 4], 4]);
  const s = /(\d)/dy;
  assertEquals(s.exec('a1'), null);
  s.lastIndex = 1;
  same(s.exec('a1').indices, [[1, 2], [1, 2]]);
  same([...'a1b2'.matchAll(/(\d)/dg)].map((m) => m[1]), ['1', '2']);
});

test('d: String methods see the original groups', () => {
  assertEquals('abcd'.replace(/a(b)(c)/d, '[$1$2]'), '[bc]d');
  same('abc'.match(/a(b)c/d), ['abc', 'b']);
  same('a1b'.split(/(\d)/d), ['a', '1', 'b']);
  assertEquals('xaby'.replace(/(a)(?<n>b)/d, (...args) => args.slice(1, 3).join('') + args[args.length - 1].n), 'xabby');
});

test('RegExp.prototype.sticky and .hasIndices getters', () => {
  assertEquals(/a/g.sticky, false);
  assertEquals(/a/.hasIndices, false);
  assertEquals(RegExp.prototype.sticky, undefined);
  assertEquals(RegExp.prototype.hasIndices, undefined);
  const get = Object.getOwnPropertyDescriptor(RegExp.prototype, 'sticky').get;
  let err = null;
  try { get.call({}); } catch (e) { err = e; }
  assert(err instanceof TypeError, 'a non-RegExp receiver throws TypeError');
  const flags = Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags').get;
  assertEquals(flags.call({ sticky: 1, global: true, hasIndices: 'x', unicode: 0 }), 'dgy');
});

test('d: indices and groups are defined, not set through Array.prototype', () => {
  let hits = 0;
  Object.defineProperty(Array.prototype, 'indices', { set() { hits++; }, configurable: true });
  try {
    const m = 'bab'.match(/(a)/d);
    same(m.indices, [[1, 2], [1, 2]]);
    assertEquals(hits, 0);
    assert(Object.getOwnPropertyDescriptor(m, 'indices').enumerable, 'indices is an enumerable own property');
  } finally {
    delete Array.prototype.indices;
  }
});

test('matchAll with y and d', () => {
  const re = /(\d)/gy;
  re.lastIndex = 1;
  same([...'a12b3'.matchAll(re)].map((m) => [m[1], m.index]), [['1', 1], ['2', 2]]);
  assertEquals(re.lastIndex, 1, 'matchAll works on a copy');
  const d = [...'x1y22'.matchAll(/(?<n>\d+)/dg)];
  same(d.map((m) => m.indices.groups.n), [[1, 2], [3, 5]]);
  let err = null;
  try { 'a'.matchAll(/a/y); } catch (e) { err = e; }
  assert(err instanceof TypeError, 'matchAll without g throws TypeError');
});

test('new RegExp with y and s at run time', () => {
  const re = new RegExp('a.', 'ys');
  assertEquals(re.flags, 'sy');
  assertEquals(re.sticky, true);
  assertEquals(re.source, 'a.');
  assertEquals(String(re), '/a./sy');
  assert(re instanceof RegExp, 'instanceof RegExp');
  assertEquals(re.constructor, RegExp);
  same(re.exec('a\nb'), ['a\n'], 's: the dot matches a line terminator');
  assertEquals(re.lastIndex, 2);
  assertEquals(re.exec('a\nb'), null, 'y: no match at 2');
  assertEquals(new RegExp('[.]', 's').test('x'), false, 'a dot in a class stays a dot');
  const copy = new RegExp(re);
  assertEquals(copy.flags, 'sy', 'a copy keeps the flags');
  assert(copy !== re, 'new RegExp(re) is a copy');
  const g = /x/g;
  assertEquals(RegExp(g), g, 'RegExp(re) without new is re');
  assertEquals(new RegExp(/x/y, 'g').sticky, false, 'explicit flags replace the pattern\'s');
  assertEquals('a-b'.replace(new RegExp('-', 'y'), '+'), 'a-b');
  let err = null;
  try { new RegExp('a', 'yy'); } catch (e) { err = e; }
  assert(err instanceof SyntaxError, 'a repeated flag is a SyntaxError');
  assertEquals(err.message, "Invalid flags supplied to RegExp constructor 'yy'");
  class Tokens extends RegExp {}
  assert(new Tokens('a', 'y') instanceof Tokens, 'subclass');
});

test('new RegExp with d at run time', () => {
  const re = new RegExp('a(b)?(c)', 'd');
  assertEquals(re.flags, 'd');
  assertEquals(re.source, 'a(b)?(c)');
  const m = re.exec('xac');
  same(m, ['ac', null, 'c']);
  same(m.indices, [[1, 3], null, [2, 3]]);
  const copy = new RegExp(/x(y)/dg);
  assertEquals(copy.flags, 'dg');
  same(copy.exec('axy').indices, [[1, 3], [2, 3]]);
  let err = null;
  try { new RegExp('(?=(a))*', 'd'); } catch (e) { err = e; }
  assert(err instanceof SyntaxError, 'what the rewrite cannot place is a SyntaxError');
  assertEquals(err.message, 'Invalid regular expression: /(?=(a))*/: with the d flag, a group inside a quantified lookahead has no exact index');
});

test('structuredClone keeps y and d', () => {
  const c = structuredClone(/a(b)/dy);
  assertEquals(c.flags, 'dy');
  assertEquals(c.source, 'a(b)');
  same(c.exec('ab').indices, [[0, 2], [1, 2]]);
  assertEquals(c.lastIndex, 2);
});

export default { fetch: run };
