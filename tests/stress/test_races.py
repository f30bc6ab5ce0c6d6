"""Races: exits and signals landing on the same moment, explored by hypothesis over timings.

The child (programs/timing.py) exits, and has its orphans exit, on a schedule
drawn by hypothesis; the test sends signals on another. Where they meet:
the main child exiting as a signal arrives, SIGCHLD arriving while pyinit is
forwarding, several children exiting in one instant. Whatever the order,
pyinit must end with the status the race allows, reap everyone, and say nothing.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyinit.testing import run_in_namespace
from tests.stress.stresskit import PROGRAMS, PY, assert_no_traceback

pytestmark = [pytest.mark.stress, pytest.mark.usefixtures("namespaces")]

TIMING = [PY, str(PROGRAMS / "timing.py")]
IGNORED = [signal.SIGUSR1, signal.SIGHUP, signal.SIGWINCH, signal.SIGRTMIN + 1]
RACE = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

milliseconds = st.floats(min_value=0, max_value=25, allow_nan=False)
schedules = st.fixed_dictionaries({
    "code": st.integers(min_value=0, max_value=255),
    "exit_ms": milliseconds,
    "orphans": st.lists(milliseconds, max_size=6),
    "together": st.booleans(),
})


def _run(spec: dict, signal_ms: float, signums: list[int], init_args=()) -> tuple[int, str, float]:
    with run_in_namespace(TIMING + [json.dumps(spec)], init_args=list(init_args)) as ns:
        ns.wait_for_output("ready\n")
        time.sleep(signal_ms / 1000)
        for signum in signums:
            ns.send_signal(signum)
        started = time.monotonic()
        status = ns.wait(30)
        return status, ns.stderr, time.monotonic() - started


@RACE
@given(spec=schedules, signal_ms=milliseconds,
       signums=st.lists(st.sampled_from(IGNORED + [signal.SIGTERM]), min_size=1, max_size=12))
def test_main_child_exit_racing_a_signal_gives_the_status_the_race_allows(spec, signal_ms, signums):
    """The child's own status if it exited first, 143 if a SIGTERM reached it first; nothing else."""
    status, stderr, _ = _run(spec, signal_ms, signums)
    allowed = {spec["code"]} | ({143} if signal.SIGTERM in signums else set())
    assert status in allowed, f"status {status}, expected one of {allowed}"
    assert_no_traceback(stderr)
    assert stderr == ""


@RACE
@given(spec=schedules, signal_ms=milliseconds,
       signums=st.lists(st.sampled_from(IGNORED), min_size=1, max_size=30))
def test_every_exit_is_reaped_while_signals_are_being_forwarded(spec, signal_ms, signums):
    """With --wait-all pyinit ends only once all are reaped: a SIGCHLD lost mid-forward would hang it.

    SIGCHLD coalesces (one pending bit for many exits, signal(7)), so it is the
    waitid loop, not the signal count, that must find every exit, including the
    ones that land while pyinit is busy forwarding, and the ones in one instant.
    """
    status, stderr, took = _run(spec, signal_ms, signums, init_args=["--wait-all"])
    assert status == spec["code"]
    assert took < 10, f"pyinit took {took:.1f}s to notice the last exit"
    assert_no_traceback(stderr)
    assert stderr == ""


@RACE
@given(code=st.integers(min_value=0, max_value=255), orphans=st.integers(min_value=1, max_value=8),
       signal_ms=milliseconds, signums=st.lists(st.sampled_from(IGNORED), max_size=10))
def test_children_exiting_in_the_same_instant_as_the_main_child(code, orphans, signal_ms, signums):
    """pyinit should take the main child's status when orphans exit in the very same instant."""
    spec = {"code": code, "exit_ms": 0, "orphans": [0] * orphans, "together": True}
    status, stderr, _ = _run(spec, signal_ms, signums)
    assert status == code
    assert_no_traceback(stderr)
    assert stderr == ""
