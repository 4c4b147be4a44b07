"""D1 end to end: `ew-server d1 migrations apply` and `d1 execute` on the state folder ew-server serves from,
the seed's posts Worker (examples/d1-posts) through real HTTP, data surviving a restart, a second process
writing while the server runs, and the CPU limit stopping a runaway query."""
import concurrent.futures
import http.client
import json
import shutil
import sqlite3
import subprocess

from conftest import ROOT, SERVER, Server


def d1(*args, cwd=None, check=True):
    out = subprocess.run([str(SERVER), "d1", *args], capture_output=True, text=True, timeout=60, cwd=cwd)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def request(s, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def project(tmp_path):
    dest = tmp_path / "d1-posts"
    shutil.copytree(ROOT / "examples" / "d1-posts", dest, ignore=shutil.ignore_patterns(".wrangler"))
    return dest


def test_migrations_apply_twice_then_the_worker_sees_the_table(tmp_path):
    proj = project(tmp_path)
    state = str(tmp_path / "state")
    first = d1("migrations", "apply", "DB", "-c", str(proj), "--persist-to", state)
    assert "0001_create_posts.sql" in first.stdout and "Applied 1 migration." in first.stdout
    again = d1("migrations", "apply", "posts", "-c", str(proj), "--persist-to", state)  # by database_name
    assert "No migrations to apply!" in again.stdout
    rows = json.loads(d1("execute", "DB", "-c", str(proj), "--persist-to", state, "--json",
                         "--command", "SELECT id, name, applied_at FROM d1_migrations").stdout)
    assert [r["name"] for r in rows[0]["results"]] == ["0001_create_posts.sql"]
    assert rows[0]["success"] is True and len(rows[0]["results"][0]["applied_at"]) == 19

    # A second migration is applied alone, after the first.
    (proj / "migrations" / "0002_seed.sql").write_text(
        "INSERT INTO posts (title, content, created_at) VALUES ('seeded', 'from a migration', '2024-01-01');\n")
    out = d1("migrations", "apply", "DB", "-c", str(proj), "--persist-to", state)
    assert "0002_seed.sql" in out.stdout and "0001" not in out.stdout

    s = Server(proj, ("--persist-to", state, "--threads", "2"))
    try:
        status, body = request(s, "GET", "/api/posts")
        assert status == 200
        got = json.loads(body)
        assert [p["title"] for p in got["posts"]] == ["seeded"]
        assert got["pagination"] == {"page": 1, "limit": 10, "total": 1, "pages": 1}
    finally:
        assert s.stop() == 0


def test_seed_posts_worker_unmodified_and_data_survives_restart(tmp_path):
    proj = project(tmp_path)
    state = str(tmp_path / "state")
    d1("migrations", "apply", "DB", "-c", str(proj), "--persist-to", state)
    s = Server(proj, ("--persist-to", state))
    try:
        ids = []
        for i in range(12):
            status, body = request(s, "POST", "/api/posts", {"title": "post %d" % i, "content": "c%d" % i})
            assert status == 201, body
            reply = json.loads(body)
            assert reply["message"] == "Post created successfully"
            ids.append(reply["id"])
        assert ids == list(range(1, 13))
        status, body = request(s, "POST", "/api/posts", {"title": "no content"})
        assert (status, body) == (400, b"Title and content are required")
        status, body = request(s, "GET", "/api/posts?page=2&limit=5")
        page = json.loads(body)
        assert page["pagination"] == {"page": 2, "limit": 5, "total": 12, "pages": 3}
        assert len(page["posts"]) == 5 and page["posts"][0]["author"] == "Anonymous"
    finally:
        assert s.stop() == 0
    # Every insert that was answered is on disk: a new server (and the command) see all of them.
    s = Server(proj, ("--persist-to", state))
    try:
        status, body = request(s, "GET", "/api/posts?limit=100")
        assert json.loads(body)["pagination"]["total"] == 12
    finally:
        assert s.stop() == 0
    out = d1("execute", "DB", "-c", str(proj), "--persist-to", state, "--command", "SELECT count(*) AS n FROM posts")
    assert "│ 12 │" in out.stdout and "1 command executed successfully" in out.stdout


def test_execute_file_json_and_errors(tmp_path):
    proj = project(tmp_path)
    state = str(tmp_path / "state")
    sql = tmp_path / "dump.sql"
    sql.write_text("BEGIN TRANSACTION;\nCREATE TABLE t (a INTEGER, b TEXT, c BLOB, d REAL);\n"
                   "INSERT INTO t VALUES (1, 'x', x'0aff', 0.5);\nCOMMIT;\n")
    out = d1("execute", "DB", "-c", str(proj), "--persist-to", state, "--file", str(sql))
    assert "2 commands executed successfully" in out.stdout
    rows = json.loads(d1("execute", "DB", "-c", str(proj), "--persist-to", state, "--json",
                         "--command", "SELECT * FROM t; SELECT 2 AS two").stdout)
    assert rows[0]["results"] == [{"a": 1, "b": "x", "c": [10, 255], "d": 0.5}]
    assert rows[1]["results"] == [{"two": 2}] and rows[1]["meta"]["changes"] == 0
    meta = rows[0]["meta"]
    assert set(meta) == {"served_by", "duration", "changes", "last_row_id", "changed_db", "size_after",
                         "rows_read", "rows_written"}
    assert meta["changed_db"] is False and meta["size_after"] > 0
    # All or nothing: the insert before the failing statement is rolled back.
    bad = d1("execute", "DB", "-c", str(proj), "--persist-to", state, "--command",
             "INSERT INTO t VALUES (2, 'y', NULL, 0); SELECT * FROM nope", check=False)
    assert bad.returncode == 1 and "no such table: nope: SQLITE_ERROR" in bad.stderr
    n = json.loads(d1("execute", "DB", "-c", str(proj), "--persist-to", state, "--json",
                      "--command", "SELECT count(*) AS n FROM t").stdout)
    assert n[0]["results"] == [{"n": 1}]
    missing = d1("execute", "NOPE", "-c", str(proj), "--command", "SELECT 1", check=False)
    assert missing.returncode == 1 and "Couldn't find a D1 DB with the name or binding 'NOPE'" in missing.stderr
    usage = d1("execute", "DB", "-c", str(proj), check=False)
    assert usage.returncode == 1 and "--command or --file" in usage.stderr


def test_command_writes_while_the_server_serves(tmp_path):
    """Two processes on one state folder: inserts through HTTP and through the command interleave, and
    no "database is locked" reaches either."""
    proj = project(tmp_path)
    state = str(tmp_path / "state")
    d1("migrations", "apply", "DB", "-c", str(proj), "--persist-to", state)
    s = Server(proj, ("--persist-to", state, "--threads", "2"))
    try:
        def via_http(i):
            return request(s, "POST", "/api/posts", {"title": "h%d" % i, "content": "x"})[0]

        def via_command(i):
            return d1("execute", "DB", "-c", str(proj), "--persist-to", state, "--command",
                      "INSERT INTO posts (title, content, created_at) VALUES ('c%d', 'x', '2024')" % i,
                      check=False).returncode

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            http_codes = list(pool.map(via_http, range(40)))
            cmd_codes = list(pool.map(via_command, range(8)))
        assert http_codes == [201] * 40 and cmd_codes == [0] * 8
        status, body = request(s, "GET", "/api/posts?limit=1")
        assert json.loads(body)["pagination"]["total"] == 48
    finally:
        assert s.stop() == 0
    with sqlite3.connect(tmp_path / "state" / "d1" / "posts.sqlite") as db:
        assert db.execute("SELECT count(*) FROM posts").fetchone() == (48,)


def test_runaway_query_hits_the_cpu_limit(tmp_path):
    proj = tmp_path / "p"
    (proj / "src").mkdir(parents=True)
    (proj / "wrangler.toml").write_text('name = "spin"\nmain = "src/index.js"\ncompatibility_date = "2024-07-01"\n'
                                        '[limits]\ncpu_ms = 50\n[[d1_databases]]\nbinding = "DB"\n'
                                        'database_name = "spin"\n')
    (proj / "src" / "index.js").write_text(
        "export default { async fetch(req, env) {\n"
        "  if (new URL(req.url).pathname === '/spin')\n"
        "    await env.DB.prepare('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM c').all();\n"
        "  return Response.json(await env.DB.prepare('SELECT 1 AS one').first());\n"
        "} };\n")
    s = Server(proj, ("--persist-to", str(tmp_path / "state"), "--threads", "1"))
    try:
        status, body = request(s, "GET", "/spin")
        assert status == 503 and b"1102" in body
        assert request(s, "GET", "/") == (200, b'{"one":1}')
    finally:
        assert s.stop() == 0


def test_acknowledged_inserts_survive_sigkill(tmp_path):
    """Every insert whose 201 reached the client is in the database after the server is SIGKILLed mid-load
    (the group commit resolves a write's promise only after its COMMIT synced the WAL)."""
    import signal
    import threading
    import time

    proj = project(tmp_path)
    state = str(tmp_path / "state")
    d1("migrations", "apply", "DB", "-c", str(proj), "--persist-to", state)
    s = Server(proj, ("--persist-to", state, "--threads", "2"))
    acked, stop = [], threading.Event()

    def writer(n):
        i = 0
        while not stop.is_set():
            try:
                status, body = request(s, "POST", "/api/posts", {"title": "w%d-%d" % (n, i), "content": "x"})
            except OSError:
                return  # the server is gone
            if status == 201:
                acked.append("w%d-%d" % (n, i))
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) > 20, "too few inserts acknowledged: %d" % len(acked)
    with sqlite3.connect(tmp_path / "state" / "d1" / "posts.sqlite") as db:
        titles = {r[0] for r in db.execute("SELECT title FROM posts")}
    missing = [t for t in acked if t not in titles]
    assert not missing, "%d acknowledged inserts lost, e.g. %s" % (len(missing), missing[:5])


def test_migrations_create_and_list(tmp_path):
    proj = project(tmp_path)
    state = str(tmp_path / "state")
    out = d1("migrations", "create", "DB", "add authors", "-c", str(proj))
    assert "0002_add_authors.sql" in out.stdout
    created = proj / "migrations" / "0002_add_authors.sql"
    assert created.read_text().startswith("-- Migration number: 0002 \t ")
    created.write_text("CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);\n")
    listed = d1("migrations", "list", "DB", "-c", str(proj), "--persist-to", state)
    assert "0001_create_posts.sql" in listed.stdout and "0002_add_authors.sql" in listed.stdout
    assert "Applied" not in listed.stdout
    d1("migrations", "apply", "DB", "-c", str(proj), "--persist-to", state)
    assert "No migrations to apply!" in d1("migrations", "list", "DB", "-c", str(proj), "--persist-to", state).stdout
    assert d1("migrations", "create", "DB", "-c", str(proj), check=False).returncode == 2
