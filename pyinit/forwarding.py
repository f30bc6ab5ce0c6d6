"""A signal arrived while the child runs: forward it where signals go, rewritten.

The kill comes first and the words for the log after, and the CPU is yielded
right after it: this is the path whose latency a user feels (initbench measures it).
"""

import posix

from . import log, signals
from .log import DEBUG, INFO, WARN


def signal_received(state, signum: int):
    """Any other signal: forward it (rewritten), or let it end pause and shutdown."""
    config = state.config
    if signum in state.ignore_once:
        state.ignore_once.discard(signum)
        log.log(DEBUG, "ignored", f"ignoring tty hand-off signal {signals.name(signum)}")
        return None
    if state.child is None or state.status is not None:
        from . import shutdown  # imported by then (supervisor._import_the_rest): a dict lookup

        return shutdown.signal_without_child(state, signum)
    target = config.rewrite.get(signum, signum)
    if target == 0:
        log.log(INFO, "dropped", f"dropped {signals.name(signum)} (rewritten to 0)", signal=signum)
    else:
        forward(state, target, signum)
        if signum in signals.TERMINATING and config.kill_after is not None and state.deadline is None:
            state.set_deadline(config.kill_after, "kill_child")
    if signum in signals.JOB_CONTROL and config.stop_self_on_job_control:
        log.log(DEBUG, "suspend", "suspending self after a job-control signal")
        posix.kill(posix.getpid(), signals.SIGSTOP)  # a no-op as PID 1 (pid_namespaces(7))
    return None


def forward(state, signum: int, received=None) -> None:
    """Send signum where signals go: the child's group, or the child alone.

    The signal goes out first and the words for the log are made after: this is
    the path whose latency a user feels.
    """
    try:
        # While the main child is unreaped its group is surely its own: no check needed.
        if state.group is not None and (state.status is None or group_is_ours(state)):
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
        # On 2 cores it took p50 forwarding latency from 1.9x dumb-init's to 1.3x (a C
        # receiver, 2,000 signals); with sigwait, initbench then measured about 1.0x as PID 1.
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


def group_is_ours(state) -> bool:
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
