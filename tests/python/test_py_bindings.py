"""Host bindings from Python: object methods and plain callables as NAME.method(...) returning Promises,
JSON arguments and results, bytes both ways, exceptions and unserializable results as rejections, async
methods, and calls that must not re-enter the runtime."""
import asyncio
import functools
import logging

import pytest

# Each route calls one binding method and answers with "ok <result>" or "rejected <message>". ES5 only.
ROUTER = r"""
function show(v) {
  if (v instanceof ArrayBuffer) return 'ArrayBuffer[' + Array.prototype.join.call(new Uint8Array(v), ',') + ']';
  return JSON.stringify(v);
}
addEventListener('fetch', function (event) {
  var path = event.request.url.replace(/^https?:\/\/[^\/]+\//, '');
  var p;
  switch (path) {
  case 'get': p = USERS.get('zoë', 2); break;
  case 'list': p = USERS.list(); break;
  case 'none': p = USERS.nothing(); break;
  case 'bytes-in': p = USERS.size(new Uint8Array([1, 2, 3, 250]), new Uint8Array([7]).buffer, 'text'); break;
  case 'bytes-out': p = USERS.blob(); break;
  case 'bytearray-out': p = USERS.blob2(); break;
  case 'memoryview-out': p = USERS.blob3(); break;
  case 'raise': p = USERS.fail('gone'); break;
  case 'raise-empty': p = USERS.fail(''); break;
  case 'unserializable': p = USERS.weird(); break;
  case 'nan': p = USERS.nan(); break;
  case 'async': p = USERS.later(21); break;
  case 'async-raise': p = USERS.later(-1); break;
  case 'call': p = ADD.call(2, 3); break;
  case 'direct': p = ADD(4, 5); break;
  case 'partial': p = TWICE.call(5); break;
  case 'callable-object': p = COUNTER.call().then(function () { return COUNTER.peek(); }); break;
  case 'types': p = Promise.resolve([typeof USERS, typeof USERS.get, typeof ADD, typeof ADD.call,
                                     typeof USERS._secret, typeof USERS.label, typeof USERS.Inner]); break;
  case 'reenter': p = REENTER.call(); break;
  default: p = Promise.resolve('no route ' + path);
  }
  event.respondWith(Promise.resolve(p).then(function (v) { return new Response('ok ' + show(v)); },
                                            function (e) { return new Response('rejected ' + e.message); }));
});
"""


class Users:
    label = "not a method"

    class Inner:
        pass

    def __init__(self):
        self.seen = []

    def get(self, name, n=1):
        self.seen.append((name, n))
        return {"name": name, "n": n, "tags": ("a", "b")}

    def list(self):
        return [1, 2.5, None, True, "😀"]

    def nothing(self):
        return None

    def size(self, *args):
        self.seen.append(args)
        return [len(a) if isinstance(a, bytes) else a for a in args]

    def blob(self):
        return b"\x00\x01\xff"

    def blob2(self):
        return bytearray(b"\x02")

    def blob3(self):
        return memoryview(b"xyz")[1:]

    def fail(self, message):
        raise LookupError(message)

    def weird(self):
        return {1, 2}

    def nan(self):
        return float("nan")

    async def later(self, n):
        await asyncio.sleep(0.001)
        if n < 0:
            raise ValueError("negative")
        return n * 2

    def _secret(self):
        return "hidden"


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return self.n

    def peek(self):
        return self.n


@pytest.fixture
def users():
    return Users()


@pytest.fixture
def router(rt, users):
    holder = {}

    def reenter():
        return holder["worker"].fetch("/get").text()

    w = rt.load(source=ROUTER, name="router", bindings={
        "USERS": users, "ADD": lambda a, b: a + b, "TWICE": functools.partial(lambda k, x: k * x, 2),
        "COUNTER": Counter(), "REENTER": reenter})
    holder["worker"] = w
    return w


def call(worker, route):
    resp = worker.fetch("/" + route)
    assert resp.status == 200, resp.text()
    return resp.text()


def test_object_methods_get_json_arguments_and_results(router, users):
    assert call(router, "get") == 'ok {"name":"zoë","n":2,"tags":["a","b"]}'
    assert users.seen == [("zoë", 2)]
    assert call(router, "list") == 'ok [1,2.5,null,true,"😀"]'
    assert call(router, "none") == "ok null"


