// Durable Object alarms: alarm() runs at the time set, is deleted after a success, is retried after a
// failure (with isRetry/retryCount), and a moved or deleted alarm does not fire at its old time.
import { DurableObject } from 'cloudflare:workers';
import { test, assert, assertEquals, run } from './harness.js';

export class Alarmed extends DurableObject {
  async arm(ms, failures) {
    await this.ctx.storage.put('failures', failures);
    await this.ctx.storage.put('runs', []);
    await this.ctx.storage.setAlarm(Date.now() + ms);
  }
  async alarm(info) {
    const runs = await this.ctx.storage.get('runs');
    runs.push(info);
    await this.ctx.storage.put('runs', runs);
    const failures = await this.ctx.storage.get('failures');
    if (runs.length <= failures) throw new Error('alarm failure ' + runs.length);
  }
  async state() {
    return { runs: await this.ctx.storage.get('runs'), alarm: await this.ctx.storage.getAlarm() };
  }
  async cancel() {
    await this.ctx.storage.deleteAlarm();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Polls until the object saw `n` alarm runs (or gives up after `limit` ms; the assertions then fail). */
async function runsAfter(stub, n, limit) {
  let s;
  for (let waited = 0; waited < limit; waited += 25) {
    s = await stub.state();
    if (s.runs.length >= n && (n === 0 || s.alarm === null || s.runs.length > n)) break;
    await sleep(25);
  }
  return s;
}

test('an alarm fires once and is then deleted', async (t) => {
  const stub = t.env.ALARMS.getByName('once');
  await stub.arm(30, 0);
  assert((await stub.state()).alarm !== null, 'set');
  const s = await runsAfter(stub, 1, 5000);
  assertEquals(s.runs, [{ retryCount: 0, isRetry: false }]);
  await sleep(50);
  assertEquals((await stub.state()).alarm, null);
});

test('a failing alarm is retried with isRetry and retryCount', async (t) => {
  const stub = t.env.ALARMS.getByName('retry');
  await stub.arm(10, 1);
  const s = await runsAfter(stub, 2, 8000);
  assertEquals(s.runs, [{ retryCount: 0, isRetry: false }, { retryCount: 1, isRetry: true }]);
});

test('a deleted alarm does not fire', async (t) => {
  const stub = t.env.ALARMS.getByName('deleted');
  await stub.arm(60, 0);
  await stub.cancel();
  await sleep(150);
  assertEquals((await stub.state()).runs, []);
});

export default { fetch: run };
