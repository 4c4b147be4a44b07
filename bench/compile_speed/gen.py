#!/usr/bin/env python3
"""Writes a feature-dense ES module (every construct the compiler lowers, in realistic Worker-like code) of
about SIZE bytes to stdout, for compile-speed measurements:

    python3 bench/compile_speed/gen.py 1000000 > /tmp/dense.js
    build/tests/compile/compile262 --bench 5 /tmp/dense.js

Each block uses fresh names (suffix N) so no two blocks are the same text.
"""
import sys

BLOCK = r'''
export class Store{N} extends Map {
  #hits = 0;
  static created = 0;
  constructor(entries = [], { limit = 100, onEvict } = {}) {
    super(entries);
    this.limit = limit;
    this.onEvict = onEvict ?? (() => {});
    Store{N}.created++;
  }
  get hits() { return this.#hits; }
  lookup(key, fallback) {
    const hit = super.get(key);
    if (hit !== undefined) { this.#hits++; return hit; }
    return typeof fallback === 'function' ? fallback(key) : fallback;
  }
  *entriesSorted() {
    const keys = [...this.keys()].sort();
    for (const k of keys) yield [k, this.get(k)];
  }
  static #check(x) { return #hits in x; }
}

const route{N} = async (request, env, ctx) => {
  const url = new URL(request.url);
  const { pathname, searchParams } = url;
  const [, first = 'index', ...rest] = pathname.split('/');
  const id = searchParams.get('id')?.trim() || null;
  let total = 0;
  for (let i = 0; i < rest.length; i++) {
    const part = rest[i];
    ctx?.waitUntil?.(Promise.resolve(part));
    total += part.length ** 2;
  }
  const body = {
    first, id, total,
    ...(env?.DEBUG ? { rest, when: Date.now() } : {}),
    label: `route ${first} (${rest.length} parts) for ${id ?? 'anonymous'}`,
  };
  try {
    const data = await env.KV{N}?.get(first, { type: 'json' });
    body.data = data ?? {};
  } catch ({ message }) {
    body.error = message;
  } finally {
    total ||= 1;
  }
  return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
};

export async function* pages{N}(fetchPage, { size = 10 } = {}) {
  let cursor;
  do {
    const { items = [], next } = await fetchPage({ cursor, size });
    for await (const item of items) yield { ...item, page: cursor ?? 0 };
    cursor = next;
  } while (cursor);
}

export const helpers{N} = {
  sum: (...xs) => xs.reduce((a, b) => a + b, 0),
  pick: (obj, ...keys) => Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]])),
  tag: (strings, ...values) => strings.raw.map((s, i) => s + (values[i] ?? '')).join(''),
  debounce(fn, ms = 50) { let t; return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); }; },
  get [Symbol.toStringTag]() { return 'helpers{N}'; },
};
'''

HEAD = "const DEFAULTS = Object.freeze({ limit: 100 });\n"


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    out = [HEAD]
    n = 0
    total = len(HEAD)
    while total < size:
        b = BLOCK.replace("{N}", str(n))
        out.append(b)
        total += len(b)
        n += 1
    out.append("export default { fetch: route0 };\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
