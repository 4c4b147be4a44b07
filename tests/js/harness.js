// harness.js — the small test framework for tests/js/*.test.js (run by tests/js/jstest.c).
//
// A test file is a module Worker: it registers cases with test(name, fn) and ends with
//   export default { fetch: run };
// jstest loads it through the public C API, sends one request, and reads back one line per case
// ("ok NAME" or "not ok NAME: message"). fn may be async; each case runs after the previous one settles.

const cases = [];

export function test(name, fn) {
  cases.push({ name, fn });
}

export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AssertionError';
  }
}

function show(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `Uint8Array [${Array.prototype.join.call(v, ',')}]`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch (e) {
    return String(v);
  }
}

export function assert(cond, message = 'assertion failed') {
  if (!cond) throw new AssertionError(message);
}

// Strict equality; arrays, plain objects and typed arrays compared element by element.
export function assertEquals(actual, expected, message) {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a !== a && b !== b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual(a[k], b[k])) return false;
  return true;
}

function checkError(e, type, pattern) {
  if (type !== undefined && !(e instanceof type)) {
    throw new AssertionError(`expected ${type.name}, got ${e && e.name}: ${e && e.message}`);
  }
  if (pattern !== undefined) {
    const ok = typeof pattern === 'string' ? e.message === pattern : pattern.test(e.message);
    if (!ok) throw new AssertionError(`error message ${show(e.message)} does not match ${String(pattern)}`);
  }
  return e;
}

// fn must throw synchronously an instance of `type` (optional) whose message equals the string or
// matches the RegExp `pattern` (optional). Returns the error.
export function assertThrows(fn, type, pattern) {
  try {
    fn();
  } catch (e) {
    return checkError(e, type, pattern);
  }
  throw new AssertionError(`expected ${type ? type.name : 'an exception'}, nothing was thrown`);
}

// The promise (or async function's result) must reject; same checks as assertThrows.
export async function assertRejects(promiseOrFn, type, pattern) {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    return checkError(e, type, pattern);
  }
  throw new AssertionError(`expected a rejection with ${type ? type.name : 'an error'}, it fulfilled`);
}

// The fetch handler: runs every case in order, one line each.
export async function run(request, env, ctx) {
  const only = new URL(request.url).searchParams.get('only');
  const lines = [];
  for (const c of cases) {
    if (only !== null && c.name !== only) continue;
    try {
      await c.fn({ env, ctx });
      lines.push(`ok ${c.name}`);
    } catch (e) {
      const what = e instanceof AssertionError ? e.message : `${e && e.name}: ${e && e.message}`;
      lines.push(`not ok ${c.name}: ${what}`.replace(/\n/g, ' '));
    }
  }
  return new Response(lines.join('\n') + '\n');
}
