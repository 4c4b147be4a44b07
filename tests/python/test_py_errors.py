"""Errors: ScriptError with file and line (syntax errors and top-level exceptions), a throwing fetch handler
as the 500 Response (outcome EW_ERR_EXCEPTION) unless raise_for_outcome, CPU and memory limits as 503 with
outcome EW_ERR_CPU_LIMIT / EW_ERR_MEMORY_LIMIT, or LimitExceeded; missing files and project folders."""
import pytest

import edgeworker
from edgeworker import ConfigError, EdgeWorkerError, LimitExceeded, ScriptError, Status


def test_syntax_error_has_file_line_and_code(rt):
    with pytest.raises(ScriptError) as info:
        rt.load(source="var ok = 1;\nvar broken = ;\n", filename="broken.js")
    e = info.value
    assert e.code == Status.EW_ERR_SYNTAX and e.code_name == "EW_ERR_SYNTAX"
    assert e.file == "broken.js" and e.line == 2
    assert "SyntaxError" in e.message and "var broken = ;" in e.message
    assert "EW_ERR_SYNTAX" in str(e) and isinstance(e, EdgeWorkerError)


def test_syntax_error_in_a_file_names_the_path(rt, tmp_path):
    script = tmp_path / "bad.js"
    script.write_text("addEventListener('fetch', function (e) {\n  e.respondWith(new Response('x')\n")
    with pytest.raises(ScriptError) as info:
        rt.load(script)
    assert info.value.file == str(script) and info.value.line >= 2


def test_exception_in_the_top_level_is_a_script_error_with_its_line(rt):
    with pytest.raises(ScriptError) as info:
        rt.load(source="var a = 1;\n\nthrow new TypeError('top level broke');\n", filename="top.js")
    e = info.value
    assert e.code == Status.EW_ERR_EXCEPTION and e.code_name == "EW_ERR_EXCEPTION"
    assert e.file == "top.js" and e.line == 3
    assert "Uncaught TypeError: top level broke" in e.message


THROWS = r"""
addEventListener('fetch', function (event) {
  var path = event.request.url.replace(/^https?:\/\/[^\/]+/, '');
  if (path === '/spin') { while (true) {} }
  if (path === '/grow') { var s = 'x'; while (true) { s = s + s; } }
  if (path === '/reject') { event.respondWith(Promise.reject(new Error('async kaput'))); return; }
  if (path === '/throw') { throw new Error('kaput'); }
  event.respondWith(new Response('fine'));
});
"""


def test_a_throwing_handler_gives_the_500_response_not_an_exception(load):
    w = load(THROWS)
    resp = w.fetch("/throw")
    assert resp.status == 500
    assert resp.outcome == Status.EW_ERR_EXCEPTION and resp.outcome.name == "EW_ERR_EXCEPTION"
    assert "1101" in resp.text()
    assert isinstance(resp.error, ScriptError) and "kaput" in resp.error.message
    with pytest.raises(ScriptError, match="kaput"):
        resp.raise_for_outcome()
    with pytest.raises(ScriptError, match="async kaput"):
        w.fetch("/reject", raise_for_outcome=True)
    assert w.fetch("/", raise_for_outcome=True).text() == "fine"


def test_cpu_limit_gives_503_with_outcome_ew_err_cpu_limit(load):
    w = load(THROWS)
    resp = w.fetch("/spin")
    assert resp.status == 503
    assert resp.outcome.name == "EW_ERR_CPU_LIMIT"
    assert "1102" in resp.text()
    assert isinstance(resp.error, LimitExceeded) and resp.error.code_name == "EW_ERR_CPU_LIMIT"
    with pytest.raises(LimitExceeded):
        w.fetch("/spin", raise_for_outcome=True)
    assert w.fetch("/").text() == "fine"  # a new isolate serves the next request
    assert w.stats().limit_errors == 2


