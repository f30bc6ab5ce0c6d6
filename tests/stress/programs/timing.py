"""A main child whose exit, and its orphans' exits, happen on a schedule: `timing.py SPEC`.

SPEC is JSON: {"code": exit status, "exit_ms": when the main child exits,
"orphans": [ms, ...] when each orphan (double-forked, so pyinit must reap it)
exits, "together": true to have the main child and every orphan exit at one
instant instead (they all wait on one pipe, and the main child's exit closes
it)}. Times count from the `ready` line. SIGUSR1, SIGHUP, SIGWINCH and
SIGRTMIN+1 are ignored by all of them, so a test can send those at any moment;
SIGTERM is not, so a SIGTERM that wins the race ends the main child with 143.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

IGNORED = (signal.SIGUSR1, signal.SIGHUP, signal.SIGWINCH, signal.SIGRTMIN + 1)


def main(argv: list[str]) -> None:
    spec = json.loads(argv[0])
    for signum in IGNORED:
        signal.signal(signum, signal.SIG_IGN)
    start_read, start_write = os.pipe()  # closed by the main child at `ready`: t = 0 for all
    gate_read, gate_write = os.pipe()  # closed by the main child's exit: "together"
    for delay in spec["orphans"]:
        middle = os.fork()
        if middle == 0:
            if os.fork() == 0:
                os.close(start_write)
                os.close(gate_write)
                os.read(start_read, 1)
                if spec["together"]:
                    os.read(gate_read, 1)
                else:
                    time.sleep(delay / 1000)
                os._exit(0)
            os._exit(0)
        os.waitpid(middle, 0)
    os.close(start_read)
    os.close(gate_read)
    os.write(1, b"ready\n")
    os.close(start_write)
    time.sleep(spec["exit_ms"] / 1000)
    os._exit(spec["code"])  # closes gate_write: the orphans waiting on it exit with us


if __name__ == "__main__":
    main(sys.argv[1:])
