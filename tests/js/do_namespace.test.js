// Durable Object namespaces, ids and stubs: ids as Cloudflare makes and checks them, stub.fetch and RPC with
// structured-clone arguments, errors crossing back, one instance per id, the input gate and
// blockConcurrencyWhile.
import { DurableObject, WorkerEntrypoint, RpcTarget, env as workersEnv } from 'cloudflare:workers';
import { test, assert, assertEquals, assertThrows, assertRejects, run } from './harness.js';

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.made = Date.now();
    this.hits = 0;
  }
  async increment(by) {
    const v = ((await this.ctx.storage.get('n')) ?? 0) + by;
    await this.ctx.storage.put('n', v);
    return v;
  }
  who() {
    this.hits++;
    return { id: this.ctx.id.toString(), name: this.ctx.id.name, made: this.made, hits: this.hits,
             envHasCounter: typeof this.env.COUNTER.idFromName === 'function' };
  }
  echo(...args) {
    return args;
  }
  async callOther(name) {
    // an object calling another object (and itself) through its env
    const other = await this.env.COUNTER.getByName(name).increment(5);
    const self = await this.env.COUNTER.get(this.ctx.id).who();
    return [other, self.id === this.ctx.id.toString()];
  }
  fail(kind) {
    if (kind === 'type') throw new TypeError('bad type');
    throw new Error('plain failure');
  }
  async fetch(request) {
    const body = request.method === 'POST' ? await request.text() : '';
    return new Response(`${request.method} ${new URL(request.url).pathname} ${body}`, {
      status: 201, statusText: 'Made', headers: { 'x-do': 'yes', 'x-in': request.headers.get('x-in') ?? '' },
    });
  }
}

export class Plain {
  constructor(state, env) {
    this.state = state;
  }
  async fetch(request) {
    return new Response(`plain ${this.state.id.toString().length}`);
  }
  rpc() {
    return 1;
  }
}

export class Gated extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.log = [];
    ctx.blockConcurrencyWhile(async () => {
      await new Promise((r) => setTimeout(r, 20));
      this.ready = true;
    });
  }
  isReady() {
    return this.ready === true;
  }
  async slowIncrement() {
    const v = (await this.ctx.storage.get('n')) ?? 0;
    await this.ctx.storage.put('n', v + 1);
    return v + 1;
  }
}

test('idFromName is stable, 64 hex digits, and keeps the name', ({ env }) => {
  const a = env.COUNTER.idFromName('room'), b = env.COUNTER.idFromName('room');
  assert(/^[0-9a-f]{64}$/.test(a.toString()), a.toString());
  assertEquals(a.toString(), b.toString());
  assert(a.equals(b) && !a.equals(env.COUNTER.idFromName('other')), 'equals');
  assertEquals(a.name, 'room');
  assert(env.OTHER.idFromName('room').toString() === a.toString(), 'same class, same id');
  assert(env.PLAIN.idFromName('room').toString() !== a.toString(), 'other class, other id');
});

test('newUniqueId makes distinct ids without a name', ({ env }) => {
  const a = env.COUNTER.newUniqueId(), b = env.COUNTER.newUniqueId();
  assert(!a.equals(b), 'distinct');
  assertEquals(a.name, undefined);
  assertThrows(() => env.COUNTER.newUniqueId({ jurisdiction: 'mars' }), TypeError);
  assert(env.COUNTER.newUniqueId({ jurisdiction: 'eu' }).toString().length === 64, 'eu');
});

test('idFromString round-trips and rejects bad or foreign ids with TypeError', ({ env }) => {
  const id = env.COUNTER.newUniqueId();
  assert(env.COUNTER.idFromString(id.toString()).equals(id), 'round trip');
  assertEquals(env.COUNTER.idFromString(id.toString().toUpperCase()).toString(), id.toString());
  assertThrows(() => env.COUNTER.idFromString('abc'), TypeError, 'Invalid Durable Object ID: must be 64 hex digits');
  assertThrows(() => env.COUNTER.idFromString('z'.repeat(64)), TypeError, 'Invalid Durable Object ID: must be 64 hex digits');
  const foreign = env.PLAIN.newUniqueId().toString();
  assertThrows(() => env.COUNTER.idFromString(foreign), TypeError, 'Durable Object ID is not valid for this namespace.');
  assertThrows(() => env.COUNTER.get(env.PLAIN.newUniqueId()), TypeError, 'Durable Object ID is not valid for this namespace.');
  assertThrows(() => env.COUNTER.get('room'), TypeError);
});

