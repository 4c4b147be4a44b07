"""Durable Objects through the Python bindings: a Wrangler project with a durable_objects binding loads with
Runtime.load(folder), its objects keep their state between calls, and their storage persists across
Runtimes sharing a state_dir."""
import edgeworker

WRANGLER = """name = "py-do"
main = "index.js"
compatibility_date = "2025-01-01"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""

WORKER = """import { DurableObject } from 'cloudflare:workers';
export class Counter extends DurableObject {
  async increment() {
    const n = ((await this.ctx.storage.get('n')) ?? 0) + 1;
    await this.ctx.storage.put('n', n);
    this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS log (n INTEGER)');
    this.ctx.storage.sql.exec('INSERT INTO log VALUES (?)', n);
    return { n, logged: this.ctx.storage.sql.exec('SELECT count(*) AS c FROM log').one().c };
  }
}
export default {
  async fetch(request, env) {
    return Response.json(await env.COUNTER.getByName('py').increment());
  }
};
"""


def test_durable_object_project_from_python(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "wrangler.toml").write_text(WRANGLER)
    (project / "index.js").write_text(WORKER)
    state = tmp_path / "state"
    with edgeworker.Runtime(state) as rt:
        worker = rt.load(project)
        assert worker.fetch("/").json() == {"n": 1, "logged": 1}
        assert worker.fetch("/").json() == {"n": 2, "logged": 2}
    with edgeworker.Runtime(state) as rt:
        worker = rt.load(project)
        assert worker.fetch("/").json() == {"n": 3, "logged": 3}
