// D1 (env.DB, a D1 database in the run's fresh state directory): prepare/bind/first/all/run/raw, batch,
// exec, dump, result shapes and D1's error words.
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

test('exec runs one query per line and counts them', async ({ env }) => {
  const r = await env.DB.exec(
    'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, age INTEGER, score REAL, pic BLOB);\n' +
    "INSERT INTO users (name, age) VALUES ('ann', 31); INSERT INTO users (name, age) VALUES ('bob', 42);\n"
  );
  assertEquals(r.count, 2);
  assertEquals(typeof r.duration, 'number');
});

test('all() returns success, meta and rows as objects', async ({ env }) => {
  const r = await env.DB.prepare('SELECT id, name, age FROM users ORDER BY id').all();
  assertEquals(r.success, true);
  assertEquals(r.results, [{ id: 1, name: 'ann', age: 31 }, { id: 2, name: 'bob', age: 42 }]);
  for (const k of ['duration', 'changes', 'last_row_id', 'rows_read', 'rows_written', 'size_after'])
    assertEquals(typeof r.meta[k], 'number', k);
  assertEquals(r.meta.changed_db, false);
  assertEquals(r.meta.changes, 0);
  assert(r.meta.size_after > 0, 'size_after');
});

test('run() reports changes and last_row_id of an insert', async ({ env }) => {
  const r = await env.DB.prepare('INSERT INTO users (name, age, score) VALUES (?, ?, ?)').bind('cy', 7, 1.5).run();
  assertEquals(r.success, true);
  assertEquals(r.meta.changes, 1);
  assertEquals(r.meta.last_row_id, 3);
  assertEquals(r.meta.changed_db, true);
  assertEquals(r.meta.rows_written, 1);
  assertEquals(r.results, []);
});

test('first() gives the first row, a column of it, or null', async ({ env }) => {
  const stmt = env.DB.prepare('SELECT name, score FROM users WHERE id = ?1');
  assertEquals(await stmt.bind(3).first(), { name: 'cy', score: 1.5 });
  assertEquals(await stmt.bind(3).first('name'), 'cy');
  assertEquals(await stmt.bind(99).first(), null);
  assertEquals(await stmt.bind(99).first('nope'), null);
  await assertRejects(stmt.bind(3).first('nope'), Error, 'D1_COLUMN_NOTFOUND: Column not found (nope)');
});

test('raw() gives arrays, with the column names first when asked', async ({ env }) => {
  const stmt = env.DB.prepare('SELECT id, name FROM users WHERE id <= 2 ORDER BY id');
  assertEquals(await stmt.raw(), [[1, 'ann'], [2, 'bob']]);
  assertEquals(await stmt.raw({ columnNames: true }), [['id', 'name'], [1, 'ann'], [2, 'bob']]);
  assertEquals(await env.DB.prepare('SELECT id FROM users WHERE 0').raw({ columnNames: true }), [['id']]);
});

test('bind: ?NNN placeholders, null, booleans as 1/0, reals', async ({ env }) => {
  const row = await env.DB.prepare('SELECT ?2 AS b, ?1 AS a, ?3 AS n, ?4 AS t, ?5 AS f, ?6 AS r')
    .bind('x', 'y', null, true, false, 0.25).first();
  assertEquals(row, { b: 'y', a: 'x', n: null, t: 1, f: 0, r: 0.25 });
  assertEquals(await env.DB.prepare('SELECT typeof(?) AS t').bind(3).first('t'), 'integer');
  assertEquals(await env.DB.prepare('SELECT typeof(?) AS t').bind(3.5).first('t'), 'real');
});

