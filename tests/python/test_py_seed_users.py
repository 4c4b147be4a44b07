"""The Python-bindings issue's acceptance test: the users API of the seed (/work/shared/seed/workers-seed.md,
"Request/Response Handling", copied below unmodified: an ES module Worker over env.USERS_KV) loaded from a
Wrangler project folder with Runtime.load(folder), and from source with Runtime.load(source=..., kv=...),
then exercised like the seed's "Testing Strategies" section: /health, creating and listing users, a
rejected POST, an unknown path, and the users persisting across Runtimes that share a state_dir."""
import logging
import pathlib
import re

import pytest

import edgeworker

# The seed's code, verbatim (handleUpload is referenced but not defined there: /api/upload is not tested).
SEED_USERS_API = r'''export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    
    // Route handling
    switch (url.pathname) {
      case '/api/users':
        return handleUsers(request, env);
      case '/api/upload':
        return handleUpload(request, env);
      case '/health':
        return new Response('OK', { status: 200 });
      default:
        return new Response('Not Found', { status: 404 });
    }
  }
};

async function handleUsers(request, env) {
  if (request.method === 'GET') {
    // Get users from KV or database
    const users = await env.USERS_KV.get('users', 'json') || [];
    return Response.json(users);
  }
  
  if (request.method === 'POST') {
    // Create new user
    const newUser = await request.json();
    
    // Validate user data
    if (!newUser.email || !newUser.name) {
      return new Response('Invalid user data', { status: 400 });
    }
    
    // Save to KV
    const users = await env.USERS_KV.get('users', 'json') || [];
    const user = {
      id: crypto.randomUUID(),
      ...newUser,
      createdAt: new Date().toISOString(),
    };
    
    users.push(user);
    await env.USERS_KV.put('users', JSON.stringify(users));
    
    return Response.json(user, { status: 201 });
  }
  
  return new Response('Method not allowed', { status: 405 });
}
'''

WRANGLER_TOML = """name = "users-api"
main = "src/index.js"
compatibility_date = "2024-01-01"

[[kv_namespaces]]
binding = "USERS_KV"
id = "users"
"""

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")


def test_the_code_is_the_seed_s_unmodified():
    root = pathlib.Path(__file__).resolve().parents[2]
    seed = next((p for p in (root.parent / "shared" / "seed" / "workers-seed.md",
                             pathlib.Path("/work/shared/seed/workers-seed.md")) if p.exists()),
                root.parent / "shared" / "seed" / "workers-seed.md")
    if not seed.exists():
        pytest.skip("the seed document is not on this machine")
    text = seed.read_text()
    start = text.index("```javascript\n", text.index("### Request/Response Handling")) + len("```javascript\n")
    assert text[start:text.index("```", start)] == SEED_USERS_API


@pytest.fixture
def project(tmp_path):
    """A Wrangler project folder holding the seed's Worker as src/index.js."""
    folder = tmp_path / "users-api"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "index.js").write_text(SEED_USERS_API)
    (folder / "wrangler.toml").write_text(WRANGLER_TOML)
    return folder


