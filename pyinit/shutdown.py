"""The end: reap what exited, and once the main child is gone, finish or shut the rest down.

pyinit exits with the main child's status. What is left of its tree gets
SIGTERM (and SIGCONT), then SIGKILL after the grace, and pyinit reaps until
nobody is left or the wait after SIGKILL runs out: nothing it started outlives
it silently.
"""

import posix

from . import forwarding, log, reaper, signals, tree
from .config import EXIT_OK, KILL_REAP_SECONDS
from .log import DEBUG, INFO, WARN


def children_exited(state):
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
                forwarding.forward(state, config.rewrite.get(signals.SIGTERM, signals.SIGTERM))
        elif config.warn_on_reap:
            log.log(WARN, "reaped", f"reaped zombie process {pid} ({reaper.describe(info)})", pid=pid)
        elif log.enabled(INFO):
            log.log(INFO, "reaped", f"reaped process {pid} ({reaper.describe(info)})", pid=pid)
    if state.status is None:
        return None  # the main child (or pause mode) goes on
    return after_main_exit(state)


def after_main_exit(state):
    """The main child is gone: end now, wait for the rest, or shut the rest down."""
    config = state.config
    forwarding.group_is_ours(state)  # notice an emptied group as soon as its last member is reaped
    if not reaper.has_children():
        return state.status
    if state.shutting_down or config.wait_all:
        return None
    if config.grace is None:
        return state.status  # as tini and catatonit: the kernel takes the rest
    shut_down_the_rest(state)
    return None


def signal_without_child(state, signum: int):
    """Pause mode, --wait-all, or the grace period: there is no main child to forward to."""
    if state.shutting_down:
        log.log(DEBUG, "ignored", f"ignoring {signals.name(signum)}: already shutting down")
        return None
    if state.child is None:  # pause mode ends cleanly on SIGTERM/SIGINT, as catatonit -P
        if signum not in (signals.SIGTERM, signals.SIGINT):
            log.log(DEBUG, "ignored", f"ignoring {signals.name(signum)} in pause mode")
            return None
        state.status = EXIT_OK
        return after_main_exit(state)
    if signum in signals.TERMINATING:  # --wait-all, and we are asked to stop
        if state.config.grace is None:
            return state.status
        shut_down_the_rest(state)
        return None
    target = state.config.rewrite.get(signum, signum)
    if target and state.group is not None:
        forwarding.forward(state, target, signum)  # what is left of the child's group
    return None


def deadline_passed(state):
    """A timer ran out: --kill-after, the grace, or the wait after SIGKILL."""
    action, state.deadline, state.on_deadline = state.on_deadline, None, None
    if action == "kill_child" and state.status is None:
        log.log(WARN, "kill_after", f"child still running {state.config.kill_after:g}s after the "
                "signal: sending SIGKILL")
        forwarding.forward(state, signals.SIGKILL)
    elif action == "kill_rest":
        kill_the_rest(state)
    elif action == "give_up":
        log.log(WARN, "unreaped", "processes remain after SIGKILL; exiting anyway")
        return state.status
    return None


def shut_down_the_rest(state) -> None:
    """SIGTERM (and SIGCONT, so stopped ones can act on it) to the rest; SIGKILL after the grace."""
    state.shutting_down = True
    grace = state.config.grace
    if grace <= 0:
        kill_the_rest(state)
        return
    log.log(INFO, "grace", f"main child gone: SIGTERM to the rest, SIGKILL in {grace:g}s", grace=grace)
    tree.signal_the_rest(signals.SIGTERM, state.is_pid1, remaining_group(state))
    tree.signal_the_rest(signals.SIGCONT, state.is_pid1, remaining_group(state))
    state.set_deadline(grace, "kill_rest")


def kill_the_rest(state) -> None:
    state.shutting_down = True
    log.log(INFO, "kill", "sending SIGKILL to the processes that are left")
    tree.signal_the_rest(signals.SIGKILL, state.is_pid1, remaining_group(state))
    state.set_deadline(KILL_REAP_SECONDS, "give_up")


def remaining_group(state):
    # The child's group outlives the child while members remain, and its number
    # cannot be reused until then, so signalling it is safe (credentials(7)).
    if state.child is not None and state.config.child_isolation != "inherit" and forwarding.group_is_ours(state):
        return state.child
    return None
