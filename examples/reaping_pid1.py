#!/usr/bin/env python3
"""A program that does not need an init: it does PID 1's two jobs itself.

1. It takes SIGTERM itself (blocked, then sigwaitinfo). The kernel drops the
   signals sent to a namespace's PID 1 that it neither handles nor blocks
   (pid_namespaces(7)), so a program that relies on SIGTERM's default action
   ignores `docker stop` as PID 1.
2. It reaps every child, its own and the orphans the kernel re-parents to it,
   with a waitpid(-1, WNOHANG) loop on each SIGCHLD (SIGCHLDs coalesce: signal(7)).

    pyinit audit -- python3 examples/reaping_pid1.py    # verdict: no init needed

Prints `ready PID`, then runs until SIGTERM or SIGINT and exits 0.
"""

import os
import signal
import sys

WAITED = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # ECHILD: no children at all
        if pid == 0:
            return  # children remain, none has exited


def main() -> int:
    # Blocked and taken with sigwaitinfo, as an init does: no handler can race
    # the wait. A blocked signal is queued even for a namespace's PID 1.
    signal.pthread_sigmask(signal.SIG_BLOCK, WAITED)
    reap()  # whatever exited before the mask was set
    print(f"ready {os.getpid()}", flush=True)
    while True:
        if signal.sigwaitinfo(WAITED).si_signo == signal.SIGCHLD:
            reap()
        else:
            return 0


if __name__ == "__main__":
    sys.exit(main())
