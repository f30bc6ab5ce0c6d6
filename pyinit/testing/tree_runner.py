"""Run a tree of processes described in JSON: `python -m pyinit.testing.tree_runner TREE`.

TREE is one node, as drawn by `pyinit.testing.strategies.process_trees()`:

    {"exit": 3,            # status the node exits with (0..255)
     "delay": 0.2,         # seconds it lives; null: until a signal ends it
     "sigterm": "trap",    # "default" (dies of it, 128+15), "trap" (exits with
                           #  "exit" at once) or "ignore" (SIG_IGN, lives on)
     "detach": false,      # double-fork + setsid: its parent loses it at once,
                           #  so it is re-parented to the init (or subreaper)
     "children": [...]}    # nodes it starts; it never waits for them

This process is the root node itself (so an init that runs it runs the root
as its main child). Nodes never reap their children: exited children stay
zombies until their parent exits and the init inherits them, as careless
programs do. The root prints `tree ready <pid>` once every node of the tree
is running with its disposition set (a detached node's middle process gone),
so a test can signal it, or count its processes, without racing.
Delays are capped at MAX_DELAY so a bad tree can never hang a test.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

MAX_DELAY = 30.0


def _set_disposition(behaviour: str) -> None:
    # A trapping node blocks SIGTERM and takes it with sigtimedwait: no handler, so
    # none can be caught just before a sleep began and wait it out. Blocked, it must
    # not stay SIG_IGN (inherited from an ignoring parent): an ignored signal is
    # discarded even while blocked (signal(7)).
    how = signal.SIG_BLOCK if behaviour == "trap" else signal.SIG_UNBLOCK
    signal.pthread_sigmask(how, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, signal.SIG_IGN if behaviour == "ignore" else signal.SIG_DFL)


def _start(node: dict, unready: int) -> None:
    """Fork `node` (double-forked and in a new session if it detaches); return in the parent."""
    pid = os.fork()
    if pid:
        if node.get("detach"):
            # The middle process exits at once; reap it here so the only
            # thing the tree leaves for the init is the detached node itself.
            os.waitpid(pid, 0)
        return
    try:
        if node.get("detach"):
            os.setsid()
            if os.fork():
                os._exit(0)
        _live(node, unready)
    finally:
        os._exit(node.get("exit", 0) & 0xFF)


def _live(node: dict, unready: int, ready: int | None = None) -> None:
    """Be `node`. Every node holds `unready`, the write end of a pipe, until its own
    children are forked: the root's read of `ready` ends (EOF) once the whole tree is up."""
    exit_code = int(node.get("exit", 0)) & 0xFF
    behaviour = node.get("sigterm", "default")
    _set_disposition(behaviour)
    for child in node.get("children", ()):
        _start(child, unready)
    os.close(unready)
    if ready is not None:
        while os.read(ready, 1):
            pass
        os.close(ready)
        os.write(1, f"tree ready {os.getpid()}\n".encode())
    delay = node.get("delay")
    deadline = time.monotonic() + (MAX_DELAY if delay is None else min(float(delay), MAX_DELAY))
    while (left := deadline - time.monotonic()) > 0:
        if behaviour != "trap":
            time.sleep(left)
        elif signal.sigtimedwait({signal.SIGTERM}, left) is not None:
            break  # trapped: exit with its own status at once
    os._exit(exit_code)


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m pyinit.testing.tree_runner TREE_JSON")
    ready, unready = os.pipe()
    _live(json.loads(argv[0]), unready, ready)


if __name__ == "__main__":
    main(sys.argv[1:])
