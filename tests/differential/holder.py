"""PID 1 of the namespace when the init under test must *not* be PID 1.

    python holder.py REPORT_PATH [--via-parent] -- INIT [ARGS...]

Starts INIT as its child (with --via-parent: as the child of a middle process
that the test can kill, to see INIT's parent-death signal), reaps whatever reaches it, and once INIT has exited
waits (bounded) for the rest to finish what was already sent to them, then
writes {"status": ..., "survivors": [pid, ...]} to REPORT_PATH, kills the
survivors and exits 0. Pids are the namespace's, as the printer reports them.
Job control (an init stopping itself) is watched from the host, in /proc.
"""

import json
import os
import signal
import sys
import time

# After the init exits: how long the rest get to act on a signal it sent them.
SETTLE_SECONDS = 1.0


def _others() -> list:
    me = os.getpid()
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and int(entry) != me]


def _reap(flags: int = 0):
    try:
        return os.waitpid(-1, flags)
    except ChildProcessError:
        return 0, 0


def _status(raw: int) -> int:
    return os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else 128 + os.WTERMSIG(raw)


def _alive(pids: list) -> list:
    living = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.append(pid)
    return living


def _start(command: list) -> int:
    init = os.fork()
    if init == 0:
        for signum in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)  # Python's own, not for the init
        os.execvp(command[0], command)
    return init


def _start_via_parent(command: list):
    """(middle, init): INIT as the child of a middle process the test may kill.

    Until then the middle waits for INIT and exits with its status.
    """
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(read_end)
        init = _start(command)
        os.write(write_end, str(init).encode())
        os.close(write_end)
        os._exit(_status(os.waitpid(init, 0)[1]))
    os.close(write_end)
    init = int(os.read(read_end, 32))
    os.close(read_end)
    return middle, init


def main(argv) -> int:
    report_path, via_parent = argv[0], argv[1] == "--via-parent"
    command = argv[argv.index("--") + 1:]
    middle, init = _start_via_parent(command) if via_parent else (None, _start(command))
    status = None
    while status is None:
        pid, raw = _reap()
        if pid == init or (pid == middle and os.WIFEXITED(raw)):
            status = _status(raw)  # the init's, or the middle's copy of it
        elif pid == 0:
            break
    deadline = time.monotonic() + SETTLE_SECONDS
    while _alive(_others()) and time.monotonic() < deadline:
        while _reap(os.WNOHANG)[0] > 0:
            pass
        time.sleep(0.02)
    survivors = _alive(_others())
    with open(report_path, "w") as report:
        json.dump({"status": status, "survivors": survivors}, report)
    for pid in survivors:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while _reap()[0] > 0:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
