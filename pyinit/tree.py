"""Find and signal "the rest": every process left once the main child is gone.

As PID 1 that is everyone else in the namespace: kill(-1, sig) reaches them all
and never pyinit itself (kill(2)). As a subreaper, kill(-1) would hit the whole
host, so the rest is what pyinit can find: the child's process group, and its
descendants read from /proc. Each found pid is opened as a pidfd and checked
again *after* opening, so a pid that exited and was reused between the scan and
the signal is never hit (pidfd_open(2)).
"""

import posix

from . import signals

_MAX_PASSES = 16  # a tree that keeps forking faster than we scan is bounded by this


def signal_the_rest(signum: int, is_pid1: bool, group) -> int:
    """Send `signum` to the rest; return how many processes (or groups) it reached."""
    if is_pid1:
        try:
            posix.kill(-1, signum)
            return 1
        except ProcessLookupError:
            return 0  # ESRCH: nobody else is left
    reached = 0
    if group is not None:
        try:
            posix.killpg(group, signum)
            reached += 1
        except (ProcessLookupError, PermissionError):
            pass
    seen = set()
    for _ in range(_MAX_PASSES):
        fresh = descendants(posix.getpid()) - seen
        if not fresh:
            break
        for pid in fresh:
            seen.add(pid)
            reached += _signal_if_still_ours(pid, signum)
    return reached


def descendants(root: int) -> set:
    """Pids below `root`, from /proc/*/stat; empty where /proc is not mounted."""
    parents = {}
    try:
        entries = posix.listdir("/proc")
    except OSError:
        return set()
    for entry in entries:
        if entry.isdigit():
            parent = _parent_of(int(entry))
            if parent is not None:
                parents[int(entry)] = parent
    children = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _parent_of(pid: int):
    try:
        fd = posix.open(f"/proc/{pid}/stat", posix.O_RDONLY)
    except OSError:
        return None
    try:
        data = posix.read(fd, 1024)
    except OSError:
        return None
    finally:
        posix.close(fd)
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    fields = data[data.rfind(b")") + 2:].split()
    return int(fields[1]) if len(fields) > 1 else None


def _signal_if_still_ours(pid: int, signum: int) -> int:
    if not hasattr(posix, "pidfd_open"):
        try:
            posix.kill(pid, signum)
            return 1
        except OSError:
            return 0
    try:
        pidfd = posix.pidfd_open(pid)
    except OSError:
        return 0  # already gone, or no pidfds on this kernel
    try:
        if not _leads_to_us(pid):
            return 0
        signals.send_to_pidfd(pidfd, signum)
        return 1
    except OSError:
        return 0
    finally:
        posix.close(pidfd)


def _leads_to_us(pid: int) -> bool:
    """Whether pid's parent chain leads to pyinit now: the check made after pidfd_open."""
    me = posix.getpid()
    current = pid
    for _ in range(4096):  # deeper than any real tree; a loop guard, not a limit
        parent = _parent_of(current)
        if parent is None or parent in (0, 1):
            return parent == me
        if parent == me:
            return True
        current = parent
    return False
