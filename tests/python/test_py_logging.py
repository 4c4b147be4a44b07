"""Worker console output goes to Python logging, logger edgeworker.worker.<name>, at the mapped level."""
import logging

WORKER = r"""
console.log('loading', 1);
addEventListener('fetch', function (event) {
  console.debug('debug line');
  console.info('info line');
  console.log('log line', { a: 1 });
  console.warn('warn line');
  console.error('error line 😀');
  event.respondWith(new Response('ok'));
});
"""


def test_console_levels_map_to_logging_levels(rt, caplog):
    with caplog.at_level(logging.DEBUG, logger="edgeworker"):
        w = rt.load(source=WORKER, name="chatty")
        assert w.fetch("/").text() == "ok"
    got = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("edgeworker.worker")]
    name = "edgeworker.worker.chatty"
    assert (name, logging.INFO, "loading 1") in got
    assert (name, logging.DEBUG, "debug line") in got
    assert (name, logging.INFO, "info line") in got
    assert any(n == name and lvl == logging.INFO and m.startswith("log line") for n, lvl, m in got)
    assert (name, logging.WARNING, "warn line") in got
    assert (name, logging.ERROR, "error line 😀") in got


def test_uncaught_exceptions_are_logged_as_errors(rt, caplog):
    w = rt.load(source="addEventListener('fetch', function () { throw new Error('logged kaput'); });",
                name="thrower")
    with caplog.at_level(logging.DEBUG, logger="edgeworker"):
        assert w.fetch("/").status == 500
    assert any(r.name == "edgeworker.worker.thrower" and r.levelno == logging.ERROR and "logged kaput" in r.getMessage()
               for r in caplog.records)


def test_percent_signs_are_not_formatting(rt, caplog):
    with caplog.at_level(logging.INFO, logger="edgeworker"):
        rt.load(source="console.log('100% %s %d');", name="pct")
    assert [r.getMessage() for r in caplog.records if r.name == "edgeworker.worker.pct"] == ["100% %s %d"]


def test_a_failing_log_handler_does_not_break_the_worker(rt):
    class Broken(logging.Handler):
        def emit(self, record):
            raise RuntimeError("handler broke")

    logger = logging.getLogger("edgeworker.worker.broken-handler")
    handler = Broken()
    logger.addHandler(handler)
    raise_exc, logging.raiseExceptions = logging.raiseExceptions, False
    try:
        w = rt.load(source="addEventListener('fetch', function (e) { console.log('x'); "
                           "e.respondWith(new Response('ok')); });", name="broken-handler")
        assert w.fetch("/").text() == "ok"
    finally:
        logging.raiseExceptions = raise_exc
        logger.removeHandler(handler)
