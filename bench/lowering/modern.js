// The workload of bench/lowering_cost.c in modern JavaScript (ES2022): what the compiler lowers.
// es5.js is the same program written by hand in ES5; both must return the same checksums.

class Shape {
  constructor(name) { this.name = name; }
  area() { return 0; }
  get label() { return `${this.name}:${this.area()}`; }
}
class Rect extends Shape {
  constructor(w, h) { super('rect'); this.w = w; this.h = h; }
  area() { return this.w * this.h; }
}
class Square extends Rect {
  constructor(s) { super(s, s); this.name = 'square'; }
  area() { return super.area() + 1; }
}

const parts = {
  classes(n) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const s = i % 2 ? new Rect(i % 7, 3) : new Square(i % 5);
      sum += s.area() + s.label.length;
    }
    return sum;
  },
  arrows(n) {
    const xs = [];
    for (let i = 0; i < 64; i++) xs.push(i);
    let sum = 0;
    for (let r = 0; r < n / 64; r++) {
      sum += xs.map((x) => x * 2).filter((x) => x % 3 !== 0).reduce((a, b) => a + b, r);
    }
    return sum;
  },
  closures(n) {
    const fns = [];
    let sum = 0;
    for (let r = 0; r < n / 16; r++) {
      fns.length = 0;
      for (let i = 0; i < 16; i++) fns.push(() => i + r);
      for (const f of fns) sum += f();
    }
    return sum;
  },
  destructuring(n) {
    const rows = [];
    for (let i = 0; i < 32; i++) rows.push({ id: i, name: 'n' + i, pos: [i, i * 2] });
    let sum = 0;
    for (let r = 0; r < n / 32; r++) {
      for (const { id, name, pos: [x, y] } of rows) sum += id + name.length + x + y;
    }
    return sum;
  },
  templates(n) {
    let len = 0;
    for (let i = 0; i < n; i++) {
      const s = `<li id="item-${i}" class="${i % 2 ? 'odd' : 'even'}">${i * 3}</li>`;
      len += s.length;
    }
    return len;
  },
  spread(n) {
    const base = { a: 1, b: 2, c: 3 };
    const args = [1, 2, 3, 4];
    const add = (a, b, c, d) => a + b + c + d;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const o = { ...base, d: i };
      const arr = [...args, i];
      sum += add(...args) + o.d + arr.length;
    }
    return sum;
  },
  defaults(n) {
    const f = (a, b = 2, ...rest) => a + b + rest.length;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += f(i) + f(i, 1, 2, 3) + (base?.x ?? 1);
    return sum;
  },
};
const base = i => i;

export default {
  async fetch(request) {
    const u = new URL(request.url);
    const part = u.searchParams.get('part'), n = Number(u.searchParams.get('n'));
    return new Response(String(parts[part](n)));
  },
};
