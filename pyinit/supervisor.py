"""The init itself: set up, start the child, then wait for signals until it is over.

Two error phases, as catatonit has them. During set-up, fail loudly and stop:
nothing runs yet, so a one-line error and an exit status are the honest answer.
Once the child runs, never bail: a PID 1 that dies takes every process in the
container with it, so an unexpected error is logged and the loop goes on.
"""

import posix
import time

from . import log, reaper, signals, tree
from .config import EXIT_CANNOT_EXECUTE, EXIT_INTERNAL, EXIT_OK, EarlyExit
from .log import DEBUG, ERROR, INFO, TRACE, WARN

# After SIGKILL, how long to wait for the killed to be reaped before leaving
# anyway. SIGKILL cannot be caught, so only a process stuck in the kernel
# (uninterruptible sleep) outlasts this; as PID 1 the kernel kills it as we exit.
KILL_REAP_SECONDS = 2.0


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


def run(config) -> int:
    """Supervise config.command (or pause) and return the status pyinit exits with."""
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
    return _loop(state)


def _loop(state: _State) -> int:
    """Wait for a signal, act on it, until one of the actions says we are done."""
    errors_in_a_row = 0
    while True:
        try:
            signum = signals.wait(state.waited, state.time_left())
            if signum is None:
                done = _deadline_passed(state)
            elif signum == signals.SIGCHLD:
                done = _children_exited(state)
            else:
                done = _signal_received(state, signum)
            if done is not None:
                log.log(INFO, "exit", f"exiting with status {done}", status=done)
                return done
            errors_in_a_row = 0
        except Exception as error:  # noqa: BLE001 - phase two: warn and go on
            errors_in_a_row += 1
            log.log(ERROR, "internal_error", f"internal error, carrying on: {error!r}")
            if errors_in_a_row > 3:
                time.sleep(0.1)  # a repeating fault must not become a busy loop


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


# --- the loop's three answers -------------------------------------------------------


def _children_exited(state: _State):
    """SIGCHLD: reap everything that exited; see whether we are done."""
    config = state.config
    for pid, info in reaper.reap_zombies():
        if pid == state.child and state.status is None:
            status = reaper.exit_status(info)
            state.status = config.remap_exit.get(status, status)
            if state.pidfd is not None:
                posix.close(state.pidfd)
                state.pidfd = None
            log.log(INFO, "child_exited", f"main child {pid} ended ({reaper.describe(info)})",
                    pid=pid, status=state.status)
            if config.term_on_child_exit:
                _forward(state, config.rewrite.get(signals.SIGTERM, signals.SIGTERM))
        elif config.warn_on_reap:
            log.log(WARN, "reaped", f"reaped zombie process {pid} ({reaper.describe(info)})", pid=pid)
        elif log.enabled(INFO):
            log.log(INFO, "reaped", f"reaped process {pid} ({reaper.describe(info)})", pid=pid)
    if state.status is None:
        return None  # the main child (or pause mode) goes on
    return _after_main_exit(state)


def _after_main_exit(state: _State):
    """The main child is gone: end now, wait for the rest, or shut the rest down."""
    config = state.config
    _group_is_ours(state)  # notice an emptied group as soon as its last member is reaped
    if not reaper.has_children():
        return state.status
    if state.shutting_down or config.wait_all:
        return None
    if config.grace is None:
        return state.status  # as tini and catatonit: the kernel takes the rest
    _shut_down_the_rest(state)
    return None


def _signal_received(state: _State, signum: int):
    """Any other signal: forward it (rewritten), or let it end pause and shutdown."""
    config = state.config
    if signum in state.ignore_once:
        state.ignore_once.discard(signum)
        log.log(DEBUG, "ignored", f"ignoring tty hand-off signal {signals.name(signum)}")
        return None
    if state.child is None or state.status is not None:
        return _signal_without_child(state, signum)
    target = config.rewrite.get(signum, signum)
    if target == 0:
        log.log(INFO, "dropped", f"dropped {signals.name(signum)} (rewritten to 0)", signal=signum)
    else:
        _forward(state, target, signum)
        if signum in signals.TERMINATING and config.kill_after is not None and state.deadline is None:
            state.set_deadline(config.kill_after, "kill_child")
    if signum in signals.JOB_CONTROL and config.stop_self_on_job_control:
        log.log(DEBUG, "suspend", "suspending self after a job-control signal")
        posix.kill(posix.getpid(), signals.SIGSTOP)  # a no-op as PID 1 (pid_namespaces(7))
    return None


def _signal_without_child(state: _State, signum: int):
    """Pause mode, --wait-all, or the grace period: there is no main child to forward to."""
    if state.shutting_down:
        log.log(DEBUG, "ignored", f"ignoring {signals.name(signum)}: already shutting down")
        return None
    if state.child is None:  # pause mode ends cleanly on SIGTERM/SIGINT, as catatonit -P
        if signum not in (signals.SIGTERM, signals.SIGINT):
            log.log(DEBUG, "ignored", f"ignoring {signals.name(signum)} in pause mode")
            return None
        state.status = EXIT_OK
        return _after_main_exit(state)
    if signum in signals.TERMINATING:  # --wait-all, and we are asked to stop
        if state.config.grace is None:
            return state.status
        _shut_down_the_rest(state)
        return None
    target = state.config.rewrite.get(signum, signum)
    if target and state.group is not None:
        _forward(state, target, signum)  # what is left of the child's group
    return None


