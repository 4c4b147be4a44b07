"""ew-server's project mode: a Worker project folder with wrangler.toml / wrangler.json / wrangler.jsonc,
[env.NAME], --var, .dev.vars secrets, configuration errors with file:line:col, --test-scheduled and
/__scheduled, cron triggers, and KV namespaces from the configuration."""
import json
import subprocess
import urllib.request

import pytest

from conftest import SERVER, Server

# A service-worker script: Cloudflare gives that form its bindings as globals.
SCRIPT = r"""
var lastCron = null;
function has(name) { return typeof globalThis[name] !== 'undefined'; }
addEventListener('fetch', function (event) {
  var out = {
    greeting: has('GREETING') ? GREETING : null,
    limits: has('LIMITS') ? LIMITS : null,
    secret: has('SECRET') ? SECRET : null,
    extra: has('EXTRA') ? EXTRA : null,
    kv: typeof globalThis.MY_KV,
    lastCron: lastCron
  };
  event.respondWith(new Response(JSON.stringify(out), {headers: {'content-type': 'application/json'}}));
});
addEventListener('scheduled', function (event) {
  lastCron = event.cron;
});
"""

TOML = """\
name = "project-test"
main = "src/index.js"
compatibility_date = "2024-07-01"

[vars]
GREETING = "hello"
LIMITS = { max = 3, tags = ["a", "b"] }

[env.staging.vars]
GREETING = "hello from staging"

[triggers]
crons = ["* * * * *"]
"""


def make_project(tmp_path, config_name="wrangler.toml", config=TOML, dev_vars=None):
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "index.js").write_text(SCRIPT)
    (tmp_path / config_name).write_text(config)
    if dev_vars is not None:
        (tmp_path / ".dev.vars").write_text(dev_vars)
    return tmp_path


