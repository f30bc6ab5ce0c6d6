"""The init itself: set up, start the child, then wait for signals until it is over.

Two error phases, as catatonit has them. During set-up, fail loudly and stop:
nothing runs yet, so a one-line error and an exit status are the honest answer.
Once the child runs, never bail: a PID 1 that dies takes every process in the
container with it, so an unexpected error is logged and the loop goes on.

The loop's answers live beside it: forwarding (a signal for the child) and
shutdown (children exited, a deadline passed, the rest after the main child).
"""

import posix

from . import log, signals
from .config import EXIT_CANNOT_EXECUTE, EXIT_INTERNAL, KILL_REAP_SECONDS, EarlyExit
from .log import DEBUG, ERROR, INFO, TRACE, WARN

# What the loop does with a signal, imported once the child has started
# (_import_the_rest): nothing before the spawn needs it, so on a 2-core machine
# that work overlaps the child's own exec instead of delaying it (each import
# costs about 0.1 ms of start-up, initbench).
forwarding = shutdown = time = None


class _State:
    """Everything the loop changes, in one place."""

    __slots__ = ("config", "is_pid1", "child", "pidfd", "group", "status", "waited",
                 "deadline", "on_deadline", "ignore_once", "shutting_down", "group_lost")

    def __init__(self, config, is_pid1: bool) -> None:
        self.config, self.is_pid1 = config, is_pid1
        self.child = self.pidfd = self.group = self.status = None
        self.waited = signals.catchable_set(config.forward_faults)
        self.deadline = self.on_deadline = None
        self.ignore_once = set()
        self.shutting_down = False
        self.group_lost = False  # the child's group number may be a stranger's: never signal it

    def time_left(self):
        return None if self.deadline is None else self.deadline - time.monotonic()

    def set_deadline(self, seconds: float, action: str) -> None:
        self.deadline, self.on_deadline = time.monotonic() + seconds, action


def run(config, started=None) -> int:
    """Supervise config.command (or pause) and return the status pyinit exits with.

    `started` is called once the child runs and the loop is ready (cli resumes
    garbage collection there).
    """
    log.configure(config.log_style, config.verbosity)
    state = _State(config, posix.getpid() == 1)
    try:
        _set_up(state)
    except EarlyExit as error:
        log.log(ERROR, "setup_failed", error.message.rstrip("\n"))
        status = config.remap_exit.get(error.status, error.status)
        # As after any other ending, so -v tells the status here too (tini -vv does).
        log.log(INFO, "exit", f"exiting with status {status}", status=status)
        return status
    return _loop(state, started)


def _loop(state: _State, started=None) -> int:
    """Wait for a signal, act on it, until one of the actions says we are done."""
    try:
        _import_the_rest()
    except Exception as error:  # noqa: BLE001 - pyinit itself is incomplete: set-up failed after all
        return _abandon(state, f"cannot load its own modules: {error}")
    if started is not None:
        started()
    errors_in_a_row = 0
    while True:
        try:
            signum = signals.wait(state.waited, state.time_left())
            if signum is None:
                done = shutdown.deadline_passed(state)
            elif signum == signals.SIGCHLD:
                done = shutdown.children_exited(state)
            else:
                done = forwarding.signal_received(state, signum)
            if done is not None:
                log.log(INFO, "exit", f"exiting with status {done}", status=done)
                return done
            errors_in_a_row = 0
        except Exception as error:  # noqa: BLE001 - phase two: warn and go on
            errors_in_a_row += 1
            log.log(ERROR, "internal_error", f"internal error, carrying on: {error!r}")
            if errors_in_a_row > 3:
                time.sleep(0.1)  # a repeating fault must not become a busy loop


def _import_the_rest() -> None:
    global forwarding, shutdown, time
    import time

    from . import forwarding, shutdown


