// The entry: the seed's maintenance Worker (src/maintenance.js, unmodified) plus what it uses without
// defining, and one route to look at what the cron runs recorded.
//
// - sendDailyReport(env) and cleanupExpiredData(env) are called but not defined by the seed: here the
//   report is a KV entry `report:YYYY-MM-DD` with the health entries of the day, and the cleanup drops health
//   entries older than a day.
// - performHealthCheck reads a variable `startTime` that nothing declares: a module script would throw
//   ReferenceError inside its try, so every service would be recorded unhealthy with "startTime is not
//   defined". The entry sets globalThis.startTime at the start of each scheduled run, so responseTime is the
//   time since the run started.
// - GET /health-status lists the METRICS_KV entries (the seed's fetch answers "Worker is running" to all).
import maintenance from './maintenance.js';

globalThis.sendDailyReport = async function sendDailyReport(env) {
  const { keys } = await env.METRICS_KV.list({ prefix: 'health:' });
  const report = {};
  for (const key of keys) report[key.name] = await env.METRICS_KV.get(key.name, 'json');
  const day = new Date().toISOString().slice(0, 10);
  await env.METRICS_KV.put(`report:${day}`, JSON.stringify(report));
};

globalThis.cleanupExpiredData = async function cleanupExpiredData(env) {
  const { keys } = await env.METRICS_KV.list({ prefix: 'health:' });
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const key of keys) {
    const value = await env.METRICS_KV.get(key.name, 'json');
    if (value && value.timestamp < dayAgo) await env.METRICS_KV.delete(key.name);
  }
};

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === '/health-status') {
      const { keys } = await env.METRICS_KV.list();
      const out = {};
      for (const key of keys) out[key.name] = await env.METRICS_KV.get(key.name, 'json');
      return Response.json(out);
    }
    return maintenance.fetch(request, env, ctx);
  },

  async scheduled(event, env, ctx) {
    globalThis.startTime = Date.now();
    return maintenance.scheduled(event, env, ctx);
  },
};
