"""The shell commands the documentation shows, and a runner that runs an example README's commands the
way a reader would, so that test_docs.py can hold every command of docs/*.md and examples/*/README.md to
the truth.

A command is a line of a code block (indented by four spaces, or fenced as sh/bash/console/shell) whose
first word is a program a reader types (SHELL_WORDS), with backslash continuations joined. A trailing
`# -> TEXT` comment, or a `# -> TEXT` line right below the command, is what the command prints: `...` and
`…` stand for anything, and whitespace does not count. Other comments are prose.

The runner runs a README's commands in order in a scratch folder that links the checkout's top-level
entries (so relative paths work and nothing is written into the checkout), with these adjustments, which
change where things go but not what the commands do:
- a command that serves (`ew-server PATH …` without a subcommand, `make serve`, a command whose expected
  output is `Ready on …`) starts in the background on a free port and replaces the previous server; later
  commands reach it where they say 127.0.0.1:8787 / localhost:8787;
- `… &` starts a helper (a stand-in upstream) in the background; the port numbers it names are swapped for
  free ones everywhere;
- ew-server serving and its d1 commands get `--persist-to` the scratch state folder (unless they name one), and
  `examples/NAME/.wrangler/state` in a command means that folder; /tmp/ means the scratch folder;
- `make build` and `ninja -C build` are skipped: the test runs on the build make test has just made.
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import time

from conftest import BUILD, ROOT, Server

SHELL_WORDS = {"ew-server", "build/server/ew-server", "./build/server/ew-server", "curl", "python3",
               "/usr/bin/python3", "make", "meson", "ninja", "seq", "sleep", "cc", "node", ".venv/bin/pip",
               "./examples/embed-c/embed"}
SERVE_PORT = 8787
BUILD_STEPS = ("make build", "ninja -C build")


class Command:
    """One command shown in a document: its text, the line it starts on, the output it claims (or None)."""

    def __init__(self, path, line, text, expected):
        self.path, self.line, self.text, self.expected = path, line, text, expected

    def __repr__(self):
        return "%s:%d: %s" % (self.path.relative_to(ROOT), self.line, self.text)


def split_comment(line):
    """(command, comment or None): the first ` #` outside quotes starts the comment."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and i > 0 and line[i - 1] in " \t":
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), None


def first_word(cmd):
    """The program of a command line, after VAR=value assignments; a bare NAME=$(...) names its inner one."""
    words = cmd.split()
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        m = re.match(r"^[A-Z_][A-Z0-9_]*=\$\((\S+)", words[0])
        if m and len(words) >= 1 and m.group(1) in SHELL_WORDS:
            return m.group(1)
        words = words[1:]
    return words[0] if words else ""


