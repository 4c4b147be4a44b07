// Durable Object storage: the key-value API, transactions, alarms bookkeeping and SQL, run inside an object
// (each case calls a method of its own object over RPC, so the code below runs in the object).
import { DurableObject } from 'cloudflare:workers';
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

export class Store extends DurableObject {
  async basics() {
    const s = this.ctx.storage;
    assertEquals(await s.get('missing'), undefined);
    await s.put('a', 1);
    await s.put('b', { x: [1, 'two', null], y: true });
    assertEquals(await s.get('a'), 1);
    assertEquals(await s.get('b'), { x: [1, 'two', null], y: true });
    assertEquals(await s.delete('a'), true);
    assertEquals(await s.delete('a'), false);
    assertEquals(await s.get('a'), undefined);
    return 'ok';
  }
  async structuredValues() {
    const s = this.ctx.storage;
    const v = { d: new Date(1234), m: new Map([['k', new Set([1, 2])]]), u: undefined, n: NaN, neg: -0,
                inf: -Infinity, buf: new Uint8Array([0, 255, 7]).buffer, view: new Uint16Array([513, 65535]),
                re: /a+b/gi, err: new RangeError('boom') };
    await s.put('v', v);
    const r = await s.get('v');
    assert(r.d instanceof Date && r.d.getTime() === 1234, 'Date');
    assert(r.m instanceof Map && r.m.get('k') instanceof Set && r.m.get('k').has(2), 'Map of Set');
    assert('u' in r && r.u === undefined, 'undefined property kept');
    assert(Number.isNaN(r.n) && Object.is(r.neg, -0) && r.inf === -Infinity, 'numbers');
    assertEquals(new Uint8Array(r.buf), new Uint8Array([0, 255, 7]));
    assert(r.view instanceof Uint16Array && r.view[0] === 513 && r.view[1] === 65535, 'typed array');
    assert(r.re instanceof RegExp && r.re.source === 'a+b' && r.re.flags === 'gi', 'RegExp');
    assert(r.err instanceof RangeError && r.err.message === 'boom', 'Error');
    await assertRejects(s.put('f', { f: function () {} }), Error, /could not be cloned/);
    const cyc = {};
    cyc.self = cyc;
    await assertRejects(s.put('c', cyc), Error, /could not be cloned/);
    return 'ok';
  }
  async multiKey() {
    const s = this.ctx.storage;
    await s.put({ k3: 3, k1: 1, k2: 2 });
    const m = await s.get(['k2', 'nope', 'k1']);
    assert(m instanceof Map, 'a Map');
    assertEquals([...m.entries()], [['k1', 1], ['k2', 2]]);
    assertEquals(await s.delete(['k1', 'k2', 'nope']), 2);
    assertEquals(await s.get('k3'), 3);
    const many = Array.from({ length: 129 }, (_, i) => 'x' + i);
    await assertRejects(s.get(many), RangeError, 'Maximum number of keys is 128.');
    return 'ok';
  }
  async list() {
    const s = this.ctx.storage;
    await s.deleteAll();
    await s.put({ 'a': 1, 'b': 2, 'ba': 3, 'bb': 4, 'c': 5, 'é': 6 });
    const keys = async (o) => [...(await s.list(o)).keys()];
    assertEquals(await keys(), ['a', 'b', 'ba', 'bb', 'c', 'é']);
    assertEquals(await keys({ prefix: 'b' }), ['b', 'ba', 'bb']);
    assertEquals(await keys({ start: 'b', end: 'c' }), ['b', 'ba', 'bb']);
    assertEquals(await keys({ startAfter: 'b', limit: 2 }), ['ba', 'bb']);
    assertEquals(await keys({ reverse: true, limit: 2 }), ['é', 'c']);
    assertEquals(await keys({ prefix: 'b', reverse: true }), ['bb', 'ba', 'b']);
    assertEquals((await s.list({ prefix: 'ba' })).get('ba'), 3);
    await assertRejects(s.list({ start: 'a', startAfter: 'a' }), TypeError);
    await assertRejects(s.list({ limit: 0 }), TypeError);
    return 'ok';
  }
  async transactions() {
    const s = this.ctx.storage;
    await s.put('t', 0);
    const r = await s.transaction(async (txn) => {
      await txn.put('t', 1);
      assertEquals(await txn.get('t'), 1);
      return 'committed';
    });
    assertEquals(r, 'committed');
    assertEquals(await s.get('t'), 1);
    await assertRejects(s.transaction(async (txn) => {
      await txn.put('t', 2);
      await txn.put('u', 'new');
      throw new Error('undo');
    }), Error, 'undo');
    assertEquals(await s.get('t'), 1);
    assertEquals(await s.get('u'), undefined);
    await s.transaction(async (txn) => {
      await txn.put('t', 3);
      txn.rollback();
    });
    assertEquals(await s.get('t'), 1);
    const v = s.transactionSync(() => {
      s.sql.exec('CREATE TABLE IF NOT EXISTS tx (v)');
      s.sql.exec('INSERT INTO tx VALUES (1)');
      return 'sync';
    });
    assertEquals(v, 'sync');
    assertThrows(() => s.transactionSync(() => {
      s.sql.exec('INSERT INTO tx VALUES (2)');
      throw new TypeError('no');
    }), TypeError, 'no');
    assertEquals(s.sql.exec('SELECT count(*) AS n FROM tx').one().n, 1);
    return 'ok';
  }
  async syncKv() {
    const s = this.ctx.storage, kv = s.kv;
    assertEquals(kv.get('nope'), undefined);
    kv.put('b', { n: 2 });
    kv.put('a', new Date(3));
    kv.put('c', [3]);
    assertEquals(kv.get('b'), { n: 2 });
    assert(kv.get('a') instanceof Date, 'structured clone');
    assertEquals([...kv.list()].map(([k]) => k), ['a', 'b', 'c']);
    assertEquals([...kv.list({ reverse: true, limit: 2 })].map(([k]) => k), ['c', 'b']);
    assertEquals(kv.delete('c'), true);
    assertEquals(kv.delete('c'), false);
    assertEquals(await s.get('b'), { n: 2 }); // the same data as the asynchronous API
    return 'ok';
  }
  async schemaChange() {
    const s = this.ctx.storage;
    await s.put('before', 1);           // the write statement is prepared and cached now
    s.sql.exec('CREATE TABLE later (x)'); // a schema change makes SQLite prepare it again on its next use
    await s.sync();
    await s.put('after', 2);
    assertEquals([...(await s.get(['before', 'after'])).entries()], [['after', 2], ['before', 1]]);
    return 'ok';
  }
  async deleteAll() {
    const s = this.ctx.storage;
    await s.put({ x: 1, y: 2 });
    s.sql.exec('CREATE TABLE "odd ""name" (v)');
    await s.setAlarm(Date.now() + 3600000);
    await s.deleteAll();
    assertEquals((await s.list()).size, 0);
    const tables = "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 4) <> '_cf_'";
    assertEquals(s.sql.exec(tables).one().n, 0);
    assert((await s.getAlarm()) !== null, 'the alarm stays');
    await s.deleteAlarm();
    await s.sync();
    return 'ok';
  }
  async alarms() {
    const s = this.ctx.storage;
    assertEquals(await s.getAlarm(), null);
    const at = Date.now() + 3600 * 1000;
    await s.setAlarm(at);
    assertEquals(await s.getAlarm(), at);
    await s.setAlarm(new Date(at + 1000));
    assertEquals(await s.getAlarm(), at + 1000);
    await s.deleteAlarm();
    assertEquals(await s.getAlarm(), null);
    await assertRejects(s.setAlarm('soon'), TypeError);
    return 'ok';
  }
  async sql() {
    const s = this.ctx.storage;
    const sql = s.sql;
    sql.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL, pic BLOB)');
    let c = sql.exec('INSERT INTO people (name, score, pic) VALUES (?, ?, ?), (?, ?, ?)',
                     'ann', 1.5, new Uint8Array([1, 2]), 'bob', 2, null);
    assertEquals(c.rowsWritten, 2);
    c = sql.exec('SELECT id, name, score FROM people ORDER BY id');
    assertEquals(c.columnNames, ['id', 'name', 'score']);
    assertEquals(c.toArray(), [{ id: 1, name: 'ann', score: 1.5 }, { id: 2, name: 'bob', score: 2 }]);
    assertEquals(c.rowsRead, 2);
    assertEquals([...sql.exec('SELECT name FROM people ORDER BY id').raw()], [['ann'], ['bob']]);
    const rows = [];
    for (const row of sql.exec('SELECT name FROM people WHERE score > ?', 1.8)) rows.push(row.name);
    assertEquals(rows, ['bob']);
    const pic = sql.exec('SELECT pic FROM people WHERE id = 1').one().pic;
    assertEquals(new Uint8Array(pic), new Uint8Array([1, 2]));
    assertThrows(() => sql.exec('SELECT * FROM people').one(), Error,
                 'Expected exactly one result from SQL query, but got multiple results.');
    assertThrows(() => sql.exec('SELECT * FROM people WHERE id = 99').one(), Error,
                 'Expected exactly one result from SQL query, but got no results.');
    assertThrows(() => sql.exec('SELEC 1'), Error, /syntax error.*SQLITE_ERROR/);
    assertThrows(() => sql.exec('SELECT * FROM _cf_KV'), Error, /SQLITE_AUTH/);
    assertThrows(() => sql.exec('BEGIN TRANSACTION'), Error, /SQLITE_AUTH/);
    assertThrows(() => sql.exec('SELECT ?', 1, 2), RangeError);
    assert(sql.databaseSize > 0, 'databaseSize');
    // the key-value API and SQL share the database
    await s.put('kv', 'still here');
    assertEquals(await s.get('kv'), 'still here');
    return 'ok';
  }
}


