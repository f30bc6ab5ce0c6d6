"""Leave orphans behind, then become COMMAND: `python -m pyinit.testing.orphan_maker [-n N] -- COMMAND...`.

Forks N workers the way a daemonizing helper does (double fork: the middle
process exits at once and is reaped here), so each worker is re-parented to
the nearest reaper: the namespace's PID 1 or a subreaper (prctl(2),
PR_SET_CHILD_SUBREAPER). Each worker exits after ORPHAN_SECONDS. Then this
process execs COMMAND, keeping its pid: run bare as PID 1, COMMAND itself
inherits the orphans and must reap them, which most programs never do.
`pyinit audit` uses this to ask "does COMMAND leave zombies as PID 1?".
"""

from __future__ import annotations

import os
import sys
import time

ORPHAN_SECONDS = 0.2


def make_orphan(seconds: float) -> None:
    middle = os.fork()
    if middle == 0:
        if os.fork() == 0:
            time.sleep(seconds)
            os._exit(0)
        os._exit(0)
    os.waitpid(middle, 0)  # reap the middle: only the orphan is left for the reaper


def main(argv: list[str]) -> None:
    count = 2
    if argv[:1] == ["-n"]:
        count, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        raise SystemExit("usage: python -m pyinit.testing.orphan_maker [-n N] -- COMMAND [ARGS...]")
    for _ in range(count):
        make_orphan(ORPHAN_SECONDS)
    sys.stdout.flush()
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        sys.stderr.write(f"orphan_maker: cannot run {argv[0]!r}: {error.strerror}\n")
        os._exit(127 if isinstance(error, FileNotFoundError) else 126)


if __name__ == "__main__":
    main(sys.argv[1:])
