"""Worker.scheduled: cron and time reach the handler (datetime or ms), waitUntil work completes first, and a
failing handler raises."""
import datetime
import time

import pytest

from edgeworker import EdgeWorkerError, ScriptError

CRON = r"""
var runs = [];
addEventListener('scheduled', function (event) {
  if (event.cron === 'bad') throw new Error('cron handler failed');
  event.waitUntil(new Promise(function (resolve) {
    setTimeout(function () { runs.push(event.cron + '@' + event.scheduledTime); resolve(); }, 5);
  }));
});
addEventListener('fetch', function (event) { event.respondWith(new Response(runs.join('|'))); });
"""


def test_cron_and_time_in_ms(load):
    w = load(CRON)
    assert w.scheduled("*/5 * * * *", 1700000000000) is None
    assert w.fetch("/").text() == "*/5 * * * *@1700000000000"


def test_time_as_datetime(load):
    w = load(CRON)
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    w.scheduled("0 3 * * *", when)
    assert w.fetch("/").text() == "0 3 * * *@%d" % (when.timestamp() * 1000)


def test_default_time_is_now(load):
    w = load(CRON)
    before = time.time() * 1000
    w.scheduled("* * * * *")
    ms = float(w.fetch("/").text().split("@")[1])
    assert before - 1000 <= ms <= time.time() * 1000 + 1000


def test_a_throwing_handler_raises_script_error(load):
    w = load(CRON)
    with pytest.raises(ScriptError, match="cron handler failed") as info:
        w.scheduled("bad")
    assert info.value.code_name == "EW_ERR_EXCEPTION"
    w.scheduled("ok")  # the worker still works
    assert w.fetch("/").text().startswith("ok@")


def test_no_scheduled_handler_raises(load):
    w = load("addEventListener('fetch', function (e) { e.respondWith(new Response('x')); });")
    with pytest.raises(EdgeWorkerError, match="[Ss]cheduled"):
        w.scheduled("* * * * *")