export class KvOnly extends DurableObject {
  sql() {
    return this.ctx.storage.sql;
  }
  syncKv() {
    return this.ctx.storage.kv;
  }
  async put(k, v) {
    await this.ctx.storage.put(k, v);
    return this.ctx.storage.get(k);
  }
  async tooBig() {
    await this.ctx.storage.put('big', 'x'.repeat(131000)); // fits (serialized with its quotes)
    await assertRejects(this.ctx.storage.put('big', 'x'.repeat(131071)), RangeError,
                        'Values cannot be larger than 131072 bytes. A value of size 131073 was provided.');
    return 'ok';
  }
}

const CASES = ["basics", "structuredValues", "multiKey", "list", "transactions", "syncKv", "schemaChange", "deleteAll", "alarms", "sql"];

function store(env, name) {
  return env.STORE.get(env.STORE.idFromName(name));
}

CASES.forEach((name) => {
  test(`storage: ${name}`, async (t) => {
    const env = t.env;
    assertEquals(await store(env, name)[name](), 'ok');
  });
});

test('storage: values written by one call are read by the next', async (t) => {
    const env = t.env;
  const a = store(env, 'persist');
  await a.basics();
  assertEquals(await a.basics(), 'ok'); // the same object again, from its stored state
});

test('storage: a key-value class has no SQL', async (t) => {
    const env = t.env;
  const stub = env.KVONLY.get(env.KVONLY.idFromName('k'));
  await assertRejects(stub.sql(), Error, /SQL is not enabled/);
  await assertRejects(stub.syncKv(), Error, /needs a SQLite-backed Durable Object class/);
  assertEquals(await stub.put('k', [1, 2]), [1, 2]);
  assertEquals(await stub.tooBig(), 'ok');
});

export default { fetch: run };
