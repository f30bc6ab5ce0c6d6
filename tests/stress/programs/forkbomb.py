"""A fork bomb with a cap and a deadline: `forkbomb.py TARGET MAX_SECONDS`.

Keeps forking middle processes, each of which starts short-lived workers
(`sleep 0.05`) until fork fails with EAGAIN (the pids cgroup's pids.max, or
RLIMIT_NPROC) and exits, orphaning them. Only the reaper can free their
slots, so forks go on succeeding at the cap only while pyinit keeps reaping.

Prints `ready PID`, `bomb at cap` at the first EAGAIN, and once TARGET workers
have started `bomb spawned=N refused=M seconds=S`; then goes on forking at the
cap until SIGTERM (whose default action ends it) or MAX_SECONDS, whichever
comes first (at MAX_SECONDS it reports, if it has not yet, and exits 0).
"""

from __future__ import annotations

import errno
import os
import sys
import time

WORKER = ["/bin/sleep", "0.05"]
PER_MIDDLE = 64


def middle(report: int) -> None:
    spawned = refused = 0
    try:
        for _ in range(PER_MIDDLE):
            os.posix_spawn(WORKER[0], WORKER, os.environ)
            spawned += 1
    except OSError:  # EAGAIN at the cap (ENOMEM would count the same: refused)
        refused = 1
    finally:
        os.write(report, f"{spawned} {refused}\n".encode())  # always: main blocks on it
        os._exit(0)


def main(argv: list[str]) -> None:
    target, max_seconds = int(argv[0]), float(argv[1])
    read_end, write_end = os.pipe()
    os.write(1, f"ready {os.getpid()}\n".encode())
    spawned = refused = 0
    started = time.monotonic()
    reported = False
    while time.monotonic() - started < max_seconds:
        if not reported and spawned >= target:
            os.write(1, f"bomb spawned={spawned} refused={refused} "
                        f"seconds={time.monotonic() - started:.2f}\n".encode())
            reported = True
        try:
            pid = os.fork()
        except OSError as error:
            if error.errno != errno.EAGAIN:
                raise
            pid = None
        if pid == 0:
            os.close(read_end)
            middle(write_end)
        if pid is None:
            hit = 1
            time.sleep(0.002)
        else:
            os.waitpid(pid, 0)
            made, hit = (int(n) for n in os.read(read_end, 64).split())
            spawned += made
        if hit and not refused:
            os.write(1, b"bomb at cap\n")
        refused += hit
    if not reported:
        os.write(1, f"bomb spawned={spawned} refused={refused} seconds={max_seconds}\n".encode())
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
