"""fetch() from a Worker run through the Python bindings: the blocking Worker.fetch runs the loop that the
outbound request needs; Runtime(subrequests=, ca_file=) reach the C runtime."""
import pathlib
import sys

import pytest

import edgeworker

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "e2e"))
from fetch_origin import Origin  # noqa: E402

SCRIPT = """
export default {
  async fetch(request) {
    const u = new URL(request.url).searchParams.get('u');
    const out = [];
    try {
      for (let i = 0; i < 3; i++) out.push(await (await fetch(u)).text());
    } catch (e) { out.push(e.message); }
    return Response.json(out);
  }
};
"""


@pytest.fixture(scope="module")
def origin():
    o = Origin()
    yield o
    o.close()


def test_fetch_through_python_with_subrequest_limit(origin):
    with edgeworker.Runtime(subrequests=2) as rt:
        w = rt.load(source=SCRIPT, filename="worker.mjs")
        got = w.fetch("/?u=http://127.0.0.1:%d/text" % origin.port).json()
    assert got == ["hello from origin", "hello from origin", "Too many subrequests by single Worker invocation."]


def test_unreadable_ca_file_is_refused(tmp_path):
    with pytest.raises(edgeworker.EdgeWorkerError) as e:
        edgeworker.Runtime(ca_file=tmp_path / "missing.pem")
    assert "missing.pem" in str(e.value)
