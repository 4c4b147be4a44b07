// import() of a module that fails to parse or link rejects the promise with a SyntaxError (as the module
// record's error); the rest of the bundle, and modules that import() reaches without errors, work.
import { test, assert, assertEquals, assertRejects, run } from './harness.js';

test('a module with an early error rejects with SyntaxError', async () => {
  await assertRejects(() => import('./fixtures/import_bad_syntax.js'), SyntaxError);
});

test('an unresolvable indirect export cycle rejects with SyntaxError', async () => {
  await assertRejects(() => import('./fixtures/import_cycle_a.js'), SyntaxError);
});

test('importing a module whose dependency fails rejects with SyntaxError', async () => {
  await assertRejects(() => import('./fixtures/import_uses_bad.js'), SyntaxError);
});

test('the same failure each time, and other imports still load', async () => {
  let first, second;
  try { await import('./fixtures/import_bad_syntax.js'); } catch (e) { first = e; }
  try { await import('./fixtures/import_bad_syntax.js'); } catch (e) { second = e; }
  assert(first instanceof SyntaxError, 'a SyntaxError');
  assertEquals(first, second);
  assert(/import_bad_syntax\.js/.test(first.message), 'the message names the file: ' + first.message);
  const good = await import('./fixtures/import_good.js');
  assertEquals(good.ok, 'fine');
});

export default { fetch: run };
