"""A bare PID 1 that reports what an init left behind: `python -m pyinit.testing.leftovers CMD...`.

As PID 1 of a namespace the init under test cannot leave anything behind: the
kernel kills the rest the moment it exits (pid_namespaces(7)). Run it below
this instead, as a subreaper, and the question becomes real: when CMD exits,
every process still in the namespace (running or zombie, re-parented to us)
is something it failed to end. We print them as one line,
`pyinit.testing leftovers <JSON list>`, then exit with CMD's status.
SIGTERM, SIGINT, SIGQUIT and SIGHUP sent to us are passed on to CMD, as a
container engine signals its PID 1.
"""

from __future__ import annotations

import json
import os
import signal
import sys

MARKER = "pyinit.testing leftovers "
_PASSED_ON = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)


def snapshot(exclude: int) -> list[dict]:
    """Every process in this /proc but `exclude`: pid, ppid, name, state, cmdline."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == exclude:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue  # it exited while we looked
        name = stat[stat.find(b"(") + 1:stat.rfind(b")")].decode(errors="replace")
        state, ppid = stat[stat.rfind(b")") + 2:].split()[:2]
        found.append({"pid": int(entry), "ppid": int(ppid), "name": name,
                      "state": state.decode(), "cmdline": cmdline})
    return found


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit("usage: python -m pyinit.testing.leftovers COMMAND [ARGS...]")
    # Blocked from before the fork and taken with sigwaitinfo, as an init does: with
    # handlers, a signal in before they were set (or caught just before a wait began)
    # would be lost. Blocked signals are queued even for a namespace's PID 1.
    waited = {signal.SIGCHLD, *_PASSED_ON}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    child = os.fork()
    if child == 0:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    # Only our child is waited for: orphans it leaves must stay visible.
    while (status := os.waitpid(child, os.WNOHANG))[0] == 0:
        signum = signal.sigwaitinfo(waited).si_signo
        if signum != signal.SIGCHLD:
            os.kill(child, signum)
    code = os.waitstatus_to_exitcode(status[1])
    report = json.dumps(snapshot(exclude=os.getpid()))
    os.write(1, f"{MARKER}{report}\n".encode())
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
