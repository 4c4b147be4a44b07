"""Lifecycle and threads: a Runtime belongs to its thread (RuntimeError elsewhere), close() is idempotent and
closes the Workers, closed objects refuse work, and objects cannot be copied (a copy would free twice)."""
import copy
import gc
import pickle
import threading
import warnings

import pytest

import edgeworker

HELLO = "addEventListener('fetch', function (e) { e.respondWith(new Response('hello')); });"


def in_thread(fn):
    """Runs fn() on another thread; returns what it raised (or None)."""
    box = {}

    def target():
        try:
            fn()
        except BaseException as e:  # noqa: B902
            box["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join(30)
    return box.get("error")


@pytest.mark.parametrize("action", ["fetch", "scheduled", "load", "close", "worker.close", "stats", "enter"])
def test_wrong_thread_use_raises_runtime_error(rt, action):
    w = rt.load(source=HELLO)
    calls = {
        "fetch": lambda: w.fetch("/"),
        "scheduled": lambda: w.scheduled("* * * * *"),
        "load": lambda: rt.load(source=HELLO),
        "close": rt.close,
        "worker.close": w.close,
        "stats": w.stats,
        "enter": lambda: rt.__enter__(),
    }
    err = in_thread(calls[action])
    assert isinstance(err, RuntimeError), err
    assert "another thread" in str(err)
    assert w.fetch("/").text() == "hello"  # untouched on its own thread


def test_each_thread_may_have_its_own_runtime():
    results = {}

    def serve(i):
        with edgeworker.Runtime() as rt:
            w = rt.load(source="addEventListener('fetch', function (e) { e.respondWith(new Response(N)); });",
                        vars={"N": "t%d" % i})
            results[i] = [w.fetch("/").text() for _ in range(50)]

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {i: ["t%d" % i] * 50 for i in range(4)}


def test_close_is_idempotent_and_closes_workers():
    rt = edgeworker.Runtime()
    w = rt.load(source=HELLO)
    assert rt.workers == [w]
    rt.close()
    rt.close()
    assert rt.closed and w.closed
    w.close()  # already closed with its runtime: fine
    with pytest.raises(RuntimeError, match="closed"):
        w.fetch("/")
    with pytest.raises(RuntimeError, match="closed"):
        rt.load(source=HELLO)
    assert in_thread(rt.close) is None  # closing a closed runtime is fine from anywhere


def test_worker_close_and_context_manager(rt):
    with rt.load(source=HELLO) as w:
        assert w.fetch("/").text() == "hello"
    assert w.closed and rt.workers == []
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.fetch("/")
    with pytest.raises(RuntimeError, match="closed"):
        w.scheduled("x")


def test_context_manager_closes_on_error():
    with pytest.raises(ZeroDivisionError):
        with edgeworker.Runtime() as rt:
            rt.load(source=HELLO)
            1 / 0
    assert rt.closed


def test_unclosed_runtime_warns_and_is_freed():
    rt = edgeworker.Runtime()
    rt.load(source=HELLO)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del rt
        gc.collect()
    assert any(issubclass(c.category, ResourceWarning) for c in caught)


def test_runtime_and_worker_cannot_be_copied_or_made_directly(rt):
    w = rt.load(source=HELLO)
    for obj in (rt, w):
        with pytest.raises(TypeError):
            copy.copy(obj)
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    with pytest.raises(TypeError, match="Runtime.load"):
        edgeworker.Worker(rt, 1234)


def test_closing_from_inside_a_binding_is_refused(rt):
    holder = {}

    def close_it():
        holder["rt"].close()

    holder["rt"] = rt
    w = rt.load(source="addEventListener('fetch', function (e) { e.respondWith(C.call().then(function () {"
                       "return new Response('closed?'); }, function (err) { return new Response(err.message); })); });",
                bindings={"C": close_it})
    assert "cannot be called from inside" in w.fetch("/").text()
    assert not rt.closed