def _abandon(state: _State, reason: str) -> int:
    """A failure of set-up found once the child runs (a broken install): without the
    loop nothing would forward or reap, so stop the child, reap it, and exit as set-up does."""
    log.log(ERROR, "setup_failed", f"{reason}; stopping the child")
    if state.child is None:
        return EXIT_INTERNAL
    try:
        if state.group is not None:
            posix.killpg(state.group, signals.SIGKILL)
        else:
            posix.kill(state.child, signals.SIGKILL)
        # At most KILL_REAP_SECONDS, as after any SIGKILL: a child stuck in the kernel
        # must not hang PID 1.
        for _ in range(int(KILL_REAP_SECONDS / 0.1)):
            if posix.waitid(posix.P_PID, state.child, posix.WEXITED | posix.WNOHANG) is not None:
                break
            signals.wait(frozenset((signals.SIGCHLD,)), 0.1)
    except OSError:
        pass  # already gone (ESRCH, ECHILD): nothing left to stop
    return EXIT_INTERNAL


# --- set-up (phase one: any failure is an EarlyExit) -------------------------------


def _set_up(state: _State) -> None:
    config = state.config
    parent = posix.getppid()
    if not state.is_pid1:
        _become_reaper(config)
    if config.pdeathsig is not None:
        _set_pdeathsig(config.pdeathsig, parent)
    user = _resolve_user(config.user) if config.user is not None else None
    ignored = signals.inherited_ignores() if not config.reset_inherited_signals else frozenset()
    original_mask = signals.block(state.waited)
    if config.pause:
        log.log(INFO, "pause", "pause mode: reaping, and waiting for SIGTERM or SIGINT")
        return
    if config.child_isolation == "session" and posix.isatty(0):
        _detach_from_tty(state)
    from .spawn import spawn  # not needed in pause mode

    state.child = spawn(config, original_mask, ignored, user)
    if config.child_isolation != "inherit" and config.forward_to_group:
        state.group = state.child  # the child leads its own group (or session)
    try:
        state.pidfd = posix.pidfd_open(state.child)  # O_CLOEXEC: never leaks
    except (AttributeError, OSError):
        state.pidfd = None  # kernel < 5.3: signal by pid while the child is unreaped
    if config.chdir_root:
        posix.chdir("/")
    log.log(INFO, "spawned", f"started {config.command[0]!r} as pid {state.child}",
            child=state.child, command=list(config.command))


def _become_reaper(config) -> None:
    if config.subreaper:
        from . import _linux

        try:
            _linux.set_child_subreaper()
            log.log(TRACE, "subreaper", "registered as child subreaper")
            return
        except OSError as error:
            if config.subreaper_required:
                raise EarlyExit(EXIT_INTERNAL, f"cannot register as child subreaper: {error.strerror}") from None
            log.log(WARN, "subreaper_failed", f"cannot register as child subreaper: {error.strerror}")
    if config.warn_not_reaper:
        log.log(WARN, "not_a_reaper",
                "not PID 1 and not a child subreaper: orphaned processes will not be reaped; "
                "run it as PID 1, or let it register as a child subreaper (-s)")


def _set_pdeathsig(signum: int, parent_at_start: int) -> None:
    from . import _linux

    try:
        _linux.set_pdeathsig(signum)
    except OSError as error:
        raise EarlyExit(EXIT_INTERNAL, f"cannot set parent-death signal: {error.strerror}") from None
    if posix.getppid() != parent_at_start:
        # Our parent died before prctl: the kernel will never send it, so do it.
        posix.kill(posix.getpid(), signum)


def _resolve_user(spec: str):
    from .privileges import resolve

    try:
        return resolve(spec)
    except (LookupError, OSError) as error:
        reason = error.args[0] if isinstance(error, LookupError) else error.strerror
        raise EarlyExit(EXIT_CANNOT_EXECUTE, f"cannot run as '{spec}': {reason}") from None


def _detach_from_tty(state: _State) -> None:
    """Let the child's new session take the terminal (TIOCNOTTY, tty_ioctl(4)).

    When the session leader gives up its terminal, the kernel sends SIGHUP and
    SIGCONT to the foreground group, which is us: ignore the first of each so
    they do not end the child (dumb-init #136).
    """
    import fcntl
    import termios

    try:
        fcntl.ioctl(0, termios.TIOCNOTTY)
    except OSError as error:
        log.log(DEBUG, "tty", f"cannot detach from the controlling tty: {error.strerror}")
        return
    if posix.getsid(0) == posix.getpid() and state.config.ignore_tty_handoff:
        log.log(DEBUG, "tty", "detached from the controlling tty; ignoring the first SIGHUP and SIGCONT")
        state.ignore_once.update((signals.SIGHUP, signals.SIGCONT))
