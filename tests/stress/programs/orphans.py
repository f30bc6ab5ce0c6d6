"""Make orphans in bursts: `orphans.py TOTAL BURST DELAY_EVERY DELAY_MAX_US [--wait-go]`.

The load generator for the orphan storm and the soak (orphans.c is its faster
twin; the tests use that one when a C compiler is found). Each burst forks a
middle process that forks BURST workers and exits at once, so the workers are
orphans, re-parented to the nearest reaper (the namespace's PID 1, or a
subreaper): only pyinit can reap them. Every DELAY_EVERY-th worker sleeps up
to DELAY_MAX_US microseconds first; the rest exit at once.

With --wait-go it prints `ready PID` and starts only on SIGUSR2, so a test can
measure pyinit before the storm. Every worker holds the write end of a pipe:
EOF on the read end means all of them have exited (not that they were reaped:
that is pyinit's job, and the test's to check). Then it prints
`done TOTAL SECONDS` and waits for SIGTERM, whose default action ends it.
SIGUSR1, SIGHUP and SIGWINCH are ignored, so signals forwarded to the group
during a storm end nobody.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import sys
import time


def fork_retrying() -> int:
    while True:
        try:
            return os.fork()
        except OSError as error:
            if error.errno != errno.EAGAIN:
                raise
            time.sleep(0.001)  # at a pids limit: wait for the reaper to free a slot


def main(argv: list[str]) -> None:
    total, burst, delay_every, delay_max = (int(a) for a in argv[:4])
    for signum in (signal.SIGUSR1, signal.SIGHUP, signal.SIGWINCH):
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    if "--wait-go" in argv[4:]:
        os.write(1, f"ready {os.getpid()}\n".encode())
        signal.sigwait({signal.SIGUSR2})
    read_end, write_end = os.pipe()
    start = time.monotonic()
    made = 0
    while made < total:
        count = min(burst, total - made)
        middle = fork_retrying()
        if middle == 0:
            os.close(read_end)
            for i in range(count):
                late = delay_every > 0 and (made + i) % delay_every == 0
                delay = random.randint(0, delay_max) / 1e6 if late else 0
                if fork_retrying() == 0:
                    if delay:
                        time.sleep(delay)
                    os._exit(0)
            os._exit(0)
        os.waitpid(middle, 0)
        made += count
    os.close(write_end)
    while os.read(read_end, 1):
        pass
    os.write(1, f"done {made} {time.monotonic() - start:.3f}\n".encode())
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv[1:])
