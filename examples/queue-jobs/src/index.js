// A job queue: POST /jobs enqueues work, the queue consumer runs it in batches, GET /jobs/:id shows its status.
// A job whose task throws is retried (with a delay) and, out of retries, lands in the dead letter queue, whose
// consumer marks it failed.

const tasks = {
  // Word count of a text.
  count(input) {
    return { words: String(input).split(/\s+/).filter(Boolean).length };
  },
  // SHA-256 of a text, hex.
  async hash(input) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(String(input)));
    return { sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('') };
  },
  // Always fails: shows retries and the dead letter queue.
  fail() {
    throw new Error('this task always fails');
  },
};

async function setStatus(env, id, status) {
  await env.JOBS_KV.put(`job:${id}`, JSON.stringify({ id, ...status, updatedAt: new Date().toISOString() }));
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.pathname === '/jobs') {
      const body = await request.json().catch(() => null);
      const list = Array.isArray(body) ? body : [body];
      if (list.length === 0 || list.length > 100 || !list.every((j) => j && typeof j.task === 'string' && j.task in tasks)) {
        return Response.json({ error: `send 1-100 jobs like {"task": "${Object.keys(tasks).join('|')}", "input": ...}` },
          { status: 400 });
      }
      const jobs = list.map((j) => ({ id: crypto.randomUUID(), task: j.task, input: j.input ?? null }));
      await Promise.all(jobs.map((j) => setStatus(env, j.id, { state: 'queued', task: j.task })));
      await env.JOBS.sendBatch(jobs.map((j) => ({ body: j })));
      return Response.json({ ids: jobs.map((j) => j.id) }, { status: 202 });
    }
    const m = url.pathname.match(/^\/jobs\/([0-9a-f-]{36})$/);
    if (request.method === 'GET' && m) {
      const status = await env.JOBS_KV.get(`job:${m[1]}`, 'json');
      return status ? Response.json(status) : Response.json({ error: 'no such job' }, { status: 404 });
    }
    return new Response('POST /jobs, GET /jobs/:id\n', { status: 404 });
  },

  async queue(batch, env) {
    if (batch.queue === 'jobs-failed') {
      for (const msg of batch.messages) {
        await setStatus(env, msg.body.id, { state: 'failed', task: msg.body.task });
      }
      return;
    }
    for (const msg of batch.messages) {
      const job = msg.body;
      try {
        const result = await tasks[job.task](job.input);
        await setStatus(env, job.id, { state: 'done', task: job.task, result, attempts: msg.attempts });
        msg.ack();
      } catch (err) {
        await setStatus(env, job.id, { state: 'retrying', task: job.task, error: err.message, attempts: msg.attempts });
        msg.retry({ delaySeconds: 1 });
      }
    }
  },
};
