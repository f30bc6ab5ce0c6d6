"""Signal names and sets, and the block/restore pair around the child.

Uses the C module _signal, not signal: `import signal` pulls in enum, about
4 ms of start-up a PID 1 does not need. Signals are plain ints here.
"""

import _signal

SIGHUP = _signal.SIGHUP
SIGINT = _signal.SIGINT
SIGQUIT = _signal.SIGQUIT
SIGKILL = _signal.SIGKILL
SIGTERM = _signal.SIGTERM
SIGCHLD = _signal.SIGCHLD
SIGCONT = _signal.SIGCONT
SIGSTOP = _signal.SIGSTOP
SIGTSTP = _signal.SIGTSTP
SIGTTIN = _signal.SIGTTIN
SIGTTOU = _signal.SIGTTOU
SIGPIPE = _signal.SIGPIPE
SIGXFSZ = _signal.SIGXFSZ
SIGRTMIN = _signal.SIGRTMIN
SIGRTMAX = _signal.SIGRTMAX

ALL = frozenset(_signal.valid_signals())

# Cannot be caught, blocked or forwarded meaningfully (signal(7)).
UNCATCHABLE = frozenset({SIGKILL, SIGSTOP})

# Sent by the kernel because *we* faulted. Left unblocked with SIG_DFL so a real
# fault kills pyinit with a core dump instead of looping; as PID 1 the kernel
# drops the same signals sent by kill(2) from inside the namespace (pid_namespaces(7)).
FAULTS = frozenset(
    {
        _signal.SIGSEGV,
        _signal.SIGBUS,
        _signal.SIGFPE,
        _signal.SIGILL,
        _signal.SIGTRAP,
        _signal.SIGSYS,
        _signal.SIGABRT,
    }
)

# Job control from the terminal: forwarded, and dumb-init then stops itself.
JOB_CONTROL = frozenset({SIGTSTP, SIGTTIN, SIGTTOU})

# Signals that ask the program to end: --kill-after starts its clock on these,
# and they end pause mode (SIGTERM, SIGINT) and --wait-all.
TERMINATING = frozenset({SIGTERM, SIGINT, SIGQUIT, SIGHUP})

# Python itself sets these to SIG_IGN at start-up; a child must not inherit that.
PYTHON_IGNORES = frozenset({SIGPIPE, SIGXFSZ})

_by_name = _names = None  # built on first use: only logs and option parsing need names
_LINUX_STKFLT = 16


def _tables() -> tuple:
    """({name: number} for every name _signal knows, aliases such as SIGIOT included;
    {number: its canonical name}, the first name in order but for three aliases)."""
    global _by_name, _names
    if _by_name is None:
        by_name = {
            attr: getattr(_signal, attr)
            for attr in dir(_signal)
            if attr.startswith("SIG") and not attr.startswith("SIG_") and attr not in ("SIGRTMIN", "SIGRTMAX")
        }
        if _LINUX_STKFLT not in by_name.values():
            # Python < 3.11 has no SIGSTKFLT constant though Linux has the signal (16 on
            # x86, arm and most others; where 16 is another signal, as on MIPS, it is named).
            by_name["SIGSTKFLT"] = _LINUX_STKFLT
        names = {}
        for attr in sorted(by_name):
            names.setdefault(by_name[attr], attr)
        names[_signal.SIGABRT] = "SIGABRT"  # not SIGIOT
        names[_signal.SIGIO] = "SIGIO"  # not SIGPOLL
        names[_signal.SIGCHLD] = "SIGCHLD"  # not SIGCLD
        _by_name, _names = by_name, names
    return _by_name, _names


def name(signum: int) -> str:
    """SIGTERM, SIGRTMIN+3: the name a user would type."""
    names = _tables()[1]
    if signum in names:
        return names[signum]
    if SIGRTMIN <= signum <= SIGRTMAX:
        offset = signum - SIGRTMIN
        return "SIGRTMIN" if offset == 0 else f"SIGRTMIN+{offset}"
    return f"signal {signum}"


