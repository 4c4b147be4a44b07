// The web-platform-tests URLPattern cases (urlpatterntestdata.json), checked the way WPT's urlpattern tests
// check them. tests/e2e/test_urlpattern_wpt.py writes a module that defines DATA and imports this file
// (through the compiler, like any Worker), then runs it with jstest: one "ok"/"not ok" line per case.
import { test, assert, assertEquals, assertThrows, run } from '../js/harness.js';

const COMPONENTS = ['protocol', 'username', 'password', 'hostname', 'port', 'pathname', 'search', 'hash'];
const EARLIER = {
  protocol: [],
  hostname: ['protocol'],
  port: ['protocol', 'hostname'],
  username: ['protocol', 'hostname', 'port'],
  password: ['protocol', 'hostname', 'port', 'username'],
  pathname: ['protocol', 'hostname', 'port'],
  search: ['protocol', 'hostname', 'port', 'pathname'],
  hash: ['protocol', 'hostname', 'port', 'pathname', 'search'],
};

function expectedPattern(entry, component) {
  const first = entry.pattern[0];
  let baseURL = null;
  if (first && typeof first === 'object' && first.baseURL) baseURL = new URL(first.baseURL);
  else if (entry.pattern.length > 1 && typeof entry.pattern[1] === 'string') baseURL = new URL(entry.pattern[1]);
  if (entry.exactly_empty_components && entry.exactly_empty_components.includes(component)) return '';
  if (first && typeof first === 'object' && first[component]) return first[component];
  if (first && typeof first === 'object' && EARLIER[component].some((c) => c in first)) return '*';
  if (baseURL && component !== 'username' && component !== 'password') {
    let v = baseURL[component];
    if (component === 'protocol') v = v.substring(0, v.length - 1);
    else if (component === 'search' || component === 'hash') v = v.substring(1);
    return v;
  }
  return '*';
}

export function check(entry) {
  if (entry.expected_obj === 'error') {
    assertThrows(() => new URLPattern(...entry.pattern), TypeError);
    return;
  }
  const pattern = new URLPattern(...entry.pattern);
  const expectedObj = entry.expected_obj || {};
  for (const component of COMPONENTS) {
    const expected = expectedObj[component] !== undefined ? expectedObj[component] : expectedPattern(entry, component);
    assertEquals(pattern[component], expected, `pattern.${component}`);
  }
  if (entry.expected_match === 'error') {
    assertThrows(() => pattern.test(...entry.inputs), TypeError);
    assertThrows(() => pattern.exec(...entry.inputs), TypeError);
    return;
  }
  assertEquals(pattern.test(...entry.inputs), !!entry.expected_match, 'test()');
  const result = pattern.exec(...entry.inputs);
  if (!entry.expected_match || typeof entry.expected_match !== 'object') {
    assertEquals(result, entry.expected_match, 'exec()');
    return;
  }
  const expectedInputs = entry.expected_match.inputs || entry.inputs;
  assertEquals(result.inputs.length, expectedInputs.length, 'exec().inputs.length');
  result.inputs.forEach((input, i) => {
    if (typeof input === 'string') {
      assertEquals(input, expectedInputs[i], `exec().inputs[${i}]`);
      return;
    }
    for (const component of COMPONENTS) {
      assertEquals(input[component], expectedInputs[i][component], `exec().inputs[${i}].${component}`);
    }
  });
  for (const component of COMPONENTS) {
    let expected = entry.expected_match[component];
    if (!expected) {
      expected = { input: '', groups: {} };
      if (!entry.exactly_empty_components || !entry.exactly_empty_components.includes(component)) {
        expected.groups['0'] = '';
      }
    }
    const got = result[component];
    assertEquals(got.input, expected.input, `exec().${component}.input`);
    const names = Object.keys(expected.groups);
    assertEquals(Object.keys(got.groups).sort(), names.slice().sort(), `exec().${component}.groups keys`);
    for (const name of names) {
      const want = expected.groups[name] === null ? undefined : expected.groups[name];
      assert(got.groups[name] === want,
        `exec().${component}.groups.${name}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got.groups[name])}`);
    }
  }
}

export function register(data) {
  data.forEach((entry, i) => test(`case ${i}`, () => check(entry)));
}

export { run };
