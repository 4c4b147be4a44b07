"""Invalid arguments raise TypeError or ValueError in Python, before anything reaches C, and leave the
runtime working."""
import pytest

import edgeworker

OK = ("addEventListener('fetch', function (e) { e.respondWith(new Response('ok')); });\n"
      "addEventListener('scheduled', function () {});")


class Nope:
    pass


@pytest.mark.parametrize("kwargs, exc", [
    (dict(cpu_ms=0), ValueError),
    (dict(cpu_ms=-5), ValueError),
    (dict(cpu_ms="5"), TypeError),
    (dict(cpu_ms=True), TypeError),
    (dict(cpu_ms=2 ** 32), ValueError),
    (dict(memory_mb=70000), ValueError),
    (dict(memory_mb=1.5), TypeError),
    (dict(wait_until_ms=0), ValueError),
    (dict(state_dir="a\0b"), ValueError),
    (dict(state_dir=5), TypeError),
])
def test_runtime_arguments(kwargs, exc):
    with pytest.raises(exc):
        edgeworker.Runtime(**kwargs)


@pytest.mark.parametrize("args, kwargs, exc", [
    ((), {}, TypeError),
    ((OK,), dict(source=OK), TypeError),
    ((), dict(source=OK, path="x.js"), TypeError),
    ((), dict(source=5), TypeError),
    ((), dict(source="\ud800"), ValueError),
    ((), dict(path=5), TypeError),
    ((), dict(path="x\0.js"), ValueError),
    ((), dict(path=""), ValueError),
    ((5,), {}, TypeError),
    ((), dict(source=OK, name=""), ValueError),
    ((), dict(source=OK, name="a\0b"), ValueError),
    ((), dict(source=OK, name=5), TypeError),
    ((), dict(source=OK, filename="a\0.js"), ValueError),
    ((), dict(source=OK, vars=[("A", "1")]), TypeError),
    ((), dict(source=OK, vars={"A": Nope()}), TypeError),
    ((), dict(source=OK, vars={"A": b"bytes"}), TypeError),
    ((), dict(source=OK, vars={"A": float("nan")}), ValueError),
    ((), dict(source=OK, vars={"": "x"}), ValueError),
    ((), dict(source=OK, vars={"A\0": "x"}), ValueError),
    ((), dict(source=OK, vars={"A": "x\0"}), ValueError),
    ((), dict(source=OK, vars={1: "x"}), TypeError),
    ((), dict(source=OK, bindings=[("B", len)]), TypeError),
    ((), dict(source=OK, bindings={"": len}), ValueError),
    ((), dict(source=OK, bindings={"B\0": len}), ValueError),
    ((), dict(source=OK, bindings={5: len}), TypeError),
])
def test_load_arguments(rt, args, kwargs, exc):
    with pytest.raises(exc):
        rt.load(*args, **kwargs)
    assert rt.load(source=OK).fetch("/").text() == "ok"


@pytest.mark.parametrize("args, kwargs, exc", [
    ((5,), {}, TypeError),
    ((b"/",), {}, TypeError),
    (("/a b",), {}, ValueError),
    (("/a\nb",), {}, ValueError),
    (("/a\0b",), {}, ValueError),
    (("ftp://example.com/",), {}, ValueError),
    (("mailto:x@example.com",), {}, ValueError),
    (("http://",), {}, ValueError),
    (("http:///path",), {}, ValueError),
    (("/",), dict(method="GE T"), ValueError),
    (("/",), dict(method=""), ValueError),
    (("/",), dict(method="GET\0"), ValueError),
    (("/",), dict(method=b"GET"), TypeError),
    (("/",), dict(headers="x: y"), TypeError),
    (("/",), dict(headers=5), TypeError),
    (("/",), dict(headers={"bad name": "v"}), ValueError),
    (("/",), dict(headers={"x:y": "v"}), ValueError),
    (("/",), dict(headers={"": "v"}), ValueError),
    (("/",), dict(headers={"x": "a\r\nInjected: 1"}), ValueError),
    (("/",), dict(headers={"x": "a\0"}), ValueError),
    (("/",), dict(headers={"x": b"a\nb"}), ValueError),
    (("/",), dict(headers={"x": 5}), TypeError),
    (("/",), dict(headers={b"x": "5"}), TypeError),
    (("/",), dict(headers=[("x",)]), TypeError),
    (("/",), dict(headers=[("x", "1", "2")]), TypeError),
    (("/",), dict(body=5), TypeError),
    (("/",), dict(body={"a": 1}), TypeError),
    (("/",), dict(body="\ud800"), ValueError),
    (("/",), dict(body=b"x", json={"a": 1}), TypeError),
    (("/",), dict(json=object()), TypeError),
    (("/",), dict(json=float("inf")), ValueError),
    (("/",), dict(json={"s": "\ud800"}), ValueError),
    (("/",), dict(raise_for_outcome="yes"), TypeError),
])
def test_fetch_arguments(rt, args, kwargs, exc):
    w = rt.load(source=OK)
    with pytest.raises(exc):
        w.fetch(*args, **kwargs)
    assert w.fetch("/").text() == "ok"


@pytest.mark.parametrize("args, exc", [
    ((5,), TypeError),
    ((None,), TypeError),
    (("a\0b",), ValueError),
    (("* * * * *", "now"), TypeError),
    (("* * * * *", True), TypeError),
    (("* * * * *", float("nan")), ValueError),
    (("* * * * *", float("inf")), ValueError),
    (("* * * * *", -1), ValueError),
])
def test_scheduled_arguments(rt, args, exc):
    w = rt.load(source=OK)
    with pytest.raises(exc):
        w.scheduled(*args)
    w.scheduled("* * * * *")


def test_source_or_path_is_decided_by_existence_then_by_look(rt, tmp_path):
    script = tmp_path / "w.js"
    script.write_text(OK)
    assert rt.load(str(script)).name == "w"  # an existing path: loaded from the file, named after it
    assert rt.load(script).fetch("/").text() == "ok"  # os.PathLike
    assert rt.load(OK).name == "worker"  # code
    assert rt.load(OK.encode()).fetch("/").text() == "ok"  # bytes are source
    assert rt.load(source="// just a comment").name == "worker"  # explicit source, even without code chars
