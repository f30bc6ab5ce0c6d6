"""Properties over drawn process trees: whatever the tree does, pyinit ends it and keeps the root's status."""

from __future__ import annotations

import signal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyinit.testing import run_in_namespace
from pyinit.testing.plugin import require_namespaces
from pyinit.testing.strategies import expected_status, process_trees, tree_command, tree_size

from .waiting import poll

# Each example starts a namespace and up to ~15 processes: keep the count modest.
TREE_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GRACE = "0.3"


def _depth(tree: dict) -> int:
    return 1 + max((_depth(child) for child in tree["children"]), default=0)


@settings(max_examples=200, deadline=None)
@given(tree=process_trees(max_depth=2, max_width=3, max_delay=0.5))
def test_drawn_trees_stay_within_their_bounds(tree):
    assert _depth(tree) <= 3 and tree_size(tree) <= 1 + 3 + 9
    assert tree["detach"] is False and tree["delay"] <= 0.3

    def check(node):
        assert 0 <= node["exit"] <= 255 and 0 <= node["delay"] <= 0.5
        assert node["sigterm"] in ("default", "trap", "ignore") and len(node["children"]) <= 3
        for child in node["children"]:
            check(child)

    check(tree)


def test_tree_runner_starts_every_process_of_the_tree():
    """The runner is faithful: a tree of 5 nodes (one detached) is 5 processes under the init."""
    require_namespaces()
    forever = {"delay": 20, "sigterm": "ignore", "exit": 0, "children": []}
    tree = {"exit": 0, "delay": 20, "sigterm": "trap", "detach": False, "children": [
        dict(forever, detach=True, children=[dict(forever, detach=False)]),
        dict(forever, detach=False, children=[dict(forever, detach=True)]),
    ]}
    with run_in_namespace(tree_command(tree)) as ns:
        ns.wait_for_output("tree ready")
        processes = poll(lambda: len(ns.processes()) == 1 + tree_size(tree) and ns.processes())
        # The detached ones were orphaned at once: pyinit (PID 1) is their parent.
        assert sum(p.ppid() == ns.pid for p in processes) == 3
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 0  # the root traps SIGTERM and exits 0; pyinit ends the rest


@TREE_SETTINGS
@given(tree=process_trees())
def test_for_any_tree_pyinit_as_pid1_exits_with_the_roots_status(tree):
    require_namespaces()
    with run_in_namespace(tree_command(tree), init_args=["--grace", GRACE]) as ns:
        assert ns.wait(60) == expected_status(tree, sigterm_sent=False), ns.stderr


@TREE_SETTINGS
@given(tree=process_trees())
def test_for_any_tree_nothing_is_left_after_pyinit_exits(tree):
    """pyinit as a subreaper under a bare PID 1: when it exits, the namespace holds nothing of the tree."""
    require_namespaces()
    with run_in_namespace(tree_command(tree), init_args=["--grace", GRACE], report_leftovers=True) as ns:
        assert ns.wait(60) == expected_status(tree, sigterm_sent=False), ns.stderr
        ns.assert_nothing_left()


@TREE_SETTINGS
@given(tree=process_trees(root_delay=None), below=st.booleans())
def test_for_any_tree_sigterm_ends_it_with_the_roots_status(tree, below):
    """SIGTERM to pyinit: the root's own answer decides the status (143, its code, or 137 by --kill-after)."""
    require_namespaces()
    options = ["--grace", GRACE, "--kill-after", "1"]
    with run_in_namespace(tree_command(tree), init_args=options, report_leftovers=below) as ns:
        ns.wait_for_output("tree ready", timeout=30)
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(60) == expected_status(tree, sigterm_sent=True), ns.stderr
        if below:
            ns.assert_nothing_left()