def parse(text: str, allow_zero: bool = False) -> int:
    """A signal from TERM, SIGTERM, sigterm, 15, RTMIN+2, SIGRTMAX-1; ValueError if none.

    allow_zero admits 0, which --rewrite uses for "drop this signal".
    """
    spec = text.strip().upper()
    if spec.isascii() and spec.isdigit():
        number = int(spec)
        if (number == 0 and allow_zero) or number in ALL:
            return number
        raise ValueError(f"no such signal: {text!r}")
    if not spec.startswith("SIG"):
        spec = "SIG" + spec
    by_name = _tables()[0]
    if spec in by_name:
        return by_name[spec]
    for base_name, base in (("SIGRTMIN", SIGRTMIN), ("SIGRTMAX", SIGRTMAX)):
        if spec.startswith(base_name):
            rest = spec[len(base_name):]
            number = base
            if rest:
                if rest[0] not in "+-" or not (rest[1:].isascii() and rest[1:].isdigit()):
                    break
                number = base + int(rest)
            if SIGRTMIN <= number <= SIGRTMAX:
                return number
    raise ValueError(f"no such signal: {text!r}")


def catchable_set(forward_faults: bool) -> frozenset:
    """The signals pyinit blocks and waits for."""
    excluded = UNCATCHABLE if forward_faults else UNCATCHABLE | FAULTS
    return ALL - excluded


_original_mask = None  # the mask pyinit started with, before its first block()


def block(signals: frozenset) -> frozenset:
    """Block `signals`; return the mask pyinit started with, to restore in the child.

    They stay pending in the kernel until sigwait takes them: no handler runs,
    so no Python-level handler can race the loop (sigwait(3)). May be called
    again with more signals; the first call's "before" is what the child gets.
    """
    global _original_mask
    previous = frozenset(_signal.pthread_sigmask(_signal.SIG_BLOCK, signals))
    if _original_mask is None:
        _original_mask = previous
    # Python set SIGPIPE and SIGXFSZ to SIG_IGN, and the kernel discards a signal
    # whose action is SIG_IGN before it is ever pending: give them back SIG_DFL so
    # they can be received and forwarded. Blocked, they cannot hurt us; a SIGPIPE
    # our own write raises is taken back at once by log.write (discard_own_sigpipe).
    for signum in PYTHON_IGNORES & signals:
        _signal.signal(signum, _signal.SIG_DFL)
    return _original_mask


def inherited_ignores() -> frozenset:
    """Signals our parent left ignored (Python's own SIGPIPE/SIGXFSZ excepted)."""
    ignored = set()
    for signum in ALL - UNCATCHABLE - PYTHON_IGNORES:
        try:
            if _signal.getsignal(signum) == _signal.SIG_IGN:
                ignored.add(signum)
        except (OSError, ValueError):
            pass  # not a signal this Python tracks (the RT range on some builds)
    return frozenset(ignored)


def wait(signals: frozenset, timeout: "float | None"):
    """Wait for one signal of `signals` and return its number; None when `timeout` passes first.

    No timeout unless a deadline is pending: an idle init never wakes up
    (tini wakes every second to call waitpid; pyinit does not). sigwait, not
    sigwaitinfo: only the number is needed, and not building a siginfo record
    is measurably quicker on the path from a signal's arrival to its forwarding.
    """
    if timeout is None:
        return _signal.sigwait(signals)
    info = _signal.sigtimedwait(signals, max(timeout, 0.0))
    return None if info is None else info.si_signo


def discard_own_sigpipe() -> None:
    """Take back the SIGPIPE our own write to a broken pipe just raised.

    The kernel sends it to the writing thread (pipe(7): thread-directed, unlike a
    kill(2)), and sigtimedwait takes a thread's own pending signals before the
    process's (signal(7)): so this never eats a SIGPIPE someone sent the child's way.
    """
    try:
        _signal.sigtimedwait((SIGPIPE,), 0)
    except OSError:
        pass


def send_to_pidfd(pidfd: int, signum: int) -> None:
    """Signal the process behind a pidfd: no pid-reuse race (pidfd_send_signal(2))."""
    _signal.pidfd_send_signal(pidfd, signum)


def reset(signum: int) -> None:
    """Give `signum` its default action back (in the child, before exec)."""
    _signal.signal(signum, _signal.SIG_DFL)


def set_mask(mask: frozenset) -> None:
    """Replace the signal mask (in the child, before exec)."""
    _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
