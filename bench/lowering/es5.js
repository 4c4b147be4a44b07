// The workload of bench/lowering_cost.c written by hand in ES5: the baseline modern.js is compared with.
// Same algorithms, same checksums; written the way an ES5 programmer would (prototypes, var, index loops).

function Shape(name) { this.name = name; }
Shape.prototype.area = function () { return 0; };
Object.defineProperty(Shape.prototype, 'label', {
  get: function () { return this.name + ':' + this.area(); }, configurable: true
});
function Rect(w, h) { Shape.call(this, 'rect'); this.w = w; this.h = h; }
Rect.prototype = Object.create(Shape.prototype);
Rect.prototype.constructor = Rect;
Rect.prototype.area = function () { return this.w * this.h; };
function Square(s) { Rect.call(this, s, s); this.name = 'square'; }
Square.prototype = Object.create(Rect.prototype);
Square.prototype.constructor = Square;
Square.prototype.area = function () { return Rect.prototype.area.call(this) + 1; };

var parts = {
  classes: function (n) {
    var sum = 0;
    for (var i = 0; i < n; i++) {
      var s = i % 2 ? new Rect(i % 7, 3) : new Square(i % 5);
      sum += s.area() + s.label.length;
    }
    return sum;
  },
  arrows: function (n) {
    var xs = [];
    for (var i = 0; i < 64; i++) xs.push(i);
    var sum = 0;
    for (var r = 0; r < n / 64; r++) {
      sum += xs.map(function (x) { return x * 2; }).filter(function (x) { return x % 3 !== 0; })
        .reduce(function (a, b) { return a + b; }, r);
    }
    return sum;
  },
  closures: function (n) {
    var fns = [];
    var sum = 0;
    function make(i, r) { return function () { return i + r; }; }
    for (var r = 0; r < n / 16; r++) {
      fns.length = 0;
      for (var i = 0; i < 16; i++) fns.push(make(i, r));
      for (var j = 0; j < fns.length; j++) sum += fns[j]();
    }
    return sum;
  },
  destructuring: function (n) {
    var rows = [];
    for (var i = 0; i < 32; i++) rows.push({ id: i, name: 'n' + i, pos: [i, i * 2] });
    var sum = 0;
    for (var r = 0; r < n / 32; r++) {
      for (var k = 0; k < rows.length; k++) {
        var row = rows[k], x = row.pos[0], y = row.pos[1];
        sum += row.id + row.name.length + x + y;
      }
    }
    return sum;
  },
  templates: function (n) {
    var len = 0;
    for (var i = 0; i < n; i++) {
      var s = '<li id="item-' + i + '" class="' + (i % 2 ? 'odd' : 'even') + '">' + i * 3 + '</li>';
      len += s.length;
    }
    return len;
  },
  spread: function (n) {
    var base = { a: 1, b: 2, c: 3 };
    var args = [1, 2, 3, 4];
    function add(a, b, c, d) { return a + b + c + d; }
    var sum = 0;
    for (var i = 0; i < n; i++) {
      var o = {};
      for (var key in base) o[key] = base[key];
      o.d = i;
      var arr = args.concat([i]);
      sum += add.apply(undefined, args) + o.d + arr.length;
    }
    return sum;
  },
  defaults: function (n) {
    function f(a, b) { if (b === undefined) b = 2; return a + b + Math.max(arguments.length - 2, 0); }
    var sum = 0;
    for (var i = 0; i < n; i++) {
      var x = base === null || base === undefined ? undefined : base.x;
      sum += f(i) + f(i, 1, 2, 3) + (x !== null && x !== undefined ? x : 1);
    }
    return sum;
  }
};
function base(i) { return i; }

addEventListener('fetch', function (event) {
  var u = new URL(event.request.url);
  var part = u.searchParams.get('part'), n = Number(u.searchParams.get('n'));
  event.respondWith(new Response(String(parts[part](n))));
});
