"""D1 databases through the Python bindings: load(d1=...) for scripts, d1_databases of a project, the data
in the Runtime's state_dir (shared by Runtimes on the same folder), and the argument checks."""
import sqlite3

import pytest

import edgeworker

POSTS = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/init') {
      await env.DB.exec('CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, title TEXT)');
      return new Response('ok');
    }
    if (request.method === 'POST') {
      const { meta } = await env.DB.prepare('INSERT INTO posts (title) VALUES (?)').bind(await request.text()).run();
      return Response.json({ id: meta.last_row_id });
    }
    const { results } = await env.DB.prepare('SELECT id, title FROM posts ORDER BY id').all();
    return Response.json(results);
  }
};
"""


def test_d1_for_a_script_persists_in_the_state_dir(tmp_path):
    state = tmp_path / "state"
    with edgeworker.Runtime(state_dir=state) as rt:
        w = rt.load(source=POSTS, d1={"DB": "blog"})
        assert w.fetch("/init").text() == "ok"
        assert w.fetch("/", method="POST", body=b"first").json() == {"id": 1}
        assert w.fetch("/", method="POST", body="héllo".encode()).json() == {"id": 2}
    # The file is an ordinary SQLite database at state/d1/<name>.sqlite ...
    with sqlite3.connect(state / "d1" / "blog.sqlite") as db:
        assert db.execute("SELECT title FROM posts ORDER BY id").fetchall() == [("first",), ("héllo",)]
    # ... and a new Runtime on the same folder sees the rows.
    with edgeworker.Runtime(state_dir=state) as rt:
        w = rt.load(source=POSTS, d1={"DB": "blog"})
        assert w.fetch("/").json() == [{"id": 1, "title": "first"}, {"id": 2, "title": "héllo"}]


def test_d1_of_a_project(tmp_path):
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "index.js").write_text(POSTS)
    (project / "wrangler.toml").write_text(
        'name = "blog"\nmain = "src/index.js"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "blog-db"\n'
        'database_id = "1234"\n')
    with edgeworker.Runtime(state_dir=tmp_path / "state") as rt:
        w = rt.load(project)
        w.fetch("/init")
        assert w.fetch("/", method="POST", body=b"x").json() == {"id": 1}
    assert (tmp_path / "state" / "d1" / "blog-db.sqlite").is_file()


def test_d1_without_state_dir_is_in_memory(rt):
    w = rt.load(source=POSTS, d1={"DB": "mem"})
    w.fetch("/init")
    w.fetch("/", method="POST", body=b"a")
    assert w.fetch("/").json() == [{"id": 1, "title": "a"}]


def test_d1_argument_checks(rt):
    with pytest.raises(TypeError, match="d1 must be a mapping"):
        rt.load(source=POSTS, d1=["DB"])
    with pytest.raises(ValueError, match="database name"):
        rt.load(source=POSTS, d1={"DB": "../x"})
    with pytest.raises(ValueError, match="both a KV namespace and a D1 database"):
        rt.load(source=POSTS, kv={"DB": "a"}, d1={"DB": "b"})
    with pytest.raises(ValueError, match="both a D1 database and a var"):
        rt.load(source=POSTS, d1={"DB": "b"}, vars={"DB": "x"})


CACHED = """
export default {
  async fetch(request) {
    const hit = await caches.default.match(request.url);
    if (hit) return new Response('hit:' + (await hit.text()), { headers: { 'cf-cache-status': hit.headers.get('cf-cache-status') } });
    await caches.default.put(request.url, new Response(new Uint8Array(300 * 1024).fill(65),
                                                       { headers: { 'cache-control': 'max-age=60' } }));
    return new Response('miss');
  }
};
"""


def test_cache_api_with_a_bound(tmp_path):
    with edgeworker.Runtime(state_dir=tmp_path, cache_mb=1) as rt:
        w = rt.load(source=CACHED, name="site")
        assert w.fetch("/a").text() == "miss"
        r = w.fetch("/a")
        assert r.text().startswith("hit:AAA") and r.headers["cf-cache-status"] == "HIT"
        for p in ("/b", "/c", "/d"):  # 4 x 300 KiB > 1 MiB: the least recently used goes
            w.fetch(p)
        assert w.fetch("/a").text() == "miss"
    assert (tmp_path / "cache" / "site.sqlite").is_file()
    with pytest.raises(ValueError):
        edgeworker.Runtime(cache_mb=0)


def test_two_threads_write_one_database(tmp_path):
    """Two Runtimes on two threads, one state_dir: every insert lands, no "database is locked"."""
    import threading

    with edgeworker.Runtime(state_dir=tmp_path) as rt:
        rt.load(source=POSTS, d1={"DB": "shared"}).fetch("/init")
    errors = []

    def worker(n):
        try:
            with edgeworker.Runtime(state_dir=tmp_path) as rt:
                w = rt.load(source=POSTS, d1={"DB": "shared"})
                for i in range(100):
                    r = w.fetch("/", method="POST", body=("t%d-%d" % (n, i)).encode())
                    assert r.status == 200, r.text()
        except Exception as e:  # reported below, on the test's thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with sqlite3.connect(tmp_path / "d1" / "shared.sqlite") as db:
        assert db.execute("SELECT count(*) FROM posts").fetchone() == (200,)