def shown_commands(path):
    """Every command shown in the Markdown file at path, in order."""
    out = []
    lines = path.read_text(encoding="utf-8").split("\n")
    fence = None  # None outside a fence, else True for a shell fence and False for any other
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^\s*```(\w*)", line)
        if m:
            fence = None if fence is not None else m.group(1) in ("sh", "bash", "console", "shell")
            i += 1
            continue
        start = i
        code = fence is True or (fence is None and line.startswith("    "))
        text = line.strip()
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        if not code:
            continue
        text = re.sub(r"^\$ ", "", text)
        if text.startswith("# ->") and out and out[-1].expected is None and out[-1].line >= start - 2:
            out[-1].expected = text[4:].strip()  # the output of the command just above, on a line of its own
            continue
        cmd, comment = split_comment(text)
        if first_word(cmd) not in SHELL_WORDS:
            continue
        expected = comment[2:].strip() if comment and comment.startswith("->") else None
        out.append(Command(path, start + 1, cmd, expected))
    return out


def matches(expected, output):
    """Whether output shows `expected` (`...`/`…` stand for anything; whitespace does not count)."""
    parts = [re.escape(re.sub(r"\s+", "", p)) for p in re.split(r"\.\.\.|…", expected)]
    return re.search(".*".join(parts), re.sub(r"\s+", "", output), re.S) is not None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what):
    end = time.monotonic() + 20
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError("%s exited with %s" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("%s is not listening on %d" % (what, port))


class Runner:
    """Runs a document's commands; stop() ends what it started in the background."""

    def __init__(self, scratch):
        self.work = scratch / "work"
        self.state = scratch / "state"
        self.tmp = scratch / "tmp"
        for d in (self.work, self.state, self.tmp):
            d.mkdir(parents=True)
        for entry in ROOT.iterdir():
            if entry.name not in ("build", ".git") and not entry.name.startswith("build-"):
                (self.work / entry.name).symlink_to(entry)
        (self.work / "build").symlink_to(BUILD)
        self.env = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""), TMPDIR=str(self.tmp),
                        EDGEWORKER_LIB=str(BUILD / "lib" / "libedgeworker.so"))
        self.ports = {}       # port named in the document -> port used here
        self.server = None    # the Server (or Popen with .port) now serving
        self.helpers = []     # background helper processes

    # -- rewriting -------------------------------------------------------------------------------------
    def rewrite(self, cmd):
        for doc_port, port in self.ports.items():
            cmd = re.sub(r"(?<!\d)%d(?!\d)" % doc_port, str(port), cmd)
        cmd = re.sub(r"(?<![\w/.])/tmp/", str(self.tmp) + "/", cmd)
        return re.sub(r"examples/[\w-]+/\.wrangler/state", str(self.state), cmd)

    def with_state(self, argv):
        """argv of an ew-server invocation with --persist-to the scratch state (unless it names one)."""
        if "--persist-to" in argv:
            return argv
        return argv + ["--persist-to", str(self.state)]

    # -- running -----------------------------------------------------------------------------------------
    def run(self, c):
        """Runs Command c; returns its output (stdout + stderr). Raises AssertionError when it fails or
        does not print what the document says."""
        text = c.text
        if text in BUILD_STEPS:
            return ""
        background = text.endswith("&")
        text = text.rstrip("&").strip()
        argv = shlex.split(text)
        if text == "make serve":
            return self.serve(["examples/hello/"], c)
        if argv[0].endswith("ew-server") and argv[1:2] not in (["check"], ["build"], ["d1"]):
            return self.serve(argv[1:], c)
        if c.expected is not None and c.expected.startswith("Ready on"):
            return self.serve_other(text, c)
        if background:
            return self.helper(text, c)
        m = re.match(r"^([A-Z_][A-Z0-9_]*)=\$\((.*)\)$", text)
        if m:  # NAME=$(command): the reader's shell keeps NAME (the command's stdout) for later lines
            out, _ = self.shell(m.group(2), c)
            self.env[m.group(1)] = out.strip()
            return out
        out = "".join(self.shell(text, c))
        if c.expected is not None and not matches(self.rewrite(c.expected), out):
            raise AssertionError("%r printed %r, not %r" % (c, out[:2000], c.expected))
        return out

    def shell(self, text, c):
        """Runs one command line in bash in the scratch folder; (stdout, stderr), or AssertionError."""
        cmd = self.rewrite(text)
        if re.match(r"^(\./)?build/server/ew-server d1 ", cmd):  # check and build keep no state
            cmd = " ".join(shlex.quote(a) for a in self.with_state(shlex.split(cmd)))
        # No terminal: an interactive client (python3 -m websockets URL) connects, shows what it got, and
        # ends at the end of its input.
        out = subprocess.run(["bash", "-c", cmd], cwd=self.work, env=self.env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise AssertionError("%r failed (%d): %s%s" % (c, out.returncode, out.stdout[-2000:], out.stderr[-2000:]))
        return out.stdout, out.stderr

    def serve(self, args, c):
        self.stop_server()
        args = [self.rewrite(a) for a in args]
        path, flags, i = ".", [], 0
        while i < len(args):
            if args[i] in VALUE_FLAGS and i + 1 < len(args):
                flags += args[i:i + 2]
                i += 2
                continue
            if args[i].startswith("-"):
                flags.append(args[i])
            else:
                path = args[i]
            i += 1
        self.server = Server(self.work / path, self.with_state(flags))
        self.ports[SERVE_PORT] = self.server.port
        return "".join(self.server.output)

    def serve_other(self, text, c):
        """A server other than ew-server (e.g. a Python host) that takes --port and prints Ready on."""
        self.stop_server()
        proc = subprocess.Popen(["bash", "-c", "exec " + self.rewrite(text) + " --port 0"], cwd=self.work,
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        line = proc.stdout.readline()
        if not matches(c.expected.replace(str(SERVE_PORT), "..."), line):
            proc.kill()
            raise AssertionError("%r printed %r" % (c, line))
        proc.port = int(line.rsplit(":", 1)[1])
        self.server = proc
        self.ports[SERVE_PORT] = proc.port
        return line

    def helper(self, text, c):
        for doc_port in map(int, re.findall(r"(?<![\d.])(\d{4,5})(?![\d.])", text)):
            self.ports.setdefault(doc_port, free_port())
        proc = subprocess.Popen(["bash", "-c", "exec " + self.rewrite(text)], cwd=self.work, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.helpers.append(proc)
        for doc_port in re.findall(r"(?<![\d.])(\d{4,5})(?![\d.])", text):
            wait_listening(self.ports[int(doc_port)], proc, repr(c))
        return ""

    def stop_server(self):
        if isinstance(self.server, Server):
            rc = self.server.stop()
            assert rc == 0, "ew-server exited with %s:\n%s" % (rc, "".join(self.server.output))
        elif self.server is not None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(10)
        self.server = None

    def stop(self):
        try:
            self.stop_server()
        finally:
            for p in self.helpers:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(10)


# ew-server flags that take a value (so the value is not taken for the project PATH).
VALUE_FLAGS = {"--env", "--var", "--persist-to", "--ip", "--port", "--threads", "--cpu-ms", "--cache-mb",
               "--ca-file", "--connect-to", "--idle-timeout", "--request-timeout", "--log-format", "--tls-cert",
               "--tls-key", "--local-protocol", "--colo", "--country", "--do-idle-ms"}
