"""A scheduled event through the C API, from Python with ctypes over the installed-in-tree libedgeworker.so:
the handler sees the cron and time, its waitUntil work completes, and a throwing handler is reported."""
import ctypes

from conftest import BUILD


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 1024), ("file", ctypes.c_char * 256),
                ("line", ctypes.c_int), ("column", ctypes.c_int)]


class WorkerConfig(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("path", ctypes.c_char_p), ("source", ctypes.c_char_p),
                ("source_len", ctypes.c_size_t), ("filename", ctypes.c_char_p), ("vars", ctypes.c_void_p),
                ("nvars", ctypes.c_size_t), ("bindings", ctypes.c_void_p), ("nbindings", ctypes.c_size_t),
                ("resources", ctypes.c_void_p), ("nresources", ctypes.c_size_t),
                # fields added to ew_worker_config_t later (assets, rate limits, ...): zero means "none"
                ("_later", ctypes.c_void_p * 32)]


class Header(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("name_len", ctypes.c_size_t), ("value", ctypes.c_char_p),
                ("value_len", ctypes.c_size_t)]


class Request(ctypes.Structure):
    _fields_ = [("method", ctypes.c_char_p), ("url", ctypes.c_char_p), ("headers", ctypes.c_void_p),
                ("nheaders", ctypes.c_size_t), ("body", ctypes.c_void_p), ("body_len", ctypes.c_size_t),
                # fields added to ew_request_t later (cf_json, ...): zero means "none"
                ("_later", ctypes.c_void_p * 8)]


class Response(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("status_text", ctypes.c_char_p), ("headers", ctypes.POINTER(Header)),
                ("nheaders", ctypes.c_size_t), ("body", ctypes.POINTER(ctypes.c_uint8)),
                ("body_len", ctypes.c_size_t), ("outcome", ctypes.c_int), ("pass_through", ctypes.c_int)]


def load_lib():
    lib = ctypes.CDLL(str(BUILD / "lib" / "libedgeworker.so"))
    lib.ew_runtime_create.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(Error)]
    lib.ew_runtime_destroy.argtypes = [ctypes.c_void_p]
    lib.ew_worker_load.argtypes = [ctypes.c_void_p, ctypes.POINTER(WorkerConfig), ctypes.POINTER(ctypes.c_void_p),
                                   ctypes.POINTER(Error)]
    lib.ew_worker_scheduled_sync.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double,
                                             ctypes.POINTER(Error)]
    lib.ew_worker_fetch_sync.argtypes = [ctypes.c_void_p, ctypes.POINTER(Request),
                                         ctypes.POINTER(ctypes.POINTER(Response)), ctypes.POINTER(Error)]
    lib.ew_response_destroy.argtypes = [ctypes.POINTER(Response)]
    lib.ew_status_name.restype = ctypes.c_char_p
    return lib


SCRIPT = b"""
var runs = [];
addEventListener('scheduled', function (event) {
  if (event.cron === 'bad') throw new Error('cron handler failed');
  event.waitUntil(new Promise(function (resolve) {
    setTimeout(function () { runs.push(event.cron + ' at ' + event.scheduledTime); resolve(); }, 10);
  }));
});
addEventListener('fetch', function (event) { event.respondWith(new Response(runs.join('|'))); });
"""


def test_scheduled_event_through_the_c_api():
    lib = load_lib()
    rt = ctypes.c_void_p()
    err = Error()
    assert lib.ew_runtime_create(None, ctypes.byref(rt), ctypes.byref(err)) == 0, err.message
    try:
        cfg = WorkerConfig(name=b"cron", source=SCRIPT, source_len=len(SCRIPT), filename=b"cron.js")
        w = ctypes.c_void_p()
        assert lib.ew_worker_load(rt, ctypes.byref(cfg), ctypes.byref(w), ctypes.byref(err)) == 0, err.message
        assert lib.ew_worker_scheduled_sync(w, b"*/5 * * * *", 1700000000000.0, ctypes.byref(err)) == 0
        rc = lib.ew_worker_scheduled_sync(w, b"bad", 0.0, ctypes.byref(err))
        assert lib.ew_status_name(rc) == b"EW_ERR_EXCEPTION"
        assert b"cron handler failed" in err.message

        req = Request(method=b"GET", url=b"http://localhost/")
        resp = ctypes.POINTER(Response)()
        assert lib.ew_worker_fetch_sync(w, ctypes.byref(req), ctypes.byref(resp), ctypes.byref(err)) == 0
        body = ctypes.string_at(resp.contents.body, resp.contents.body_len)
        lib.ew_response_destroy(resp)
        assert body == b"*/5 * * * * at 1700000000000"
    finally:
        lib.ew_runtime_destroy(rt)
