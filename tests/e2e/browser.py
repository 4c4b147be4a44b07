"""Headless Chromium (Debian's chromium) driven over the DevTools protocol with python3-websockets, for tests
that check a page the way a person's browser runs it. No other package: the protocol is JSON over one
WebSocket (https://chromedevtools.github.io/devtools-protocol/).

    @needs_chromium
    def test_x(tmp_path):
        async def scenario(browser):
            page = await browser.open_page(url)
            await browser.wait(page, "document.title === 'x'", "the title")
        with_browser(tmp_path, scenario)
"""
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import websockets

TIMEOUT = 10  # seconds for any one command or page state

CHROMIUM = shutil.which("chromium")

# `make test` installs chromium (scripts/install-deps.sh --test, best effort); only where that failed is
# a browser test skipped.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install-deps.sh --test installs it; "
                             "it could not be installed on this machine)")


class Browser:
    """Headless Chromium in its own process group and a temporary profile, driven over one DevTools
    WebSocket (flattened sessions: one per page). close() always kills the whole group."""

    def __init__(self, tmp_path):
        self.profile = tmp_path / "chromium-profile"
        self.profile.mkdir()
        # Its temporary files (the profile's singleton socket) in a folder of its own, removed by kill(): a
        # short path, since a Unix socket's path has at most 107 bytes.
        self.tmp = tempfile.mkdtemp(prefix="ew-chromium-")
        self.log_path = tmp_path / "chromium.log"
        self.closing = False  # Browser.close was sent
        self.ws = None
        self.next_id = 0
        self.pending = {}   # command id -> future of its result
        self.console = []   # what the pages printed or threw, for failure messages
        self.reader = None
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [CHROMIUM, "--headless=new", "--no-sandbox", "--remote-debugging-port=0",
                 "--user-data-dir=%s" % self.profile, "--no-first-run", "--no-default-browser-check",
                 "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--mute-audio",
                 "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(os.environ, TMPDIR=self.tmp))

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:]

    async def start(self):
        # Chromium writes the port it chose and the browser's endpoint path into DevToolsActivePort.
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while True:
            lines = port_file.read_text().split("\n") if port_file.exists() else []
            if len(lines) >= 2 and lines[1].startswith("/devtools/"):
                break
            if self.proc.poll() is not None:
                raise AssertionError("chromium exited with %s:\n%s" % (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                raise AssertionError("chromium wrote no DevToolsActivePort in 20 s:\n" + self.log())
            await asyncio.sleep(0.05)
        self.ws = await websockets.connect("ws://127.0.0.1:%s%s" % (lines[0], lines[1]), max_size=None,
                                           open_timeout=TIMEOUT, ping_interval=None)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg:
                    fut = self.pending.pop(msg["id"], None)
                    if fut and not fut.done():
                        fut.set_result(msg)
                elif msg.get("method") == "Runtime.consoleAPICalled":
                    self.console.append(" ".join(str(a.get("value", a.get("description")))
                                                 for a in msg["params"]["args"]))
                elif msg.get("method") == "Runtime.exceptionThrown":
                    self.console.append(json.dumps(msg["params"]["exceptionDetails"])[:500])
        finally:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(AssertionError("the DevTools connection closed:\n" + self.log()))

    async def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(fut, TIMEOUT)
        if "error" in reply:
            raise AssertionError("%s failed: %s" % (method, reply["error"]))
        return reply["result"]

    async def open_page(self, url):
        """A new tab at `url`; returns its session id once the page has loaded."""
        target = (await self.call("Target.createTarget", {"url": "about:blank"}))["targetId"]
        session = (await self.call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        await self.call("Runtime.enable", session=session)
        await self.call("Page.navigate", {"url": url}, session=session)
        await self.wait(session, "document.readyState === 'complete' && location.href === %s" % json.dumps(url),
                        "the page to load")
        return session

    async def evaluate(self, session, expression):
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                      "awaitPromise": True}, session)
        if "exceptionDetails" in result:
            raise AssertionError("%s threw: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    async def wait(self, session, expression, what):
        """Polls `expression` in the page until it is truthy, for at most TIMEOUT seconds."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            value = await self.evaluate(session, expression)
            if value:
                return value
            if time.monotonic() > deadline:
                page = await self.evaluate(session, "document.body ? document.body.innerText : ''")
                raise AssertionError("waited %d s for %s; the page shows:\n%s\nconsole: %s"
                                     % (TIMEOUT, what, page, self.console))
            await asyncio.sleep(0.05)

    async def type_and_enter(self, session, selector, text):
        """Types into the element as a user would (focus, text input, then the Enter key)."""
        await self.evaluate(session, "document.querySelector(%s).focus()" % json.dumps(selector))
        await self.call("Input.insertText", {"text": text}, session)
        for kind in ("keyDown", "keyUp"):
            await self.call("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                       "windowsVirtualKeyCode": 13, "text": "\r"}, session)

    async def close(self):
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.send(json.dumps({"id": 0, "method": "Browser.close"})), 2)
                self.closing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 2)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    def kill(self):
        if self.closing:  # let it exit by itself (it removes its singleton files), briefly
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # the browser and every helper process it started
        self.proc.wait(TIMEOUT)
        shutil.rmtree(self.tmp, ignore_errors=True)


def with_browser(tmp_path, scenario):
    """Runs `await scenario(browser)` in a new event loop with a started Browser; whatever happens, the
    browser is closed and its processes killed before this returns."""
    browser = Browser(tmp_path)

    async def run():
        try:
            await browser.start()
            await scenario(browser)
        finally:
            await browser.close()

    try:
        asyncio.run(run())
    finally:
        browser.kill()
