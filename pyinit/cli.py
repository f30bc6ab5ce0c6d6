"""Command line entry: choose the personality, parse, run, exit."""

import gc
import posix
import sys

from . import log, signals
from .config import Config, EarlyExit

# Names that make pyinit one of its anchors when it is invoked under them (see
# personalities.MODULES, which this must match; a test checks that it does).
_ANCHOR_NAMES = ("tini", "dumb-init", "catatonit")


def main(argv=None) -> int:
    """Run pyinit as a program; never returns when argv is None (exits via _exit)."""
    args = sys.argv if argv is None else argv
    if argv is None:
        # Start-up allocates thousands of objects (modules, code, _ctypes' types) that
        # live as long as pyinit: collecting cycles among them finds nothing and cost
        # 0.15 to 0.3 ms here (initbench). Collection resumes once the child runs.
        gc.disable()
    if len(args) > 1 and args[1] == "audit":  # the toolkit, kept off the runtime path
        from .audit import main as audit_main

        return _finish(audit_main(args[2:]), argv)
    # Block first: as PID 1 the kernel delivers SIGINT during start-up (Python has a
    # handler for it), and a KeyboardInterrupt would end the container. Blocked, it
    # waits in the kernel and is forwarded once the child runs.
    signals.block(signals.catchable_set(forward_faults=False))
    try:
        config = _plain_command(args, posix.environ) or _parse(args)
    except EarlyExit as early:
        log.write(1 if early.stream == "stdout" else 2, early.message)
        return _finish(early.status, argv)
    from .supervisor import run

    return _finish(run(config, started=_collect_again if argv is None else None), argv)


def _collect_again() -> None:
    """The child runs: the cyclic collector may run again, past what start-up made.

    gc.freeze moves every object alive now out of the collector's generations, so
    later collections (a burst of reaping, a signal storm) never walk them again.
    """
    gc.freeze()
    gc.enable()


def _plain_command(args: list, environ):
    """The Config of `pyinit COMMAND ...` or `pyinit -- COMMAND ...`; None for anything else.

    The ENTRYPOINT form, with no option and no PYINIT_* variable, changes no
    default: it needs no parser, and not importing one (the personalities
    package and the getopt emulation) saves start-up a PID 1 pays every time.
    """
    if args and args[0].rsplit("/", 1)[-1] in _ANCHOR_NAMES:
        return None
    if any(key.startswith(b"PYINIT_") for key in environ):
        return None
    argv = args[1:]
    command = argv[1:] if argv[:1] == ["--"] else argv
    if command and (command is not argv or not argv[0].startswith("-")):
        return Config(command=tuple(command))
    return None


def _parse(args: list):
    """Anything else: the personality's own parser (options, --compat, PYINIT_*)."""
    from . import personalities

    env = _environment()
    name, rest = personalities.choose(args[0] if args else "pyinit", args[1:], env)
    return personalities.parse(name, rest, env)


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