test('bind: undefined, objects and functions are D1_TYPE_ERRORs', ({ env }) => {
  const stmt = env.DB.prepare('SELECT ?');
  assertThrows(() => stmt.bind(undefined), Error, "D1_TYPE_ERROR: Type 'undefined' not supported for value 'undefined'");
  assertThrows(() => stmt.bind({ a: 1 }), Error, "D1_TYPE_ERROR: Type 'object' not supported for value '[object Object]'");
  assertThrows(() => stmt.bind([1, 300]), Error, "D1_TYPE_ERROR: Type 'object' not supported for value '1,300'");
  const e = assertThrows(() => stmt.bind(undefined), Error);
  assertEquals(e.cause.message, "Type 'undefined' not supported for value 'undefined'");
});

test('BLOBs bind from ArrayBuffer, typed arrays and byte arrays and come back as arrays of numbers', async ({ env }) => {
  const ins = env.DB.prepare('UPDATE users SET pic = ? WHERE id = ?');
  await ins.bind(new Uint8Array([1, 2, 255]).buffer, 1).run();
  await ins.bind(new Uint8Array([0, 9]), 2).run();
  await ins.bind([7, 8], 3).run();
  const rows = await env.DB.prepare('SELECT pic, typeof(pic) AS t FROM users ORDER BY id').all();
  assertEquals(rows.results, [{ pic: [1, 2, 255], t: 'blob' }, { pic: [0, 9], t: 'blob' }, { pic: [7, 8], t: 'blob' }]);
  assertEquals(await env.DB.prepare("SELECT x'' AS e").first('e'), []);
});

test('a column named __proto__ is an own property of the row', async ({ env }) => {
  const row = await env.DB.prepare("SELECT x'01' AS __proto__, 2 AS b").first();
  assertEquals(Object.getPrototypeOf(row), Object.prototype);
  assertEquals(Object.keys(row), ['__proto__', 'b']);
  const all = await env.DB.prepare("SELECT x'01' AS __proto__").all();
  assertEquals(Object.getPrototypeOf(all.results[0]), Object.prototype);
});

test('text round-trips with astral characters', async ({ env }) => {
  const s = 'héllo 😀 世界';
  assertEquals(await env.DB.prepare('SELECT ? AS s, length(?) AS n').bind(s, s).first(), { s, n: 10 });
});

test('integers are numbers; past 2^53 they lose precision as in D1', async ({ env }) => {
  const r = await env.DB.prepare('SELECT 9007199254740993 AS big, -5 AS neg, 1e300 AS huge').first();
  assertEquals(r, { big: 9007199254740992, neg: -5, huge: 1e300 });
});

test('SQL errors are D1_ERROR with the SQLite code', async ({ env }) => {
  await assertRejects(env.DB.prepare('SELECT * FROM nope').all(), Error, 'D1_ERROR: no such table: nope: SQLITE_ERROR');
  await assertRejects(env.DB.prepare("INSERT INTO users (name) VALUES ('ann')").run(), Error,
    'D1_ERROR: UNIQUE constraint failed: users.name: SQLITE_CONSTRAINT');
  await assertRejects(env.DB.prepare('SELEC 1').all(), Error, /^D1_ERROR: near "SELEC": syntax error: SQLITE_ERROR$/);
  const e = await assertRejects(env.DB.prepare('SELECT * FROM nope').first(), Error);
  assertEquals(e.cause.message, 'no such table: nope: SQLITE_ERROR');
});

test('the number of bound values must match the placeholders', async ({ env }) => {
  await assertRejects(env.DB.prepare('SELECT ?, ?').bind(1).all(), Error,
    'D1_ERROR: Wrong number of parameter bindings for SQL query.');
  await assertRejects(env.DB.prepare('SELECT 1').bind(1).all(), Error,
    'D1_ERROR: Wrong number of parameter bindings for SQL query.');
});

