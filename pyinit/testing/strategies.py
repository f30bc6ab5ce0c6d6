"""Hypothesis strategies for process trees, run by `pyinit.testing.tree_runner`.

    from hypothesis import given, settings
    from pyinit.testing.strategies import process_trees, tree_command

    @settings(max_examples=10, deadline=None)
    @given(tree=process_trees())
    def test_status_is_the_roots(pid1, tree):
        ns = pid1(tree_command(tree))
        assert ns.wait(30) == tree["exit"]

Imports hypothesis, so import this module only from tests that use it.
"""

from __future__ import annotations

import json
import sys

from hypothesis import strategies as st

__all__ = ["expected_status", "process_trees", "tree_command", "tree_size"]

SIGTERM_BEHAVIOURS = ("default", "trap", "ignore")


@st.composite
def _node(draw, depth: int, max_width: int, max_delay: float, behaviours, detach: bool) -> dict:
    width = draw(st.integers(0, max_width)) if depth > 0 else 0
    return {
        "exit": draw(st.integers(0, 255)),
        "delay": draw(st.floats(0.0, max_delay, allow_nan=False).map(lambda d: round(d, 3))),
        "sigterm": draw(st.sampled_from(behaviours)),
        "detach": draw(st.booleans()) if detach else False,
        "children": [
            draw(_node(depth - 1, max_width, max_delay, behaviours, detach)) for _ in range(width)
        ],
    }


def process_trees(
    max_depth: int = 3,
    max_width: int = 3,
    max_delay: float = 0.5,
    sigterm=SIGTERM_BEHAVIOURS,
    detach: bool = True,
    root_delay: float | None = 0.3,
) -> st.SearchStrategy[dict]:
    """Trees of processes: depth, width, and for each node its exit status, how long
    it lives, whether it detaches (double-fork + setsid) and what SIGTERM does to it.

    The root never detaches (it is the init's main child). `root_delay` caps how
    long the root lives; None makes the root live until a signal ends it (for
    tests that send SIGTERM). Sizes stay small: at most
    1 + w + w**2 + ... + w**depth processes.
    """
    behaviours = tuple(sigterm)

    @st.composite
    def tree(draw) -> dict:
        depth = draw(st.integers(0, max_depth))
        root = draw(_node(depth, max_width, max_delay, behaviours, detach))
        root["detach"] = False
        if root_delay is None:
            root["delay"] = None
        else:
            root["delay"] = min(root["delay"], root_delay)
        return root

    return tree()


def tree_command(tree: dict, python: str | None = None) -> list[str]:
    """The argv that runs `tree` (the root is this process; it prints `tree ready PID`)."""
    return [python or sys.executable, "-m", "pyinit.testing.tree_runner", json.dumps(tree)]


def tree_size(tree: dict) -> int:
    """How many processes the tree has."""
    return 1 + sum(tree_size(child) for child in tree.get("children", ()))


def expected_status(tree: dict, sigterm_sent: bool, kill_after: bool = True) -> int:
    """The root's own exit status: what an init must exit with.

    Without SIGTERM the root exits with its code. With SIGTERM (sent while the
    root lives, its delay None): default dies of it (143); trap exits with its
    code; ignore lives on until SIGKILL (137, with --kill-after).
    """
    if not sigterm_sent:
        return tree["exit"]
    behaviour = tree["sigterm"]
    if behaviour == "default":
        return 128 + 15
    if behaviour == "trap":
        return tree["exit"]
    return 128 + 9 if kill_after else tree["exit"]
