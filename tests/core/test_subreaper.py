"""pyinit when it is not PID 1: a child subreaper that still reaps every orphan."""

from __future__ import annotations

import subprocess
import time

import psutil

from tests.helpers import PY

ORPHANS_THEN_REPORT = """
import os, sys, time
for _ in range(int(sys.argv[1])):
    middle = os.fork()
    if middle == 0:
        if os.fork() == 0:
            time.sleep(1.0)
            os._exit(0)
        os._exit(0)
    os.waitpid(middle, 0)
print("orphaned", flush=True)
sys.stdin.readline()
"""


def test_subreaper_outside_a_namespace_adopts_and_reaps_orphans(pyinit):
    process = subprocess.Popen(pyinit + ["--", PY, "-c", ORPHANS_THEN_REPORT, "50"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "orphaned\n"
        init = psutil.Process(process.pid)
        assert len(init.children()) > 1  # the orphans were reparented to pyinit, not the host's init
        # The orphans were reparented to pyinit (not to the host's init), and once
        # they exit pyinit reaps them: no zombie stays under it.
        deadline = time.monotonic() + 15
        while len(init.children()) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c.pid for c in init.children()] == [psutil.Process(process.pid).children()[0].pid]
        assert len(init.children()) == 1  # only the main child: every orphan came and was reaped
        process.stdin.write("\n")
        process.stdin.flush()
        assert process.wait(10) == 0
        assert "not PID 1" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


ORPHAN_IGNORING_TERM = """
import os, signal, time
read_end, write_end = os.pipe()
if os.fork() == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # lives through the grace we look in
    print(os.getpid(), flush=True)
    os.write(write_end, b"x")
    time.sleep(5)
    os._exit(0)
os.read(read_end, 1)  # exit only once the orphan-to-be is set up
"""


def test_orphans_reach_pyinit_not_the_host_init(pyinit):
    process = subprocess.Popen(pyinit + ["--grace", "1", "--", PY, "-c", ORPHAN_IGNORING_TERM],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        orphan = int(process.stdout.readline())
        deadline = time.monotonic() + 5
        while psutil.Process(orphan).ppid() != process.pid and time.monotonic() < deadline:
            time.sleep(0.01)
        assert psutil.Process(orphan).ppid() == process.pid
    finally:
        assert process.wait(15) == 0


def test_warns_once_when_neither_pid1_nor_subreaper(pyinit):
    result = subprocess.run(pyinit + ["--", "true"], capture_output=True, text=True, timeout=30,
                            env={"PATH": "/usr/bin:/bin", "PYINIT_SUBREAPER": "0"})
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "not PID 1 and not a child subreaper" in line]
    assert len(warnings) == 1
    assert "orphaned processes will not be reaped" in warnings[0]


def test_subreaper_flag_is_accepted(pyinit):
    result = subprocess.run(pyinit + ["-s", "--", "sh", "-c", "exit 4"], capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stderr) == (4, "")
