"""Command line entry: choose the personality, parse, run, exit."""

import posix
import sys

from . import log, personalities, signals
from .config import EarlyExit


def main(argv=None) -> int:
    """Run pyinit as a program; never returns when argv is None (exits via _exit)."""
    args = sys.argv if argv is None else argv
    if len(args) > 1 and args[1] == "audit":  # the toolkit, kept off the runtime path
        from .audit import main as audit_main

        return _finish(audit_main(args[2:]), argv)
    # Block first: as PID 1 the kernel delivers SIGINT during start-up (Python has a
    # handler for it), and a KeyboardInterrupt would end the container. Blocked, it
    # waits in the kernel and is forwarded once the child runs.
    signals.block(signals.catchable_set(forward_faults=False))
    env = _environment()
    try:
        name, rest = personalities.choose(args[0] if args else "pyinit", args[1:], env)
        config = personalities.parse(name, rest, env)
    except EarlyExit as early:
        log.write(1 if early.stream == "stdout" else 2, early.message)
        return _finish(early.status, argv)
    from .supervisor import run

    return _finish(run(config), argv)


def _environment() -> dict:
    # posix.environ holds bytes; decode as os.environ does, without importing os.
    return {
        key.decode("utf-8", "surrogateescape"): value.decode("utf-8", "surrogateescape")
        for key, value in posix.environ.items()
    }


def _finish(status: int, argv) -> int:
    if argv is not None:
        return status  # called from Python: let the caller decide
    # As a program: flush, then _exit, skipping interpreter finalization (about
    # 1 ms of garbage collection and module teardown a PID 1 gains nothing from).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stdout must not change the status
            pass
    posix._exit(status)
    return status  # not reached