test("D1's limits: statement length, value size, bound parameters, columns", async ({ env }) => {
  await assertRejects(env.DB.prepare('SELECT 1 ' + ' '.repeat(100001)).all(), Error,
    'D1_ERROR: statement too long: SQLITE_TOOBIG');
  await assertRejects(env.DB.prepare('SELECT ? AS v').bind('x'.repeat(2000001)).all(), Error,
    /^D1_ERROR: string or blob too big: SQLITE_TOOBIG$/);
  assertEquals((await env.DB.prepare('SELECT length(?) AS n').bind('x'.repeat(1000000)).first('n')), 1000000);
  const many = Array.from({ length: 101 }, () => '?').join(',');
  await assertRejects(env.DB.prepare('SELECT ' + many).bind(...Array(101).fill(1)).all(), Error,
    /^D1_ERROR: too many SQL variables/);
  const cols = Array.from({ length: 101 }, (_, i) => 'c' + i + ' INTEGER').join(',');
  await assertRejects(env.DB.exec('CREATE TABLE wide (' + cols + ')'), Error, /too many columns/);
});

test('a prepared statement holds one statement', async ({ env }) => {
  await assertRejects(env.DB.prepare('SELECT 1; SELECT 2').all(), Error,
    'D1_ERROR: A prepared SQL statement must contain only one statement.');
  assertEquals(await env.DB.prepare('SELECT 1 AS one; -- trailing comment').first('one'), 1);
  await assertRejects(env.DB.prepare('  ').all(), Error, 'D1_ERROR: No SQL statements detected.');
});

test('batch() returns one result per statement', async ({ env }) => {
  const r = await env.DB.batch([
    env.DB.prepare('INSERT INTO users (name) VALUES (?)').bind('dee'),
    env.DB.prepare('SELECT count(*) AS n FROM users'),
  ]);
  assertEquals(r.length, 2);
  assertEquals(r[0].meta.changes, 1);
  assertEquals(r[1].results, [{ n: 4 }]);
});

test('batch() is all or nothing', async ({ env }) => {
  await assertRejects(env.DB.batch([
    env.DB.prepare('INSERT INTO users (name) VALUES (?)').bind('eve'),
    env.DB.prepare('INSERT INTO users (name) VALUES (?)').bind('ann'),
  ]), Error, 'D1_ERROR: UNIQUE constraint failed: users.name: SQLITE_CONSTRAINT');
  assertEquals(await env.DB.prepare("SELECT count(*) AS n FROM users WHERE name = 'eve'").first('n'), 0);
  await assertRejects(env.DB.batch([{}]), TypeError);
});