def test_only_public_methods_are_exposed(router):
    assert call(router, "types") == 'ok ["object","function","function","function","undefined","undefined","undefined"]'


def test_plain_callables_are_called_through_call(router):
    assert call(router, "call") == "ok 5"


def test_plain_callables_are_functions_in_js(router):
    assert call(router, "direct") == "ok 9"
    assert call(router, "partial") == "ok 10"


def test_a_callable_object_gets_call_and_its_methods(router):
    assert call(router, "callable-object") == "ok 1"
    assert call(router, "callable-object") == "ok 2"


def test_binary_arguments_arrive_as_bytes(router, users):
    assert call(router, "bytes-in") == 'ok [4,1,"text"]'
    assert users.seen == [(b"\x01\x02\x03\xfa", b"\x07", "text")]


def test_bytes_results_become_array_buffers(router):
    assert call(router, "bytes-out") == "ok ArrayBuffer[0,1,255]"
    assert call(router, "bytearray-out") == "ok ArrayBuffer[2]"
    assert call(router, "memoryview-out") == "ok ArrayBuffer[121,122]"


def test_exceptions_reject_with_their_message(router, caplog):
    with caplog.at_level(logging.DEBUG, logger="edgeworker.binding"):
        assert call(router, "raise") == "rejected gone"
    assert any("USERS.fail raised" in r.getMessage() and r.exc_info for r in caplog.records)
    assert call(router, "raise-empty") == "rejected LookupError"  # no message: the exception's type


def test_unserializable_results_reject(router):
    text = call(router, "unserializable")
    assert text.startswith("rejected USERS.weird returned a value that is not JSON-serializable")
    assert "set" in text
    assert call(router, "nan").startswith("rejected USERS.nan returned a value that is not JSON-serializable")


def test_async_methods_run_to_completion(router):
    assert call(router, "async") == "ok 42"
    assert call(router, "async-raise") == "rejected negative"


def test_async_methods_when_fetch_is_called_from_a_running_event_loop(router):
    async def main():
        return router.fetch("/async").text()

    assert asyncio.run(main()) == "ok 42"


def test_calling_the_runtime_from_a_binding_rejects(router):
    text = call(router, "reenter")
    assert text.startswith("rejected fetch: cannot be called from inside a binding method")
    assert call(router, "get").startswith("ok")  # and the runtime is fine afterwards


def test_keyboard_interrupt_in_a_binding_is_raised_after_the_request(rt):
    seen = []

    def stop():
        seen.append(1)
        if len(seen) == 1:
            raise KeyboardInterrupt
        return "fine"

    w = rt.load(source="addEventListener('fetch', function (e) { e.respondWith(STOP.call().then("
                       "function (v) { return new Response(v); },"
                       "function (err) { return new Response(err.message); })); });",
                bindings={"STOP": stop})
    with pytest.raises(KeyboardInterrupt):
        w.fetch("/")
    assert w.stats().pending == 0  # the request completed (the call was rejected) before the interrupt
    assert w.fetch("/").text() == "fine"


def test_bindings_called_from_the_top_level(rt):
    calls = []
    w = rt.load(source="var boot = 'pending'; INIT.call('x').then(function (v) { boot = v; });"
                       "addEventListener('fetch', function (e) { e.respondWith(new Response(boot)); });",
                bindings={"INIT": lambda x: calls.append(x) or x + "!"})
    assert calls == ["x"]
    assert w.fetch("/").text() == "x!"


def test_a_binding_and_a_var_cannot_share_a_name(rt):
    with pytest.raises(ValueError, match="both a var and a binding"):
        rt.load(source="1;", vars={"X": "1"}, bindings={"X": lambda: 1})


def test_classes_and_objects_without_methods_are_refused(rt):
    with pytest.raises(TypeError, match="is a class"):
        rt.load(source="1;", bindings={"U": Users})
    with pytest.raises(ValueError, match="no public methods"):
        rt.load(source="1;", bindings={"U": object()})


def test_closing_the_worker_forgets_its_bindings(rt):
    from edgeworker import runtime
    before = len(runtime._binding_registry)
    w = rt.load(source="1;", bindings={"A": lambda: 1, "B": Users()})
    assert len(runtime._binding_registry) == before + 2
    w.close()
    assert len(runtime._binding_registry) == before
    rt.load(source="1;", bindings={"A": lambda: 1})
    rt.close()
    assert len(runtime._binding_registry) == before
