"""Reap every exited child, whoever it was; the one place in pyinit that waits."""

import posix

from .config import EXIT_SIGNAL_BASE
from .signals import name as signal_name

# waitid(2) without WNOWAIT reaps; WNOHANG returns None when children remain
# but none has exited. WSTOPPED/WCONTINUED are not asked for: a stopped child
# is not an exit, as in tini, dumb-init and catatonit.
_FLAGS = posix.WEXITED | posix.WNOHANG


def reap_zombies():
    """Yield (pid, siginfo) for each exited child until none is left to reap.

    SIGCHLD is a standard signal, so many exits can arrive as one (signal(7)):
    the loop, not the signal count, is what guarantees no zombie is left behind.
    Returns quietly on ECHILD (no children at all), a normal case for an init.
    """
    while True:
        try:
            info = posix.waitid(posix.P_ALL, 0, _FLAGS)
        except ChildProcessError:
            return  # ECHILD: no children left at all
        except InterruptedError:
            continue  # EINTR: cannot happen with signals blocked, but harmless
        if info is None or info.si_pid == 0:
            return  # children remain, none has exited (WNOHANG)
        yield info.si_pid, info


def has_children() -> bool:
    """True while any child (ours or reparented to us) still exists."""
    try:
        posix.waitid(posix.P_ALL, 0, posix.WEXITED | posix.WNOHANG | posix.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def exit_status(info) -> int:
    """The shell's status for a waitid result: the exit code, or 128+N if killed by N."""
    if info.si_code == posix.CLD_EXITED:
        return info.si_status & 0xFF
    return (EXIT_SIGNAL_BASE + info.si_status) & 0xFF


def describe(info) -> str:
    """'exit 3' or 'killed by SIGTERM', for logs."""
    if info.si_code == posix.CLD_EXITED:
        return f"exit {info.si_status}"
    return f"killed by {signal_name(info.si_status)}"