test('writes of one turn share a commit; a failing one does not undo the others', async ({ env }) => {
  await env.DB.exec('CREATE TABLE g (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
  const ins = env.DB.prepare('INSERT INTO g (v) VALUES (?)');
  const settled = await Promise.allSettled([
    ins.bind('a').run(), ins.bind('b').run(), ins.bind('a').run(),
    env.DB.batch([ins.bind('c'), ins.bind('b')]), ins.bind('d').run(),
  ]);
  assertEquals(settled.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
  assertEquals(settled.map((r) => r.value && r.value.meta.last_row_id), [1, 2, undefined, undefined, 3]);
  assertEquals(settled[2].reason.message, 'D1_ERROR: UNIQUE constraint failed: g.v: SQLITE_CONSTRAINT');
  const rows = await env.DB.prepare('SELECT v FROM g ORDER BY id').raw();
  assertEquals(rows, [['a'], ['b'], ['d']]);
});

test('INSERT OR ROLLBACK fails the writes of its turn before it, not those after', async ({ env }) => {
  const ins = env.DB.prepare('INSERT INTO g (v) VALUES (?)');
  const settled = await Promise.allSettled([
    ins.bind('r1').run(),
    env.DB.prepare("INSERT OR ROLLBACK INTO g (v) VALUES ('a')").run(),
    ins.bind('r2').run(),
  ]);
  assertEquals(settled.map((r) => r.status), ['rejected', 'rejected', 'fulfilled']);
  assert(/rolled back/.test(settled[0].reason.message), settled[0].reason.message);
  assertEquals(settled[1].reason.message, 'D1_ERROR: UNIQUE constraint failed: g.v: SQLITE_CONSTRAINT');
  assertEquals(await env.DB.prepare("SELECT v FROM g WHERE v LIKE 'r%' ORDER BY v").raw(), [['r2']]);
});

test('a read in the same turn sees the writes before it', async ({ env }) => {
  const w = env.DB.prepare("INSERT INTO g (v) VALUES ('e')").run();
  const r = env.DB.prepare("SELECT count(*) AS n FROM g WHERE v = 'e'").first('n');
  assertEquals(await r, 1);
  assertEquals((await w).meta.changes, 1);
});

test('exec() reports the failing line', async ({ env }) => {
  await assertRejects(env.DB.exec('SELECT 1;\nINSERTZ INTO users VALUES (1)'), Error,
    'D1_EXEC_ERROR: Error in line 2: INSERTZ INTO users VALUES (1): near "INSERTZ": syntax error: SQLITE_ERROR');
});

test('transactions, ATTACH, VACUUM and unsafe pragmas are refused', async ({ env }) => {
  for (const sql of ['BEGIN', 'SAVEPOINT a', "ATTACH '/tmp/x.db' AS x", 'PRAGMA journal_mode=DELETE',
                     'PRAGMA synchronous=OFF', "VACUUM INTO '/tmp/x.db'"])
    await assertRejects(env.DB.prepare(sql).run(), Error, /^D1_ERROR: not authorized: SQLITE_AUTH$/, sql);
  const cols = await env.DB.prepare('PRAGMA table_info(users)').all();
  assertEquals(cols.results.map((c) => c.name), ['id', 'name', 'age', 'score', 'pic']);
});

test('withSession() prepares and batches on the same data; bookmarks come back as given', async ({ env }) => {
  const session = env.DB.withSession();
  assertEquals(session.getBookmark(), null);
  assertEquals(env.DB.withSession('first-primary').getBookmark(), null);
  assertEquals(env.DB.withSession(' 0000000d-00000001 ').getBookmark(), '0000000d-00000001');
  await session.prepare("INSERT INTO g (v) VALUES ('s')").run();
  const [r] = await session.batch([session.prepare("SELECT count(*) AS n FROM g WHERE v = 's'")]);
  assertEquals(r.results, [{ n: 1 }]);
  assertEquals(await env.DB.prepare("SELECT count(*) AS n FROM g WHERE v = 's'").first('n'), 1);
  assertThrows(() => env.DB.withSession(5), TypeError);
});

test('dump() returns the database file', async ({ env }) => {
  const buf = await env.DB.dump();
  assert(buf instanceof ArrayBuffer, 'ArrayBuffer');
  assertEquals(new TextDecoder().decode(new Uint8Array(buf, 0, 15)), 'SQLite format 3');
});

test('methods check their receiver; prepare needs SQL', ({ env }) => {
  assertThrows(() => env.DB.prepare.call({}, 'SELECT 1'), TypeError, 'Illegal invocation');
  assertThrows(() => env.DB.prepare(), TypeError);
});

test('the seed posts pattern: pagination and COUNT(*)', async ({ env }) => {
  await env.DB.exec('CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT, content TEXT, author TEXT, created_at TEXT)');
  for (let i = 1; i <= 3; i++) {
    const { success, meta } = await env.DB.prepare(`
      INSERT INTO posts (title, content, author, created_at)
      VALUES (?, ?, ?, ?)
    `).bind(`t${i}`, 'c', 'Anonymous', new Date(Date.UTC(2024, 0, i)).toISOString()).run();
    assert(success);
    assertEquals(meta.last_row_id, i);
  }
  const { results } = await env.DB.prepare(`
    SELECT id, title FROM posts ORDER BY created_at DESC LIMIT ? OFFSET ?
  `).bind(2, 0).all();
  assertEquals(results, [{ id: 3, title: 't3' }, { id: 2, title: 't2' }]);
  const { results: [{ count }] } = await env.DB.prepare('SELECT COUNT(*) as count FROM posts').all();
  assertEquals(count, 3);
});

export default { fetch: run };
