"""Worker.queue: a batch reaches the queue() handler with its bodies decoded, and what the handler decided comes
back per message (None = acknowledged, else the retry delay); a failing handler raises."""
import pytest

from edgeworker import EdgeWorkerError, ScriptError

QUEUE = r"""
export default {
  async queue(batch) {
    const [a, b, c] = batch.messages;
    if (batch.queue === 'bad') { a.ack(); throw new Error('consumer failed'); }
    if (typeof a.body !== 'string' || !(b.body instanceof ArrayBuffer) || c.body.n !== 3 || a.attempts !== 1)
      throw new Error('unexpected bodies');
    b.retry({ delaySeconds: 30 });
    c.retry();
  },
};
"""


def test_bodies_and_verdicts(load):
    w = load(QUEUE)
    assert w.queue("jobs", ["text", b"\x00\x01", {"n": 3}]) == [None, 30, 0]


def test_failing_handler_raises(load):
    w = load(QUEUE)
    with pytest.raises(ScriptError, match="consumer failed"):
        w.queue("bad", ["a", b"b", {"n": 3}])


def test_empty_batch_and_no_handler(load):
    w = load(QUEUE)
    with pytest.raises(EdgeWorkerError):
        w.queue("jobs", [])
    plain = load("export default { fetch() { return new Response('x'); } };")
    with pytest.raises(EdgeWorkerError):
        plain.queue("jobs", ["x"])
