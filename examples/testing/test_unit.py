"""The seed's unit tests ("Testing Strategies", "1. Unit Testing" in workers-seed.md), translated from
vitest + wrangler's unstable_dev to pytest + the Python bindings: each test loads this project into a
fresh edgeworker Runtime (the beforeEach), calls the Worker with worker.fetch() (no HTTP server, no
network) and closes the Runtime (the afterEach).

    PYTHONPATH=bindings-python python3 -m pytest examples/testing/test_unit.py

(from the repository root, with the library built in build/; docs/python.md has the bindings' API).
"""
import pathlib
import sys

import pytest

PROJECT = pathlib.Path(__file__).resolve().parent
try:
    import edgeworker
except ImportError:  # running from the checkout without installing the package
    sys.path.insert(0, str(PROJECT.parents[1] / "bindings-python"))
    import edgeworker


@pytest.fixture
def worker(tmp_path):
    # beforeEach: worker = await unstable_dev('src/index.js', ...); afterEach: await worker.stop()
    with edgeworker.Runtime(state_dir=tmp_path / "state") as rt:
        yield rt.load(PROJECT)


def test_should_handle_get_request(worker):
    response = worker.fetch("/api/health")
    assert response.status == 200

    text = response.text()
    assert text == "OK"


def test_should_handle_post_request_with_json(worker):
    response = worker.fetch("/api/users", method="POST", headers={"Content-Type": "application/json"},
                            body='{"name": "Test User", "email": "test@example.com"}')

    assert response.status == 201

    user = response.json()
    assert user["name"] == "Test User"
    assert user.get("id") is not None