def _deadline_passed(state: _State):
    """A timer ran out: --kill-after, the grace, or the wait after SIGKILL."""
    action, state.deadline, state.on_deadline = state.on_deadline, None, None
    if action == "kill_child" and state.status is None:
        log.log(WARN, "kill_after", f"child still running {state.config.kill_after:g}s after the "
                "signal: sending SIGKILL")
        _forward(state, signals.SIGKILL)
    elif action == "kill_rest":
        _kill_the_rest(state)
    elif action == "give_up":
        log.log(WARN, "unreaped", "processes remain after SIGKILL; exiting anyway")
        return state.status
    return None


# --- forwarding and shutdown --------------------------------------------------------


def _forward(state: _State, signum: int, received=None) -> None:
    """Send signum where signals go: the child's group, or the child alone.

    The signal goes out first and the words for the log are made after: this is
    the path whose latency a user feels.
    """
    try:
        if state.group is not None and _group_is_ours(state):
            posix.killpg(state.group, signum)
            where = "group"
        elif state.pidfd is not None:
            signals.send_to_pidfd(state.pidfd, signum)
            where = "pid"
        elif state.status is None and state.child is not None:
            posix.kill(state.child, signum)
            where = "pid"
        else:
            log.log(DEBUG, "not_forwarded", f"not forwarding {_what(signum, received)}: the child has exited")
            return
        # The kernel often wakes the receiver on this CPU, where it waits until we
        # block again; yielding lets it run before our bookkeeping (sched_yield(2)).
        # Measured with initbench: forwarding latency p50 1.9x dumb-init's without, 1.3x with.
        posix.sched_yield()
    except ProcessLookupError:
        log.log(DEBUG, "not_forwarded", f"not forwarding {_what(signum, received)}: nobody is left to receive it")
        return
    except OSError as error:
        log.log(WARN, "forward_failed", f"forwarding {_what(signum, received)} failed: {error.strerror}")
        return
    if log.enabled(INFO):
        where = f"{where} {state.child}"
        log.log(INFO, "forwarded", f"forwarded {_what(signum, received)} to {where}", signal=signum,
                received=received, target=where)


def _what(signum: int, received) -> str:
    """SIGTERM, or SIGTERM as SIGQUIT when -r rewrote it."""
    if received is not None and received != signum:
        return f"{signals.name(received)} as {signals.name(signum)}"
    return signals.name(signum)


def _shut_down_the_rest(state: _State) -> None:
    """SIGTERM (and SIGCONT, so stopped ones can act on it) to the rest; SIGKILL after the grace."""
    state.shutting_down = True
    grace = state.config.grace
    if grace <= 0:
        _kill_the_rest(state)
        return
    log.log(INFO, "grace", f"main child gone: SIGTERM to the rest, SIGKILL in {grace:g}s", grace=grace)
    tree.signal_the_rest(signals.SIGTERM, state.is_pid1, _remaining_group(state))
    tree.signal_the_rest(signals.SIGCONT, state.is_pid1, _remaining_group(state))
    state.set_deadline(grace, "kill_rest")


def _kill_the_rest(state: _State) -> None:
    state.shutting_down = True
    log.log(INFO, "kill", "sending SIGKILL to the processes that are left")
    tree.signal_the_rest(signals.SIGKILL, state.is_pid1, _remaining_group(state))
    state.set_deadline(KILL_REAP_SECONDS, "give_up")


def _remaining_group(state: _State):
    # The child's group outlives the child while members remain, and its number
    # cannot be reused until then, so signalling it is safe (credentials(7)).
    if state.child is not None and state.config.child_isolation != "inherit" and _group_is_ours(state):
        return state.child
    return None


def _group_is_ours(state: _State) -> bool:
    """Whether the child's group number still names the child's group, and nobody else's.

    The number is the main child's pid. Unreaped (even as a zombie) the child holds
    it. Once reaped, the kernel keeps the number only while a member remains; after
    that it can go to a new process, which may lead a new group of that number
    (credentials(7)). So an empty group, or a live process with the dead child's
    pid, means the group is gone for good: stop signalling that number (the window
    between this check and the signal is one syscall, with pids handed out in order).
    """
    if state.child is None or state.status is None or state.group_lost:
        return not state.group_lost
    if _exists(posix.kill, state.child) or not _exists(posix.killpg, state.child):
        state.group_lost = True
        log.log(DEBUG, "group_gone", f"process group {state.child} is empty or its number reused: "
                "no longer signalled")
    return not state.group_lost


def _exists(kill, number: int) -> bool:
    try:
        kill(number, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # there, and not even ours to signal
    return True