@pytest.fixture
def project_server():
    servers = []

    def start(path, *args):
        s = Server(path, ("--threads", "1") + args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        rc = s.stop()
        assert rc == 0, "ew-server exited with %s:\n%s" % (rc, "".join(s.output))


def get(server, path="/"):
    with urllib.request.urlopen(server.url + path, timeout=10) as r:
        return r.status, r.read().decode()


def get_json(server):
    status, body = get(server)
    assert status == 200, body
    return json.loads(body)


def test_vars_from_wrangler_toml(tmp_path, project_server):
    s = project_server(make_project(tmp_path))
    out = get_json(s)
    assert out["greeting"] == "hello"
    assert out["limits"] == {"max": 3, "tags": ["a", "b"]}  # a non-string var arrives as its JSON value
    assert out["secret"] is None
    assert "GREETING" in s.read_output()  # the bindings listing, like wrangler dev's


def test_env_staging_replaces_vars(tmp_path, project_server):
    s = project_server(make_project(tmp_path), "--env", "staging")
    out = get_json(s)
    assert out["greeting"] == "hello from staging"
    assert out["limits"] is None  # [env.staging.vars] replaces [vars] as a whole


def test_var_flag_overrides(tmp_path, project_server):
    s = project_server(make_project(tmp_path), "--var", "GREETING:from the flag", "--var", "EXTRA:a:b")
    out = get_json(s)
    assert out["greeting"] == "from the flag"
    assert out["extra"] == "a:b"


def test_dev_vars_secrets(tmp_path, project_server):
    project = make_project(tmp_path, dev_vars='# local secrets\nSECRET="s3cr3t"\nexport GREETING=overridden\n')
    s = project_server(project)
    out = get_json(s)
    assert out["secret"] == "s3cr3t"
    assert out["greeting"] == "overridden"
    printed = s.read_output()
    assert "s3cr3t" not in printed  # secrets are listed, their values hidden
    assert "Using vars defined in" in printed


def test_dev_vars_for_an_environment(tmp_path, project_server):
    project = make_project(tmp_path, dev_vars="SECRET=default\n")
    (project / ".dev.vars.staging").write_text("SECRET=staging-secret\n")
    out = get_json(project_server(project, "--env", "staging"))
    assert out["secret"] == "staging-secret"


def test_config_file_as_path(tmp_path, project_server):
    project = make_project(tmp_path)
    out = get_json(project_server(project / "wrangler.toml"))
    assert out["greeting"] == "hello"


@pytest.mark.parametrize("name,text", [
    ("wrangler.json", '{"name": "j", "main": "src/index.js", "compatibility_date": "2024-07-01",\n'
                      ' "vars": {"GREETING": "json", "LIMITS": {"max": 1}}}'),
    ("wrangler.jsonc", '// comments and trailing commas\n{"name": "j", "main": "src/index.js",\n'
                       ' /* block */ "compatibility_date": "2024-07-01",\n'
                       ' "vars": {"GREETING": "jsonc", "LIMITS": [1, 2,],},}'),
])
def test_json_and_jsonc_configs(tmp_path, project_server, name, text):
    out = get_json(project_server(make_project(tmp_path, name, text)))
    assert out["greeting"] == name.split(".")[1]
    assert out["limits"] in ({"max": 1}, [1, 2])


def test_json_wins_over_toml_in_a_folder(tmp_path, project_server):
    project = make_project(tmp_path)
    (project / "wrangler.json").write_text('{"main": "src/index.js", "compatibility_date": "2024-07-01",'
                                          ' "vars": {"GREETING": "from json"}}')
    assert get_json(project_server(project))["greeting"] == "from json"


def run_expecting_failure(path, *args):
    r = subprocess.run([str(SERVER), "--port", "0", *args, str(path)], capture_output=True, text=True, timeout=20)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Ready on" not in r.stdout
    return r.stderr


def test_config_type_error_names_file_line_col(tmp_path):
    project = make_project(tmp_path, config=TOML.replace('GREETING = "hello"', 'GREETING = "hello"\nWHEN = 1979-05-27'))
    err = run_expecting_failure(project)
    assert "wrangler.toml:7:8: 'vars.WHEN' must be a string, number, boolean, array or table" in err


def test_bad_cron_is_a_config_error(tmp_path):
    project = make_project(tmp_path, config=TOML.replace('"* * * * *"', '"* * * * *", "0 25 * * *"'))
    err = run_expecting_failure(project)
    assert "wrangler.toml:13:23: 'triggers.crons[1]': cron \"0 25 * * *\"" in err


def test_unknown_environment_with_others_is_an_error(tmp_path):
    err = run_expecting_failure(make_project(tmp_path), "--env", "stagng")
    assert 'no environment "stagng"' in err


def test_syntax_error_in_config(tmp_path):
    err = run_expecting_failure(make_project(tmp_path, config='name = "x"\nmain = [\n'))
    assert "wrangler.toml:3:" in err or "wrangler.toml:2:" in err


def test_unknown_and_unsupported_keys_are_warned(tmp_path, project_server):
    config = 'favourite = 1\n' + TOML + '\n[ai]\nbinding = "AI"\n'
    s = project_server(make_project(tmp_path, config=config), "--env", "staging")
    printed = s.read_output()
    assert "wrangler.toml:1:1: unknown key 'favourite' (ignored)" in printed
    assert "'ai' exists at the top level but not in [env.staging]" in printed
    s = project_server(make_project(tmp_path, config=config))
    printed = s.read_output()
    assert "'ai' is not supported yet, ignored" in printed


def test_test_scheduled_runs_the_scheduled_listener(tmp_path, project_server):
    s = project_server(make_project(tmp_path), "--test-scheduled")
    assert get_json(s)["lastCron"] is None
    status, body = get(s, "/__scheduled?cron=*%2F5+*+*+*+*")
    assert (status, body) == (200, "Ran scheduled event")
    assert get_json(s)["lastCron"] == "*/5 * * * *"  # URL-decoded, '+' as a space


def test_scheduled_route_needs_the_flag(tmp_path, project_server):
    s = project_server(make_project(tmp_path))
    status, body = get(s, "/__scheduled?cron=x")
    assert status == 200 and json.loads(body)["lastCron"] is None  # an ordinary request to the Worker


def test_scheduled_without_a_listener_is_500(tmp_path, project_server):
    project = make_project(tmp_path)
    (project / "src" / "index.js").write_text(
        "addEventListener('fetch', function (e) { e.respondWith(new Response('ok')); });")
    s = project_server(project, "--test-scheduled")
    with pytest.raises(urllib.error.HTTPError) as exc:
        get(s, "/__scheduled")
    assert exc.value.code == 500


def test_kv_namespace_binding(tmp_path, project_server):
    config = TOML + '\n[[kv_namespaces]]\nbinding = "MY_KV"\nid = "0123456789abcdef"\n'
    state = tmp_path / "state"
    s = project_server(make_project(tmp_path, config=config), "--persist-to", str(state))
    assert get_json(s)["kv"] == "object"
    assert state.is_dir()
    assert "MY_KV: 0123456789abcdef" in s.read_output()


def test_d1_and_r2_are_bound(tmp_path, project_server):
    config = TOML + ('\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "main"\ndatabase_id = "x"\n'
                     '\n[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "files"\n')
    state = tmp_path / "state"
    s = project_server(make_project(tmp_path, config=config), "--persist-to", str(state))
    assert get_json(s)["greeting"] == "hello"
    printed = s.read_output()
    assert "D1 Databases:\n  - DB: main\n" in printed and "skipped: D1" not in printed
    assert "not supported" not in printed
    assert "- R2 Buckets:\n  - FILES: files" in printed
    assert (state / "r2" / "files.sqlite").is_file()
    assert (state / "r2" / "files.blobs").is_dir()


def test_limits_cpu_ms_is_read(tmp_path, project_server):
    config = TOML + '\n[limits]\ncpu_ms = 20\n'
    project = make_project(tmp_path, config=config)
    (project / "src" / "index.js").write_text(
        "addEventListener('fetch', function (e) { for (;;) {} });")
    s = project_server(project)
    with pytest.raises(urllib.error.HTTPError) as exc:
        get(s)
    assert exc.value.code in (500, 503)
    assert b"1102" in exc.value.read()
