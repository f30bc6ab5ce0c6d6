"""SIGKILL pyinit under a subreaper and report what becomes of its child.

Run as PID 1 of a fresh PID namespace: `kill_pyinit.py PYINIT_ARGV...` (pyinit's
command and options, without the command to run). It starts pyinit as a
subreaper below itself with a signal_printer child, waits for the child's
`ready`, SIGKILLs pyinit (which cannot catch it, so nothing is forwarded), and
then, as the init the orphaned child is re-parented to, watches it for up to
WATCH_SECONDS. Prints `child PID ended by signal N` or `child PID exit N`,
or `child PID still running, parent PID` if it outlived the watch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

WATCH_SECONDS = 3.0


def main(argv: list[str]) -> None:
    printer = [sys.executable, "-m", "pyinit.testing.signal_printer"]
    pyinit = subprocess.Popen(argv + ["--"] + printer, stdout=subprocess.PIPE, text=True)
    line = pyinit.stdout.readline()  # "ready child PID PGID"
    child = int(line.split()[2])
    pyinit.kill()
    pyinit.wait(10)
    deadline = time.monotonic() + WATCH_SECONDS
    while time.monotonic() < deadline:
        pid, status = os.waitpid(child, os.WNOHANG)  # we are its init now
        if pid == child:
            if os.WIFSIGNALED(status):
                print(f"child {child} ended by signal {os.WTERMSIG(status)}", flush=True)
            else:
                print(f"child {child} exit {os.WEXITSTATUS(status)}", flush=True)
            return
        time.sleep(0.01)
    with open(f"/proc/{child}/stat") as stat:
        parent = stat.read().rsplit(")", 1)[1].split()[1]
    print(f"child {child} still running, parent {parent}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
