#!/usr/bin/env python3
"""Make orphans and zombies, the way real entrypoints do by accident.

Each round double-forks: a middle process starts a worker and exits at once,
so the worker is orphaned and reparented to PID 1 (or the nearest subreaper).
When the worker exits, only that process can reap it; without an init that
reaps, it stays a zombie. Also leaves one direct child unreaped on purpose.

    pyinit -v -- python3 examples/zombie_factory.py [ROUNDS]

Exits 0 after the last worker has exited; pyinit then reaps what is left.
"""

import os
import sys
import time


def orphan(delay: float) -> None:
    """Fork a worker that outlives its parent and exits after `delay` seconds."""
    middle = os.fork()
    if middle == 0:
        if os.fork() == 0:
            time.sleep(delay)
            os._exit(0)
        os._exit(0)  # the worker is now an orphan
    os.waitpid(middle, 0)


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for number in range(rounds):
        orphan(0.05 * number)
    if os.fork() == 0:
        os._exit(7)  # a direct child this program never waits for: a zombie until PID 1 reaps it
    print(f"zombie_factory: made {rounds} orphans and 1 unreaped child", flush=True)
    time.sleep(0.05 * rounds + 0.1)  # let the orphans exit and become zombies
    return 0


if __name__ == "__main__":
    sys.exit(main())
