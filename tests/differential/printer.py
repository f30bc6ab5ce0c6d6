"""The child the differential scenarios run: it reports its set-up and every signal it gets.

    python printer.py [--grandchild] [--orphan] [--exit N] [--child-exits N]

Like pyinit.testing.signal_printer, with what a comparison between two inits
needs on top:
- the `ready` line says what the init set up before exec: whether the child
  leads its process group and session, its blocked and ignored masks (read
  before it blocks anything itself, as a program sees them), and whether
  LISTEN_PID names it;
- a child that gets SIGTERM or SIGINT prints it and then *holds* until the
  test sends RELEASE, and only then dies of it. A signal sent to the whole
  group reaches the grandchild too, and without the hold the init would exit,
  and the kernel SIGKILL the namespace, before the grandchild had printed:
  the test first syncs with the grandchild, then releases the child;
- EXIT (sent by the test straight to the child) ends the child with --exit N.
Markers the test uses to sync (SIGRTMAX through the init, SIGRTMAX-1 straight
to the grandchild) are printed like any signal; the harness filters them out.
"""

import os
import signal
import sys

RELEASE = signal.SIGRTMAX - 2
EXIT = signal.SIGRTMAX - 3
CAUGHT = set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD}
TERMINATING = {signal.SIGTERM, signal.SIGINT}
# Run with -S, so without pyinit's names: signal.Signals lacks SIGSTKFLT (16) before
# Python 3.11 (where 16 is another signal, as on MIPS, that name is kept).
_NAMES = {sig.value: sig.name for sig in signal.Signals}
_NAMES.setdefault(16, "SIGSTKFLT")


def _name(signum: int) -> str:
    if signal.SIGRTMIN <= signum <= signal.SIGRTMAX:
        offset = signal.SIGRTMAX - signum
        return "SIGRTMAX" if offset == 0 else f"SIGRTMAX-{offset}"
    return _NAMES[signum]


def _say(text: str) -> None:
    os.write(1, (text + "\n").encode())


def _visible(mask: str) -> str:
    """A /proc signal set, cut to the signals a program can see and set.

    32 and 33 are glibc's own (SIGCANCEL, SIGSETXID): sigaction(2) through libc
    refuses them, and glibc before 2.38 leaves them SIG_IGN in a posix_spawn
    child (pyinit's fast path), where no program can tell.
    """
    bits = int(mask, 16)
    visible = sum(1 << (n - 1) for n in signal.valid_signals() if bits >> (n - 1) & 1)
    return f"{visible:016x}"


def _set_up_facts() -> str:
    """What the init gave us, as `key=value` words (read before we change anything)."""
    with open("/proc/self/status") as status:
        fields = dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)
    pid = os.getpid()
    listen = os.environ.get("LISTEN_PID")
    return " ".join([
        f"pid={pid}",
        f"group={'own' if os.getpgrp() == pid else 'other'}",
        f"session={'own' if os.getsid(0) == pid else 'other'}",
        f"blocked={_visible(fields['SigBlk'])}",
        f"ignored={_visible(fields['SigIgn'])}",
        f"listen_pid={'unset' if listen is None else ('self' if listen == str(pid) else 'other')}",
    ])


def _die_of(signum: int) -> None:
    signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)  # not reached


def serve(role: str, exit_code: int, ready_fd=None) -> None:
    facts = _set_up_facts()
    signal.pthread_sigmask(signal.SIG_BLOCK, CAUGHT)
    _say(f"ready {role} {facts}")
    if ready_fd is not None:
        os.write(ready_fd, b"r")
        os.close(ready_fd)
    while True:
        signum = signal.sigwaitinfo(CAUGHT).si_signo
        if signum == EXIT and role == "child":
            os._exit(exit_code)
        if signum == RELEASE:
            continue
        _say(f"{role} {_name(signum)}")
        if signum in TERMINATING:
            if role == "child":  # hold until the test has synced with the grandchild
                signal.sigtimedwait({RELEASE}, 20.0)
            _die_of(signum)


def _make_orphan() -> None:
    """A grandchild-of-ours that exits at once and whose parent is already gone."""
    middle = os.fork()
    if middle == 0:
        if os.fork() == 0:
            os._exit(0)
        os._exit(0)
    os.waitpid(middle, 0)


def main(argv) -> None:
    grandchild = orphan = False
    exit_code, early_exit = 0, None
    args = iter(argv)
    for arg in args:
        if arg == "--grandchild":
            grandchild = True
        elif arg == "--orphan":
            orphan = True
        elif arg == "--exit":
            exit_code = int(next(args))
        elif arg == "--child-exits":
            early_exit = int(next(args))
        else:
            raise SystemExit(f"printer: unknown argument {arg!r}")
    if orphan:
        _make_orphan()
    if grandchild:
        read_end, write_end = os.pipe()
        if os.fork() == 0:
            os.close(read_end)
            serve("grandchild", 0, ready_fd=write_end)
        os.close(write_end)
        os.read(read_end, 1)  # the grandchild is listening before the child says ready
        os.close(read_end)
    if early_exit is not None:
        _say(f"ready child {_set_up_facts()}")
        os._exit(early_exit)
    serve("child", exit_code)


if __name__ == "__main__":
    main(sys.argv[1:])
