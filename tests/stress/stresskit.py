"""What the stress tests share: the figures they assert, and how they look at pyinit from outside.

FIGURES are the numbers the README's Reliability section quotes; test_figures_are_documented
keeps the two in step, so the README never claims more (or less) than the
suite checks. Everything here reads /proc as the host sees it: pyinit's memory,
open fds and pending signals, measured without touching it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import sleeps_in_sigwait, wait_until  # noqa: F401 - wait_until re-exported for the stress tests

PROGRAMS = Path(__file__).resolve().parent / "programs"
PY = sys.executable

# The figures: each is asserted by a test named after it, and quoted by the README's Reliability section.
FIGURES = {
    "orphans": 20_000,  # orphan storm: double-forked orphans, in bursts, while signals arrive
    "orphan_burst": 250,  # orphans alive at once, at most, per burst
    "storm_signals": 100_000,  # signal storm: SIGUSR1, SIGHUP, SIGWINCH and three RT signals
    "rt_each": 1_000,  # no signal lost: SIGRTMIN+1 and SIGRTMIN+2, interleaved, this many each
    "soak_children": 200_000,  # soak: short-lived children reaped over one run
    "rss_slack_kib": 1024,  # "memory flat": RSS after within 1 MiB of before
    "pids_max": 40,  # fork exhaustion: the pids cgroup's cap
    "nofile": 5,  # the smallest RLIMIT_NOFILE the interpreter starts with: 0-2 and two more
}

# Signals pyinit is sent by the storms; RT ones are queued, one entry per copy (signal(7)).
RT_MIX = (signal.SIGRTMIN, signal.SIGRTMIN + 5, signal.SIGRTMAX)
STANDARD_MIX = (signal.SIGUSR1, signal.SIGHUP, signal.SIGWINCH)
_RT_BITS = sum(1 << (n - 1) for n in range(signal.SIGRTMIN, signal.SIGRTMAX + 1))


def status_fields(pid: int) -> dict:
    """/proc/PID/status as a dict of strings."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def rss_kib(pid: int) -> int:
    return int(status_fields(pid)["VmRSS"].split()[0])


def wait_until_settled(pid: int) -> None:
    """Wait until pyinit sleeps in its loop's sigwait, its set-up done: the child it
    started may print "ready" before pyinit has opened its pidfd or finished its imports,
    so a "before" measured at once could miss them."""
    wait_until(lambda: sleeps_in_sigwait(pid), 30, "pyinit to finish its set-up and wait in its loop")


def open_fds(pid: int) -> list[str]:
    """What pid's open fds point to (readlink of /proc/PID/fd/*)."""
    found = []
    for name in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        try:
            found.append(f"{name}->{os.readlink(f'/proc/{pid}/fd/{name}')}")
        except OSError:
            pass  # closed while we looked
    return found


def pending_realtime(pid: int) -> bool:
    """Whether any real-time signal is queued for pid (process-wide or thread)."""
    fields = status_fields(pid)
    return bool((int(fields["ShdPnd"], 16) | int(fields["SigPnd"], 16)) & _RT_BITS)


def pending(pid: int, signums) -> bool:
    """Whether any of `signums` is pending for pid (process-wide or thread)."""
    fields = status_fields(pid)
    bits = int(fields["ShdPnd"], 16) | int(fields["SigPnd"], 16)
    return any(bits & (1 << (signum - 1)) for signum in signums)


def children_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(word) for word in children.read().split()]


def assert_no_traceback(*outputs: str) -> None:
    for text in outputs:
        assert "Traceback" not in text, text[-3000:]


@contextmanager
def signal_stream(send, signums, interval: float = 0.0005):
    """Call send(signum) over and over, cycling through signums, until the block ends.

    Yields a one-item list holding how many were sent. `send` should swallow
    ProcessLookupError itself if the target may end first.
    """
    sent = [0]
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            send(signums[sent[0] % len(signums)])
            sent[0] += 1
            if interval:
                time.sleep(interval)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield sent
    finally:
        stop.set()
        thread.join(10)


def orphan_maker(build_dir: Path) -> list[str]:
    """argv for the orphan generator: orphans.c compiled if a C compiler is found, else orphans.py."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler:
        binary = build_dir / "orphans"
        result = subprocess.run([compiler, "-O2", "-o", str(binary), str(PROGRAMS / "orphans.c")],
                                capture_output=True, text=True, timeout=120)
        if result.returncode == 0:
            return [str(binary)]
    return [PY, str(PROGRAMS / "orphans.py")]


# --- cgroups -------------------------------------------------------------------------


def _own_cgroup_dir(controller: str) -> Path | None:
    """Where a child cgroup of ours for `controller` goes: v1 hierarchy, else v2 (unified)."""
    with open("/proc/self/cgroup") as cgroups:
        lines = [line.rstrip("\n").split(":", 2) for line in cgroups]
    for _, controllers, path in lines:
        if controller in controllers.split(","):
            base = Path("/sys/fs/cgroup") / controller
            if (base / "cgroup.procs").exists():
                return base / path.lstrip("/")
    for hierarchy, _, path in lines:
        if hierarchy == "0":
            for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
                where = root / path.lstrip("/")
                try:
                    enabled = (where / "cgroup.subtree_control").read_text().split()
                except OSError:
                    continue
                if controller in enabled:
                    return where
    return None


@contextmanager
def pids_cgroup(limit: int):
    """A fresh pids cgroup capped at `limit`; yields its cgroup.procs path, removed afterwards.

    Raises LookupError with the reason when there is none to make (not root, no
    pids controller where we are).
    """
    if os.geteuid() != 0:
        raise LookupError("a pids cgroup needs root")
    parent = _own_cgroup_dir("pids")
    if parent is None:
        raise LookupError("no pids controller: neither a v1 pids hierarchy nor pids in v2 subtree_control")
    where = parent / f"pyinit-stress-{os.getpid()}-{time.monotonic_ns()}"
    try:
        where.mkdir()
        (where / "pids.max").write_text(str(limit))
    except OSError as error:
        raise LookupError(f"cannot make a pids cgroup under {parent}: {error}") from None
    try:
        yield where / "cgroup.procs"
    finally:
        # The namespace is gone by now; its processes leave the cgroup as they are reaped.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                where.rmdir()
                break
            except OSError:
                time.sleep(0.05)


# --- an unprivileged user ------------------------------------------------------------

NOBODY = 65534
_nobody_python: list | None = None


def as_nobody() -> list[str]:
    """setpriv prefix that runs a command as uid/gid 65534 with no groups or capabilities."""
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all"]


def python_for_nobody() -> str | None:
    """An interpreter uid 65534 can run that can import pyinit (through PYTHONPATH), or None.

    The test interpreter often lives under /root (mode 700); the system one then
    does, since pyinit's runtime is stdlib-only.
    """
    global _nobody_python
    if _nobody_python is None:
        _nobody_python = [None]
        if os.geteuid() == 0 and shutil.which("setpriv"):
            for candidate in (PY, "/usr/bin/python3"):
                # Through sh: the interpreter must be reachable by a process already running
                # as 65534 (setpriv's own exec of a path under /root can succeed where that fails).
                probe = subprocess.run(as_nobody() + ["sh", "-c", '"$0" -c "import pyinit.cli, pyinit.testing"',
                                                      candidate],
                                       env=nobody_env(), capture_output=True, timeout=30, cwd="/")
                if probe.returncode == 0:
                    _nobody_python = [candidate]
                    break
    return _nobody_python[0]


def nobody_env() -> dict:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(PROGRAMS.parent.parent.parent),
            "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/"}
