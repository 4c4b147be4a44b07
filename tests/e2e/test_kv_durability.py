"""KV durability and sharing, through tests/bindings/kvload (a C host on the public API):

- every put whose promise resolved survives a SIGKILL of the process (group commit + WAL + synchronous=FULL);
- two processes writing and reading one state directory at once see consistent data and no lock errors.
"""
import os
import signal
import subprocess
import threading
import time

from conftest import BUILD

KVLOAD = BUILD / "tests" / "bindings" / "kvload"


def load_then_kill(state_dir, prefix, seconds=1.0):
    """Runs kvload in load mode, SIGKILLs it after `seconds`, returns the keys it acknowledged."""
    proc = subprocess.Popen([str(KVLOAD), str(state_dir), "load", prefix], stdout=subprocess.PIPE)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    reader.join(10)
    out = b"".join(chunks).decode()
    lines = out.split("\n")[:-1]  # the text after the last newline may be a line cut by the kill
    assert not [l for l in lines if l.startswith("ERR")], out[-2000:]
    return [l[4:] for l in lines if l.startswith("ACK ")]


def stored(state_dir):
    res = subprocess.run([str(KVLOAD), str(state_dir), "check"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    have = {}
    for line in res.stdout.splitlines():
        if line.startswith("HAVE "):
            key, value = line[5:].split(" ", 1)
            have[key] = value
    assert "COUNT %d" % len(have) in res.stdout
    return have


def test_acknowledged_puts_survive_sigkill(tmp_path):
    acked = []
    for prefix in ("r1", "r2", "r3"):  # three crash/restart cycles on the same state directory
        keys = load_then_kill(tmp_path, prefix)
        assert len(keys) > 100, "too few puts acknowledged in 1 s: %d" % len(keys)
        acked += keys
        have = stored(tmp_path)
        missing = [k for k in acked if have.get(k) != "v-" + k]
        assert not missing, "%d acknowledged keys lost after SIGKILL, e.g. %s" % (len(missing), missing[:5])
    assert os.path.exists(tmp_path / "kv" / "durability.sqlite")


def test_two_processes_share_one_state_dir(tmp_path):
    n = 1500
    procs = [subprocess.Popen([str(KVLOAD), str(tmp_path), "mixed", p, str(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for p in ("a", "b")]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    for p, out in zip(procs, outs):
        assert p.returncode == 0, out[-3000:]
        assert "DONE %d" % n in out, out[-3000:]
        assert "locked" not in out and "ERR" not in out, out[-3000:]
    have = stored(tmp_path)
    assert len(have) == 2 * n
    for p in ("a", "b"):
        for i in range(n):
            k = "%s-%d" % (p, i)
            assert have[k] == "v-" + k
