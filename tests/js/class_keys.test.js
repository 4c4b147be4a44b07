// Class member names are property keys, not references (lib/compile/scope.c): a method or field named like
// an import or a renamed block binding keeps its name (this once crashed the compiler's emitter).
import { test, assertEquals, run } from './harness.js';

class Named {
  run() { return 'method'; }
  test = 'field';
  static assertEquals = 'static field';
  ['via' + run.name]() { return 'computed from the import'; }
}

test('method and field names that match imports', () => {
  const n = new Named();
  assertEquals(n.run(), 'method');
  assertEquals(n.test, 'field');
  assertEquals(Named.assertEquals, 'static field');
  assertEquals(n.run.name, 'run');
  assertEquals(n.viarun(), 'computed from the import');
});

test('names that match a renamed block binding', () => {
  let x = 'outer';
  {
    let x = 'inner';
    class C { x() { return x; } }
    assertEquals(new C().x(), 'inner');
  }
  assertEquals(x, 'outer');
});

export default { fetch: run };