def exercise(worker):
    """The seed's tests, and a bit more; returns the user created."""
    r = worker.fetch("/health")
    assert (r.status, r.text()) == (200, "OK")

    r = worker.fetch("/api/users", method="POST", json={"name": "Test User", "email": "test@example.com"})
    assert r.status == 201, r.text()
    user = r.json()
    assert user["name"] == "Test User" and user["email"] == "test@example.com"
    assert UUID.match(user["id"]), user["id"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z", user["createdAt"])
    assert r.headers["content-type"].startswith("application/json")

    r = worker.fetch("/api/users")
    assert r.status == 200
    assert user in r.json()

    r = worker.fetch("/api/users", method="POST", json={"name": "No Email"})
    assert (r.status, r.text()) == (400, "Invalid user data")

    r = worker.fetch("/nope")
    assert (r.status, r.text()) == (404, "Not Found")

    r = worker.fetch("/api/users", method="DELETE")
    assert (r.status, r.text()) == (405, "Method not allowed")
    return user


def test_seed_users_api_from_a_project_folder(project, tmp_path, caplog):
    state = tmp_path / "state"
    with caplog.at_level(logging.WARNING, logger="edgeworker.runtime"):
        with edgeworker.Runtime(state_dir=state) as rt:
            worker = rt.load(project)
            assert worker.name == "users-api"
            assert rt.load(project).fetch("/api/users").json() == []  # a fresh state folder: no users yet
            user = exercise(worker)
    assert not [r for r in caplog.records if r.name == "edgeworker.runtime"]  # nothing skipped

    # Persistence: another Runtime on the same state_dir sees the users (the KV namespace "users").
    with edgeworker.Runtime(state_dir=state) as rt:
        worker = rt.load(project / "wrangler.toml")
        assert worker.fetch("/api/users").json() == [user]
        r = worker.fetch("/api/users", method="POST", json={"name": "Second", "email": "second@example.com"})
        assert r.status == 201
    with edgeworker.Runtime(state_dir=state) as rt:
        names = [u["name"] for u in rt.load(project).fetch("/api/users").json()]
        assert names == ["Test User", "Second"]


def test_seed_users_api_from_source_with_kv(tmp_path):
    state = tmp_path / "state"
    with edgeworker.Runtime(state_dir=state) as rt:
        worker = rt.load(source=SEED_USERS_API, kv={"USERS_KV": "users"}, filename="index.js")
        user = exercise(worker)
    with edgeworker.Runtime(state_dir=state) as rt:
        worker = rt.load(source=SEED_USERS_API, kv={"USERS_KV": "users"})
        assert worker.fetch("/api/users").json() == [user]
        # Another namespace id is other data.
        other = rt.load(source=SEED_USERS_API, kv={"USERS_KV": "other-users"})
        assert other.fetch("/api/users").json() == []


def test_the_project_folder_and_kv_share_the_namespace_id(project, tmp_path):
    state = tmp_path / "state"
    with edgeworker.Runtime(state_dir=state) as rt:
        user = exercise(rt.load(project))
        assert rt.load(source=SEED_USERS_API, kv={"USERS_KV": "users"}).fetch("/api/users").json() == [user]


def test_project_environment_vars_dev_vars_and_skipped_bindings(project, tmp_path, caplog):
    (project / "wrangler.toml").write_text(WRANGLER_TOML + """
[[d1_databases]]
binding = "DB"
database_name = "db"
database_id = "0000"

[env.staging]
name = "users-staging"
[env.staging.vars]
STAGE = "staging"
[[env.staging.kv_namespaces]]
binding = "USERS_KV"
id = "users-staging"
""")
    (project / ".dev.vars").write_text("API_KEY=from-dev-vars\n")
    (project / "src" / "env.js").write_text(
        "export default { fetch(request, env) { return Response.json({stage: env.STAGE ?? null, "
        "key: env.API_KEY ?? null, kv: typeof env.USERS_KV}); } };\n")
    with edgeworker.Runtime(state_dir=tmp_path / "state") as rt:
        with caplog.at_level(logging.WARNING, logger="edgeworker.runtime"):
            top = rt.load(project)
        assert "DB" not in caplog.text  # the D1 database is a binding now, not a warning
        staging = rt.load(project, env="staging")
        assert (top.name, staging.name) == ("users-api", "users-staging")
        exercise(top)
        assert staging.fetch("/api/users").json() == []  # its own namespace id
        (project / "wrangler.toml").write_text('name = "env-api"\nmain = "src/env.js"\n[vars]\nSTAGE = "top"\n')
        assert rt.load(project).fetch("/").json() == {"stage": "top", "key": "from-dev-vars", "kv": "undefined"}


def test_kv_argument_checks(rt):
    with pytest.raises(TypeError):
        rt.load(source=SEED_USERS_API, kv=["USERS_KV"])
    with pytest.raises(ValueError, match="namespace id"):
        rt.load(source=SEED_USERS_API, kv={"USERS_KV": "bad id!"})
    with pytest.raises(ValueError, match="both"):
        rt.load(source=SEED_USERS_API, kv={"USERS_KV": "users"}, vars={"USERS_KV": "x"})
