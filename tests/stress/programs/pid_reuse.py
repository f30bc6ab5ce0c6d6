"""Hand the main child's pid to a stranger and see whether pyinit signals it.

Run as PID 1 of a fresh PID namespace: `pid_reuse.py PYINIT_ARGV...` (pyinit's
command and options, without the command to run). It starts pyinit as a
subreaper below itself, with a main child that puts a helper in a process group
of its own (so pyinit keeps running under --wait-all, and the main child's
group is left empty) and exits 3 while SIGUSR1s stream in to pyinit.

The moment the main child is reaped (its /proc entry goes), this script sets
/proc/sys/kernel/ns_last_pid so that its next fork gets the very same pid, and
forks a stranger: not pyinit's descendant, the leader of a new process group
whose number is the old child's pid. The stranger counts what it receives while
the SIGUSR1s go on and pyinit is then stopped with SIGTERM (its shutdown signals
"the rest"). Prints `main PID`, `stranger pid=PID pgid=PGID got={...}` and
`pyinit status N`. pyinit must never have signalled the stranger.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

MAIN_CHILD = r"""
import os, signal, sys, time
signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # inherited by the helper
moved_r, moved_w = os.pipe()
if os.fork() == 0:
    os.setpgid(0, 0)      # leave the group: it empties when the main child exits
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    os.write(moved_w, b"m")
    signal.sigwait({signal.SIGTERM})   # pyinit's shutdown
    os._exit(0)
os.read(moved_r, 1)       # the helper has left the group
print("main", os.getpid(), flush=True)
time.sleep(0.3)           # exit while the SIGUSR1s are arriving
sys.exit(3)
"""

WATCHED = {signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def stranger(main_pid: int, report) -> None:
    """A process that happens to get the dead child's pid; counts signals until SIGUSR2 from us."""
    os.setpgid(0, 0)
    got: dict[int, int] = {}
    signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED | {signal.SIGQUIT})
    report.write(f"stranger-ready {os.getpid()}\n")
    report.flush()
    while True:
        info = signal.sigwaitinfo(WATCHED | {signal.SIGQUIT})
        if info.si_signo == signal.SIGQUIT and info.si_pid == os.getppid():
            break  # our parent says: stop counting
        got[info.si_signo] = got.get(info.si_signo, 0) + 1
    print(f"stranger pid={os.getpid()} pgid={os.getpgrp()} got={json.dumps(got)}", flush=True)
    os._exit(0)


def hand_on(main_pid: int) -> int:
    """Fork the stranger with the dead child's pid; return its pid once it is ready.

    The number can stay taken a moment after /proc's entry has gone (seen once on
    a 6.18 kernel under heavy load: the stranger got the next free pid instead), so
    a stranger that missed it is killed unheard and the fork tried again, for up
    to a second.
    """
    for _ in range(100):
        with open("/proc/sys/kernel/ns_last_pid", "w") as last:
            last.write(str(main_pid - 1))
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            stranger(main_pid, os.fdopen(write_end, "w"))
        os.close(write_end)
        with os.fdopen(read_end) as report:
            report.readline()
        if pid == main_pid:
            return pid
        os.kill(pid, signal.SIGKILL)  # not the pid we wanted: it stays silent
        os.waitpid(pid, 0)
        time.sleep(0.01)
    raise SystemExit(f"pid {main_pid} was not free again within a second")


def main(argv: list[str]) -> None:
    pyinit = subprocess.Popen(argv + ["--", sys.executable, "-c", MAIN_CHILD], stdout=subprocess.PIPE, text=True)
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set():
            try:
                os.kill(pyinit.pid, signal.SIGUSR1)
            except ProcessLookupError:
                return
            time.sleep(0.0002)

    line = pyinit.stdout.readline()
    print(line.strip(), flush=True)
    main_pid = int(line.split()[1])
    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{main_pid}"):  # a zombie keeps its entry until reaped
        if time.monotonic() > deadline:
            raise SystemExit("the main child was not reaped within 10 s")
        time.sleep(0.0002)
    pid = hand_on(main_pid)
    time.sleep(0.5)  # the SIGUSR1 stream goes on, now with a stranger holding the pid
    stop.set()
    sender.join()
    pyinit.send_signal(signal.SIGTERM)
    status = pyinit.wait(30)
    os.kill(pid, signal.SIGQUIT)
    os.waitpid(pid, 0)
    print(f"pyinit status {status}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
