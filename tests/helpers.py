"""Constants and small helpers the tests share (importable as tests.helpers)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PY = sys.executable
PRINTER = [PY, "-m", "pyinit.testing.signal_printer"]


def unshare_prefix(mount_proc: bool = True) -> list[str]:
    """unshare argv for a new PID namespace, through a user namespace when not root."""
    prefix = ["unshare"]
    if os.geteuid() != 0:
        prefix += ["--user", "--map-root-user"]
    prefix += ["--pid", "--fork"]
    return prefix + (["--mount-proc"] if mount_proc else ["--mount"])


def sleeps_in_sigwait(pid: int) -> bool:
    """Whether pid sleeps in sigwait/sigwaitinfo/sigtimedwait now: the kernel's
    do_sigtimedwait (kernel/signal.c), as /proc/PID/wchan names it. For an init,
    that means its set-up is done and it waits in its loop."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text().startswith("do_sigtimedwait")
    except OSError:
        return False


def readme_section(heading: str) -> str:
    """The text of README.md's `## heading` section, up to the next `## ` heading."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def wait_until(predicate, timeout: float = 10.0, what: str = "", interval: float = 0.01):
    """Poll predicate() until it returns something true (and return that): a deadline, not a sleep."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate.__doc__ or predicate}")
        time.sleep(interval)