def test_memory_limit_gives_503_with_outcome_ew_err_memory_limit():
    with edgeworker.Runtime(memory_mb=16, cpu_ms=10000) as rt:
        w = rt.load(source=THROWS)
        resp = w.fetch("/grow")
        assert resp.status == 503 and resp.outcome.name == "EW_ERR_MEMORY_LIMIT"
        assert isinstance(resp.error, LimitExceeded)
        assert w.fetch("/").text() == "fine"


def test_cpu_limit_in_the_top_level_raises_limit_exceeded():
    with edgeworker.Runtime(cpu_ms=20) as rt:
        with pytest.raises(LimitExceeded) as info:
            rt.load(source="while (true) {}")
        assert info.value.code_name == "EW_ERR_CPU_LIMIT"


def test_a_missing_file_is_file_not_found(rt, tmp_path):
    with pytest.raises(FileNotFoundError):
        rt.load(tmp_path / "missing.js")
    with pytest.raises(FileNotFoundError, match="source="):
        rt.load("missing.js")
    with pytest.raises(FileNotFoundError):
        rt.load(path=str(tmp_path / "missing.js"))


def test_a_folder_named_like_a_script_is_still_a_project(rt, tmp_path):
    folder = tmp_path / "dir.js"
    folder.mkdir()
    with pytest.raises(EdgeWorkerError) as info:  # a project folder with nothing to load in it
        rt.load(path=folder)
    assert info.value.code_name == "EW_ERR_IO" and str(folder) in info.value.message


def test_a_project_config_error_is_a_config_error_with_its_position(rt, tmp_path):
    (tmp_path / "wrangler.toml").write_text('name = "x"\nmain = "src/index.js"\n[limits]\ncpu_ms = "no"\n')
    with pytest.raises(ConfigError) as info:
        rt.load(tmp_path)
    e = info.value
    assert e.code_name == "EW_ERR_INVALID_ARG"
    assert e.file.endswith("wrangler.toml") and e.line == 4 and e.column > 0
    assert "wrangler.toml:4:" in e.message


def test_a_project_config_syntax_error_is_a_config_error(rt, tmp_path):
    (tmp_path / "wrangler.toml").write_text('name = "x"\nmain = \n')
    with pytest.raises(ConfigError) as info:
        rt.load(tmp_path / "wrangler.toml")
    assert info.value.code_name == "EW_ERR_SYNTAX" and info.value.line == 2


def test_a_project_takes_no_overrides_and_env_needs_a_project(rt, tmp_path):
    (tmp_path / "wrangler.toml").write_text('name = "x"\nmain = "index.js"\n')
    (tmp_path / "index.js").write_text("export default { fetch() { return new Response('hi'); } };\n")
    for kwargs in ({"name": "n"}, {"vars": {"A": "1"}}, {"bindings": {"F": len}}, {"kv": {"K": "k"}}):
        with pytest.raises(TypeError, match="cannot be combined with a project"):
            rt.load(tmp_path, **kwargs)
    with pytest.raises(TypeError, match="env="):
        rt.load(tmp_path / "index.js", env="staging")
    assert rt.load(tmp_path).fetch("/").text() == "hi"


def test_project_not_supported_is_a_deprecated_alias_of_config_error():
    with pytest.warns(DeprecationWarning, match="ProjectNotSupported"):
        alias = edgeworker.ProjectNotSupported
    assert alias is ConfigError


def test_errors_pickle_with_their_fields():
    import pickle
    e = ScriptError(Status.EW_ERR_SYNTAX, "bad", "a.js", 3, 4)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is ScriptError and (back.file, back.line, back.column, back.code) == ("a.js", 3, 4, 4)
    c = pickle.loads(pickle.dumps(ConfigError(Status.EW_ERR_INVALID_ARG, "bad", "wrangler.toml", 2, 5)))
    assert type(c) is ConfigError and (c.file, c.line, c.column) == ("wrangler.toml", 2, 5)


def test_status_of_an_unknown_code_keeps_the_number():
    s = Status(99)
    assert int(s) == 99 and s.name == "EW_ERR_UNKNOWN"
