"""A child that reports every signal it gets: `python -m pyinit.testing.signal_printer`.

Prints `ready <pid> <pgid>` once its signals are blocked, then one line
`<role> <SIGNAME>` per signal received, flushed at once, so a test can send a
signal and poll for the line instead of sleeping (as dumb-init's print_signals.py).
Options:
  --grandchild   also fork a grandchild in the same process group that does the same
                 (its lines say `grandchild`); it prints `ready` before the child does
  --exit-on SIG  exit 0 after printing SIG (repeatable; default: SIGTERM and SIGINT
                 end it with the default action instead, 128+N, as a plain program)
  --count        print nothing per signal; on SIGTERM print `<role> counts NAME=N ...`
"""

from __future__ import annotations

import os
import signal
import sys

from .. import signals

ALL = set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD}


def _say(text: str) -> None:
    os.write(1, (text + "\n").encode())


def serve(role: str, exit_on: set[int] | None, count: bool, ready_fd: int | None = None) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, ALL)
    counts: dict[int, int] = {}
    _say(f"ready {role} {os.getpid()} {os.getpgrp()}")
    if ready_fd is not None:
        os.write(ready_fd, b"r")
        os.close(ready_fd)
    while True:
        signum = signal.sigwaitinfo(ALL).si_signo
        if count:
            if signum == signal.SIGTERM:
                listed = " ".join(f"{signals.name(s)}={n}" for s, n in sorted(counts.items()))
                _say(f"{role} counts {listed}")
                os._exit(0)
            counts[signum] = counts.get(signum, 0) + 1
            continue
        _say(f"{role} {signals.name(signum)}")
        if exit_on is None and signum in (signal.SIGTERM, signal.SIGINT):
            # Behave like a program with no handler: die of the signal.
            signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
            os.kill(os.getpid(), signum)
        if exit_on is not None and signum in exit_on:
            os._exit(0)


def main(argv: list[str]) -> None:
    exit_on: set[int] | None = None
    grandchild = count = False
    args = iter(argv)
    for arg in args:
        if arg == "--grandchild":
            grandchild = True
        elif arg == "--count":
            count = True
        elif arg == "--exit-on":
            value = next(args)
            exit_on = (exit_on or set()) | {int(value) if value.isdigit() else signal.Signals[value].value}
        else:
            raise SystemExit(f"signal_printer: unknown argument {arg!r}")
    if grandchild:
        # The grandchild says ready before the child does, so one "ready child"
        # line means both are listening.
        read_end, write_end = os.pipe()
        if os.fork() == 0:
            os.close(read_end)
            serve("grandchild", exit_on, count, ready_fd=write_end)
        os.close(write_end)
        os.read(read_end, 1)
        os.close(read_end)
    serve("child", exit_on, count)


if __name__ == "__main__":
    main(sys.argv[1:])
