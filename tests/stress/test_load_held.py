"""Load held: orphan storms, signal storms, queued signals, and a long soak, with pyinit as PID 1.

Each test measures pyinit from outside (/proc as the host sees it) before and
after the load, and asserts the figures the README's Reliability section quotes (FIGURES).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter

import pytest

from pyinit.testing import run_in_namespace
from tests.stress.stresskit import (
    FIGURES,
    PROGRAMS,
    PY,
    RT_MIX,
    STANDARD_MIX,
    assert_no_traceback,
    children_of,
    open_fds,
    pending,
    pending_realtime,
    rss_kib,
    signal_stream,
    status_fields,
    wait_until,
    wait_until_settled,
)

pytestmark = [pytest.mark.stress, pytest.mark.usefixtures("namespaces")]

COUNTER = [PY, str(PROGRAMS / "counter.py")]
SLACK = FIGURES["rss_slack_kib"]


def _counts(stdout: str) -> Counter:
    line = next(line for line in stdout.splitlines() if line.startswith("counts "))
    return Counter({int(number): n for number, n in json.loads(line[len("counts "):]).items()})


def _drained(*pids: int, signums=()):
    # Nothing real-time (nor any of `signums`) left pending at pyinit or the child:
    # every copy was taken. Only then is SIGTERM sent: a signal still pending when
    # it arrives may be taken after it, since the lowest number goes first.
    return lambda: not any(pending_realtime(pid) or pending(pid, signums) for pid in pids)


def _realtime_queue_room() -> int:
    """Free entries in the real-time queue this user shares with every process it runs.

    RLIMIT_SIGPENDING counts queued signals per user, not per process (getrlimit(2)):
    the SigQ line of /proc/self/status is "queued/limit" for our user.
    """
    queued, limit = (int(n) for n in status_fields(os.getpid())["SigQ"].split("/"))
    return limit - queued


def test_orphan_storm_leaves_no_zombie_and_no_memory_growth(orphans):
    """pyinit should reap 20,000 orphans made in bursts while signals keep arriving, and not grow."""
    total, burst = FIGURES["orphans"], FIGURES["orphan_burst"]
    # Every 4th orphan sleeps up to 20 ms first: some exit at once, some later.
    with run_in_namespace(orphans + [str(total), str(burst), "4", "20000", "--wait-go"]) as ns:
        ns.wait_for_output("ready ")
        wait_until_settled(ns.pid)
        before = rss_kib(ns.pid)
        with signal_stream(ns.send_signal, STANDARD_MIX) as sent:
            ns.send_signal(signal.SIGUSR2)  # go
            out = ns.wait_for_output("done ", timeout=300)
        made, seconds = out.split("done ", 1)[1].split()[:2]
        wait_until(lambda: not ns.zombies(), 30, "pyinit to reap the last orphans")
        after = rss_kib(ns.pid)
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 143
    print(f"orphan storm: {made} orphans in {seconds}s ({int(made) / float(seconds):.0f}/s), "
          f"{sent[0]} signals sent meanwhile, RSS {before} -> {after} KiB")
    assert int(made) == total
    assert sent[0] >= 100, "the storm ended before signals could be sent during it"
    assert abs(after - before) <= SLACK, f"pyinit's RSS went from {before} to {after} KiB"
    assert ns.stderr == ""


def test_signal_storm_leaves_pyinit_responsive_with_flat_memory():
    """pyinit should forward 100,000 mixed signals, real-time ones each exactly once, and still stop on SIGTERM.

    Sent as fast as Python can, in batches of 1,200; between batches the test
    waits until no real-time signal is still queued. That bounds what sits in
    the per-user queue (RLIMIT_SIGPENDING, shared with every other process of
    ours): past it, kill(2) does not fail but silently merges real-time copies.
    """
    mix = STANDARD_MIX + RT_MIX
    total, batch = FIGURES["storm_signals"], 1200
    sent: Counter = Counter()
    with run_in_namespace(COUNTER) as ns:
        ns.wait_for_output("ready ")
        child = children_of(ns.pid)[0]
        wait_until_settled(ns.pid)
        before = rss_kib(ns.pid)
        started = time.monotonic()
        for start in range(0, total, batch):
            for index in range(start, min(total, start + batch)):
                signum = mix[index % len(mix)]
                ns.send_signal(signum)
                sent[signum] += 1
            wait_until(_drained(ns.pid, child), 30, "the real-time queue to drain", interval=0.0005)
        wait_until(_drained(ns.pid, child, signums=STANDARD_MIX), 30, "the last signals to be taken")
        seconds = time.monotonic() - started
        after = rss_kib(ns.pid)
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 143
    got = _counts(ns.stdout)
    print(f"signal storm: {total} signals in {seconds:.2f}s ({total / seconds:.0f}/s), "
          f"RSS {before} -> {after} KiB, received {dict(got)}")
    assert sum(sent.values()) == total
    for signum in RT_MIX:
        assert got[signum] == sent[signum], f"{signal.Signals(signum).name if signum < 32 else signum}"
    for signum in STANDARD_MIX:
        assert 1 <= got[signum] <= sent[signum], signal.Signals(signum).name
    assert abs(after - before) <= SLACK, f"pyinit's RSS went from {before} to {after} KiB"
    assert_no_traceback(ns.stderr)
    assert ns.stderr == ""


def test_every_realtime_signal_reaches_the_child_exactly_once():
    """pyinit should forward each queued copy of SIGRTMIN+1 and SIGRTMIN+2, sent interleaved, once.

    Copies of one number reach the child in the order pyinit took them, which
    is the order they were queued (FIFO per number, signal(7)); each is
    forwarded by kill(2), so the copies carry pyinit's pid and are otherwise
    identical. Across numbers the kernel hands out the lowest pending one first,
    so the interleaving is not kept: the sequence is recorded, not compared.
    """
    each = FIGURES["rt_each"]
    one, two = signal.SIGRTMIN + 1, signal.SIGRTMIN + 2
    if _realtime_queue_room() < 4 * each + 1000:
        pytest.skip(f"RLIMIT_SIGPENDING leaves room for fewer than {4 * each} queued signals")
    with run_in_namespace(COUNTER + ["--sequence"]) as ns:
        ns.wait_for_output("ready ")
        child = children_of(ns.pid)[0]
        for _ in range(each):
            ns.send_signal(one)
            ns.send_signal(two)
        wait_until(_drained(ns.pid, child), 30, "every real-time copy to be taken")
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 143
    assert _counts(ns.stdout) == Counter({one: each, two: each})
    sequence = next(line for line in ns.stdout.splitlines() if line.startswith("sequence ")).split()[1:]
    assert Counter(map(int, sequence)) == Counter({one: each, two: each})
    assert ns.stderr == ""


STANDARD_SIGNALS = [
    signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGPIPE,
    signal.SIGALRM, signal.SIGCONT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGURG,
    signal.SIGXCPU, signal.SIGXFSZ, signal.SIGVTALRM, signal.SIGPROF, signal.SIGWINCH, signal.SIGIO,
    signal.SIGPWR,
]


def test_standard_signals_may_coalesce_but_each_arrives_at_least_once():
    """pyinit should deliver at least one of each standard signal sent in a burst (copies may merge).

    A standard signal is a pending bit, not a queue (signal(7)): twenty copies sent
    while one is pending become one, at pyinit or at the child.
    """
    copies = 20
    with run_in_namespace(COUNTER) as ns:
        ns.wait_for_output("ready ")
        # SIGCONT and the stop signals cancel each other while pending (signal(7),
        # POSIX): a SIGCONT followed at once by a SIGTSTP can vanish. So SIGCONT
        # gets a burst of its own, after the others have been taken.
        for burst in ([s for s in STANDARD_SIGNALS if s != signal.SIGCONT], [signal.SIGCONT]):
            for _ in range(copies):
                for signum in burst:
                    ns.send_signal(signum)
            wait_until(_drained(ns.pid, children_of(ns.pid)[0], signums=burst), 30, "the burst to be taken")
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 143
    got = _counts(ns.stdout)
    for signum in STANDARD_SIGNALS:
        assert 1 <= got[signum] <= copies, f"{signal.Signals(signum).name}: {got[signum]}"
    assert ns.stderr == ""


def test_soak_reaps_200000_children_with_flat_memory_and_fds(orphans):
    """pyinit should reap 200,000 short-lived children and end with the RSS and fds it started with."""
    total = FIGURES["soak_children"]
    with run_in_namespace(orphans + [str(total), str(FIGURES["orphan_burst"]), "0", "0", "--wait-go"]) as ns:
        ns.wait_for_output("ready ")
        wait_until_settled(ns.pid)
        before, fds_before = rss_kib(ns.pid), open_fds(ns.pid)
        ns.send_signal(signal.SIGUSR2)
        out = ns.wait_for_output("done ", timeout=600)
        made, seconds = out.split("done ", 1)[1].split()[:2]
        wait_until(lambda: not ns.zombies(), 30, "pyinit to reap the last children")
        after, fds_after = rss_kib(ns.pid), open_fds(ns.pid)
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 143
    print(f"soak: {made} children in {seconds}s ({int(made) / float(seconds):.0f}/s), "
          f"RSS {before} -> {after} KiB, fds {fds_before}")
    assert int(made) == total
    assert fds_after == fds_before
    assert abs(after - before) <= SLACK, f"pyinit's RSS went from {before} to {after} KiB"
    assert ns.stderr == ""