test('stub.fetch carries method, path, headers and body both ways', async ({ env }) => {
  const stub = env.COUNTER.get(env.COUNTER.idFromName('fetch'));
  assertEquals(stub.id.toString(), env.COUNTER.idFromName('fetch').toString());
  assertEquals(stub.name, 'fetch');
  const r = await stub.fetch('https://do.example/path', { method: 'POST', body: 'hello', headers: { 'x-in': 'v' } });
  assertEquals(r.status, 201);
  assertEquals(r.statusText, 'Made');
  assertEquals(r.headers.get('x-do'), 'yes');
  assertEquals(r.headers.get('x-in'), 'v');
  assertEquals(await r.text(), 'POST /path hello');
  const r2 = await stub.fetch(new Request('https://do.example/get'));
  assertEquals(await r2.text(), 'GET /get ');
});

test('RPC passes structured-clone values and returns them', async ({ env }) => {
  const stub = env.COUNTER.getByName('rpc');
  const out = await stub.echo(1, 'two', [3], { d: new Date(7), m: new Map([[1, 'x']]), s: new Set([2]), u: undefined },
                              new Uint8Array([9, 8]).buffer);
  assertEquals(out[0], 1);
  assertEquals(out[2], [3]);
  assert(out[3].d instanceof Date && out[3].d.getTime() === 7, 'Date');
  assert(out[3].m.get(1) === 'x' && out[3].s.has(2) && 'u' in out[3], 'Map/Set/undefined');
  assertEquals(new Uint8Array(out[4]), new Uint8Array([9, 8]));
  await assertRejects(stub.echo(() => 1), Error, /could not be cloned/);
});

test('one instance per id: state in memory is shared by every stub', async ({ env }) => {
  const a = await env.COUNTER.getByName('same').who();
  const b = await env.COUNTER.get(env.COUNTER.idFromName('same')).who();
  assertEquals(a.made, b.made);
  assertEquals(b.hits, a.hits + 1);
  assertEquals(a.name, 'same');
  assertEquals(a.id, env.COUNTER.idFromName('same').toString());
  assert(a.envHasCounter, 'the object gets env');
});

test('objects call other objects and themselves', async ({ env }) => {
  assertEquals(await env.COUNTER.getByName('caller').callOther('callee'), [5, true]);
  assertEquals(await env.COUNTER.getByName('callee').increment(0), 5);
});

test('errors thrown by the object reject the caller with their type and message', async ({ env }) => {
  const stub = env.COUNTER.getByName('errors');
  await assertRejects(stub.fail('type'), TypeError, 'bad type');
  await assertRejects(stub.fail('plain'), Error, 'plain failure');
  await assertRejects(stub.noSuchMethod(), TypeError, 'The RPC receiver does not implement the method "noSuchMethod".');
  assertEquals(stub.then, undefined);
});

test('a class not extending DurableObject answers fetch but not RPC', async ({ env }) => {
  const stub = env.PLAIN.getByName('p');
  assertEquals(await (await stub.fetch('http://x/')).text(), 'plain 64');
  await assertRejects(stub.rpc(), TypeError, /does not support RPC/);
});

test('concurrent read-modify-write calls are serialized by the input gate', async ({ env }) => {
  const stub = env.COUNTER.getByName('concurrent');
  const results = await Promise.all(Array.from({ length: 40 }, () => stub.increment(1)));
  assertEquals(results.slice().sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1));
  assertEquals(await stub.increment(0), 40);
});

test('blockConcurrencyWhile in the constructor holds events until it is done', async ({ env }) => {
  const stub = env.GATED.getByName('g');
  assertEquals(await stub.isReady(), true);
  const r = await Promise.all([stub.slowIncrement(), stub.slowIncrement(), stub.slowIncrement()]);
  assertEquals(r.sort(), [1, 2, 3]);
});

test("'cloudflare:workers' exports the base classes and env", (t) => {
  assertEquals(typeof WorkerEntrypoint, 'function');
  assertEquals(typeof RpcTarget, 'function');
  assert(workersEnv.COUNTER === t.env.COUNTER, 'the same env');
  const o = new Counter({ id: null }, t.env);
  assert(o instanceof DurableObject && o.env === t.env, 'the base class keeps ctx and env');
  assertThrows(() => DurableObject({}, {}), TypeError);
});

export default { fetch: run };
