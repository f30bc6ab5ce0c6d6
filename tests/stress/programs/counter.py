"""Count every signal that arrives: `counter.py [--sequence]`.

Blocks every catchable signal and takes them one at a time with sigwaitinfo,
so nothing is lost to a handler and real-time signals are counted one by one
(each queued copy is a separate sigwaitinfo result, signal(7)). Prints
`ready PID PGID` first. On SIGTERM it takes whatever is still pending, then
prints `counts {"NUMBER": N, ...}` (JSON), with --sequence also
`sequence N N N ...` (each signal number in the order it was taken), and then
dies of that SIGTERM, as a program without a handler would: so pyinit exits
143 and the test sees both the counts and the status.
"""

from __future__ import annotations

import json
import os
import signal
import sys

CAUGHT = set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}


def main(argv: list[str]) -> None:
    keep_sequence = "--sequence" in argv
    signal.pthread_sigmask(signal.SIG_BLOCK, CAUGHT)
    counts: dict[int, int] = {}
    sequence: list[int] = []
    os.write(1, f"ready {os.getpid()} {os.getpgrp()}\n".encode())
    ending = False
    while True:
        if ending:  # take what is still pending: the lowest number goes first, so
            info = signal.sigtimedwait(CAUGHT, 0)  # signals sent before SIGTERM may wait behind it
            if info is None:
                break
        else:
            info = signal.sigwaitinfo(CAUGHT)
        signum = info.si_signo
        if signum == signal.SIGTERM and not ending:
            ending = True
            continue
        counts[signum] = counts.get(signum, 0) + 1
        if keep_sequence:
            sequence.append(signum)
    lines = [f"counts {json.dumps(counts)}"]
    if keep_sequence:
        lines.append("sequence " + " ".join(map(str, sequence)))
    os.write(1, ("\n".join(lines) + "\n").encode())
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    main(sys.argv[1:])
