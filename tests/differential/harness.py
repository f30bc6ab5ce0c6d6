"""Run one scenario under a real init and under pyinit's personality; compare what a user sees.

A Scenario says which init, its options and environment, the command, the
signals to send one at a time, and whether the init is PID 1 of a fresh
namespace or the child of a holder there (for job control and for who is
left when it exits). `observe` runs it and returns an Observation: the exit
status, what the child and grandchild saw (set-up and signals, in order), who
survived the init, whether the init stopped itself, whether it moved to /,
and which of stdout and stderr carried the init's own output. Two runs agree
when their Observations are equal; nothing else is compared.

Sync, with no fixed sleeps: after each signal the test sends SIGRTMAX to the
init too. Standard signals and lower realtime ones are taken before it
(sigwaitinfo returns the lowest pending signal first, signal(7)), both by the
init and by the child, so once the child has printed the marker, whatever the
init forwarded for the step has been printed as well. The grandchild gets its
own marker straight from the test (SIGRTMAX-1), for the same reason; see
_step for stopped processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from pyinit import signals
from pyinit.testing import pyinit_command, run_in_namespace
from tests.helpers import PY, sleeps_in_sigwait

HERE = Path(__file__).resolve().parent
PRINTER = (PY, "-S", str(HERE / "printer.py"))
HOLDER = (PY, "-S", str(HERE / "holder.py"))
NO_SHEBANG = str(HERE / "no_shebang")  # an executable with no #! line

MARK = signal.SIGRTMAX  # through the init: the step's sync point
DIRECT_MARK = signal.SIGRTMAX - 1  # straight to the child or grandchild
RELEASE = signal.SIGRTMAX - 2  # lets a holding child die of its SIGTERM/SIGINT
EXIT = signal.SIGRTMAX - 3  # ends the child with its --exit status
CONTROL_NAMES = {"SIGRTMAX", "SIGRTMAX-1"}
#: Realtime signals free for scenarios (below the control ones, so they sort first).
SCENARIO_RT = range(signal.SIGRTMIN, signal.SIGRTMAX - 3)

ANCHORS = ("tini", "dumb-init", "catatonit")
#: A step that is not a signal: the init's parent dies (Scenario.via_parent).
PARENT_DIES = 0
JOB_CONTROL = {signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}

# Variables that would change what an init does, cleared from the test's own.
_INIT_VARIABLE_PREFIXES = ("TINI_", "DUMB_INIT_", "CATATONIT_", "PYINIT_")
_INIT_VARIABLES = {"POSIXLY_CORRECT", "LISTEN_PID"}

STEP_SECONDS = 10.0  # generous: a loaded CI box, two cores, other suites running
EXIT_SECONDS = 20.0


def anchor_binary(name: str) -> str | None:
    return shutil.which(name, path="/usr/bin:/usr/local/bin:/bin")


@dataclasses.dataclass(frozen=True)
class Scenario:
    init: str
    options: tuple = ()
    env: tuple = ()  # (name, value) pairs added to a clean environment
    command: tuple | None = None  # None: the printer
    printer: tuple = ("--grandchild",)
    signals: tuple = ()  # sent to the init one at a time, each synced
    pid1: bool = True
    dashdash: bool = True  # "--" between the init's options and the command
    ignore_in_parent: tuple = ()  # signals the init's parent leaves ignored (SIG_IGN)
    via_parent: bool = False  # not PID 1, under a parent that PARENT_DIES kills

    def argv_for(self, init_argv: list) -> list:
        command = list(self.command) if self.command is not None else list(PRINTER + self.printer)
        return list(init_argv) + list(self.options) + (["--"] if self.dashdash else []) + command

    @property
    def uses_printer(self) -> bool:
        return self.command is None

    def __str__(self) -> str:
        names = [_signal_name(s) if s else "parent-dies" for s in self.signals]
        env = " ".join(f"{k}={v}" for k, v in self.env)
        where = "pid1" if self.pid1 else ("under-a-parent" if self.via_parent else "under-holder")
        cmd = "printer " + " ".join(self.printer) if self.command is None else " ".join(self.command)
        return f"{env} {self.init} {' '.join(self.options)} -- {cmd} [{where}] signals={names}".strip()


@dataclasses.dataclass(frozen=True)
class Observation:
    status: int | None
    setup: tuple  # (role, facts) for each role that said ready
    seen: tuple  # (role, (signal names in order)) for child and grandchild
    streams: frozenset  # "stdout"/"stderr": the init's own output appeared there
    init_stopped: tuple = ()  # per step, not PID 1 only: the init stopped itself
    survivors: tuple = ()  # not PID 1 only: roles still alive after the init exited
    init_moved_to_root: bool | None = None
    zombies_left: bool | None = None  # with --orphan: a reaped orphan stayed a zombie
    hung: bool = False

    def differences(self, other: Observation) -> list:
        return [
            f"{field.name}: {getattr(self, field.name)!r} != {getattr(other, field.name)!r}"
            for field in dataclasses.fields(self)
            if getattr(self, field.name) != getattr(other, field.name)
        ]


def _signal_name(signum: int) -> str:
    if signal.SIGRTMIN <= signum <= signal.SIGRTMAX:
        offset = signal.SIGRTMAX - signum
        return "SIGRTMAX" if offset == 0 else f"SIGRTMAX-{offset}"
    return signals.name(signum)  # signal.Signals lacks SIGSTKFLT before Python 3.11


def clean_environment(extra=()) -> dict:
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(_INIT_VARIABLE_PREFIXES) and key not in _INIT_VARIABLES
    }
    env.update(dict(extra))
    return env


def init_argv(name: str, implementation: str) -> list:
    """argv prefix: "anchor" (the real binary), "pyinit" (a symlink named `name`),
    "compat" (pyinit --compat NAME) or "plain" (pyinit; PYINIT_COMPAT chooses)."""
    if implementation == "anchor":
        binary = anchor_binary(name)
        assert binary, f"{name} is not installed"
        return [binary]
    if implementation == "pyinit":
        return pyinit_command(name)
    if implementation == "plain":
        return pyinit_command()
    return pyinit_command() + ["--compat", name]


# --- /proc views (host side) ------------------------------------------------------


def _stat_fields(pid: int):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _state(pid: int | None) -> str | None:
    """'R', 'S', 'T', 'Z'... or None once the process is gone (reaped)."""
    if pid is None:
        return None
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def _children(pid: int) -> list:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _descendants(pid: int) -> list:
    found, stack = [], [pid]
    while stack and len(found) < 200:
        for child in _children(stack.pop()):
            found.append(child)
            stack.append(child)
    return found


def _namespace_pid(host_pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{host_pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except OSError:
        return None
    return None


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _kill(pid: int | None, signum: int) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


# --- running one scenario -----------------------------------------------------------


class _Run:
    """One scenario under one init: the namespace, the pids, the printer's lines."""

    def __init__(self, scenario: Scenario, implementation: str) -> None:
        self.scenario = scenario
        init = init_argv(scenario.init, implementation)
        argv = scenario.argv_for(init)
        # A shell that execs the rest keeps it PID 1: no core files from an init
        # killed by a fault signal, and the SIG_IGNs the scenario wants inherited.
        names = " ".join(_signal_name(s)[3:] for s in scenario.ignore_in_parent)
        trap = f'trap "" {names}; ' if names else ""
        argv = ["sh", "-c", f'ulimit -c 0 2>/dev/null; {trap}exec "$@"', "sh"] + argv
        self.report = None
        if not scenario.pid1:
            fd, self.report = tempfile.mkstemp(prefix="pyinit-diff-", suffix=".json")
            os.close(fd)
            argv = list(HOLDER) + [self.report] + (["--via-parent"] if scenario.via_parent else []) + ["--"] + argv
        self.workdir = tempfile.mkdtemp(prefix="pyinit-diff-cwd-")
        self.ns = run_in_namespace(argv, init=None, env=clean_environment(scenario.env), cwd=self.workdir)
        self.middle = None
        self.init = self._find_init()
        self.host_pids: dict = {}
        self.marks_sent = 0

    def _find_init(self) -> int | None:
        if self.scenario.pid1:
            return self.ns.pid if self.ns.pid > 0 else None
        found = []

        def child_of(parent):
            found[:] = _children(parent)
            return found or self.ns.returncode is not None

        _wait_until(lambda: child_of(self.ns.pid), 10)
        if found and self.scenario.via_parent:
            self.middle = found[0]
            _wait_until(lambda: child_of(self.middle), 10)
        return found[0] if found else None

    # printer lines
    def lines(self) -> list:
        return self.ns.stdout.splitlines()

    def ready(self) -> dict:
        facts = {}
        for line in self.lines():
            words = line.split()
            if len(words) > 2 and words[0] == "ready":
                facts[words[1]] = dict(word.split("=", 1) for word in words[2:])
        return facts

    def seen(self, role: str) -> list:
        prefix = role + " "
        return [line[len(prefix):] for line in self.lines() if line.startswith(prefix)]

    def marks(self, role: str, name: str) -> int:
        return self.seen(role).count(name)

    def exited(self) -> bool:
        """The namespace is over (under a holder, that is after it has settled)."""
        return self.ns.returncode is not None

    def init_gone(self) -> bool:
        """The init itself has exited (a zombie until its parent reaps it)."""
        return self.exited() or _state(self.init) in (None, "Z", "X")

    def host_pid(self, role: str) -> int | None:
        """The host's pid for a printer role, from the namespace pid it printed."""
        if role in self.host_pids:
            return self.host_pids[role]
        facts = self.ready().get(role)
        if not facts or self.ns.pid <= 0:
            return None
        wanted = int(facts["pid"])
        for pid in _descendants(self.ns.pid):
            if _namespace_pid(pid) == wanted:
                self.host_pids[role] = pid
                return pid
        return None

    def alive(self, role: str) -> bool:
        return _state(self.host_pid(role)) not in (None, "Z", "X")

    def stopped(self, pid: int | None) -> bool:
        return _state(pid) == "T"

    def holding(self) -> bool:
        seen = self.seen("child")
        return bool(seen) and seen[-1] in ("SIGTERM", "SIGINT") and self.alive("child")


def observe(scenario: Scenario, implementation: str) -> Observation:
    """Run `scenario` under the anchor ("anchor") or pyinit ("pyinit"/"compat")."""
    run = _Run(scenario, implementation)
    with run.ns:
        try:
            return _drive(run)
        finally:
            run.ns.kill()
            shutil.rmtree(run.workdir, ignore_errors=True)
            if run.report:
                Path(run.report).unlink(missing_ok=True)


def _drive(run: _Run) -> Observation:
    scenario = run.scenario
    stopped_steps = []
    moved_to_root = zombies = None
    if _is_pause(scenario):
        _drive_pause(run)
    elif scenario.uses_printer and "--child-exits" not in scenario.printer:
        _wait_until(lambda: "child" in run.ready() or run.init_gone(), STEP_SECONDS)
        if "child" in run.ready() and run.init is not None:
            moved_to_root = _cwd(run.init) == "/"
            if "--orphan" in scenario.printer:
                zombies = not _wait_until(lambda: not _zombies(run), STEP_SECONDS)
        for signum in scenario.signals:
            if run.init_gone():
                break
            stopped_steps.append(_step(run, signum))
        if not run.init_gone():
            _finish(run)
    hung = False
    try:
        run.ns.wait(EXIT_SECONDS)
    except Exception:  # noqa: BLE001 - a hang is an observation, not a crash
        hung = True
    status = run.ns.returncode
    survivors = ()
    if not scenario.pid1:
        report = _read_report(run.report)
        if report is not None:
            status = report["status"]
            roles = {facts["pid"]: role for role, facts in run.ready().items()}
            survivors = tuple(sorted(roles.get(str(pid), "other") for pid in report["survivors"]))
    return Observation(
        status=None if hung else status,
        setup=tuple(sorted((role, tuple(sorted(facts.items())))
                           for role, facts in _setup_without_pids(run.ready()).items())),
        seen=tuple((role, tuple(n for n in run.seen(role) if n not in CONTROL_NAMES))
                   for role in ("child", "grandchild")),
        streams=_streams(run),
        init_stopped=tuple(stopped_steps) if not scenario.pid1 else (),
        survivors=survivors,
        init_moved_to_root=moved_to_root,
        zombies_left=zombies,
        hung=hung,
    )


def _is_pause(scenario: Scenario) -> bool:
    return "-P" in scenario.options or "--pause" in scenario.options


def _drive_pause(run: _Run) -> None:
    """No child to sync with: wait until the init has taken each signal off its pending set."""
    _wait_until(lambda: _waits_for_signals(run.init) or run.init_gone(), STEP_SECONDS)
    for signum in run.scenario.signals:
        if run.init_gone():
            return
        _kill(run.init, signum)
        _wait_until(lambda s=signum: s not in _mask(run.init, "SigPnd") | _mask(run.init, "ShdPnd")
                    or run.init_gone(), STEP_SECONDS)
    if not _wait_until(run.init_gone, STEP_SECONDS):
        _kill(run.init, signal.SIGKILL)


def _waits_for_signals(pid: int | None) -> bool:
    """The init is ready for signals: blocked (signalfd), or asleep in sigwaitinfo.

    sigtimedwait(2) takes the signals it waits for out of the blocked mask
    while it sleeps, so /proc shows them unblocked then (kernel/signal.c).
    Before its exec the process is still unshare, which blocks SIGTERM itself.
    """
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False
    if argv0.endswith(b"unshare"):
        return False
    return signal.SIGTERM in _mask(pid, "SigBlk") or sleeps_in_sigwait(pid)


def _mask(pid: int | None, field: str) -> set:
    """A signal set from /proc/PID/status (SigBlk, SigPnd, ShdPnd...), as signal numbers."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                bits = int(line.split()[1], 16)
                return {n + 1 for n in range(64) if bits >> n & 1}
    except (OSError, ValueError):
        pass
    return set()


def _setup_without_pids(ready: dict) -> dict:
    return {role: {k: v for k, v in facts.items() if k != "pid"} for role, facts in ready.items()}


def _step(run: _Run, signum: int) -> bool:
    """Send one signal and the marker; wait until the init and its children have acted on it.

    First the init: it has dequeued the marker and sleeps again, so it has
    forwarded everything sent before it (or it stopped itself: job control, as
    a shell's `fg` would, the step then continues it). Then the child, unless
    it is stopped: it has printed the marker, so everything forwarded before it
    too. A stopped child keeps what it was sent pending, in the kernel's order.
    Returns whether the init stopped itself (runs where it is not PID 1).
    """
    run.marks_sent += 1
    if signum == PARENT_DIES:
        _kill(run.middle, signal.SIGKILL)
        _wait_until(lambda: _state(run.middle) is None, STEP_SECONDS)  # the holder reaped it
    else:
        _kill(run.init, signum)
    _kill(run.init, MARK)
    _wait_until(lambda: _init_settled(run), STEP_SECONDS)
    init_stopped = not run.scenario.pid1 and run.stopped(run.init)
    if init_stopped:
        # SIGCONT discards the stop signals still pending in whoever it reaches
        # (signal(7)): let the children take what they were sent before it.
        _sync_direct(run, "child")
        _sync_direct(run, "grandchild")
        _kill(run.init, signal.SIGCONT)
        _wait_until(lambda: not run.stopped(run.init) and _init_settled(run), STEP_SECONDS)
    child = run.host_pid("child")
    if run.alive("child") and not run.stopped(child):
        _wait_until(lambda: run.marks("child", "SIGRTMAX") >= run.marks_sent or run.init_gone()
                    or not run.alive("child") or run.holding() or run.stopped(child), STEP_SECONDS)
    _sync_direct(run, "grandchild")
    if run.holding():
        _kill(child, RELEASE)
        _wait_until(run.init_gone, EXIT_SECONDS)
    return init_stopped


def _init_settled(run: _Run) -> bool:
    """The init took the marker off its pending set and is asleep again, or stopped, or gone."""
    state = _state(run.init)
    if run.exited() or state in (None, "T", "Z", "X"):
        return True
    pending = _mask(run.init, "SigPnd") | _mask(run.init, "ShdPnd")
    return MARK not in pending and state == "S"


def _sync_direct(run: _Run, role: str) -> None:
    """Send `role` a marker of its own and wait until it printed it (it is not stopped)."""
    pid = run.host_pid(role)
    if pid is None or not run.alive(role) or run.stopped(pid) or (role == "child" and run.holding()):
        return
    expected = run.marks(role, "SIGRTMAX-1") + 1
    _kill(pid, DIRECT_MARK)
    _wait_until(lambda: run.marks(role, "SIGRTMAX-1") >= expected or not run.alive(role)
                or run.stopped(pid) or run.exited(), STEP_SECONDS)


def _finish(run: _Run) -> None:
    """End a run that is still going the same way for every init: the child exits by itself.

    The grandchild goes first (SIGKILL, straight), so that what an init does to
    the rest when the child exits leaves nothing racy to observe.
    """
    grandchild = run.host_pid("grandchild")
    if grandchild is not None:
        _kill(grandchild, signal.SIGKILL)
        _wait_until(lambda: not run.alive("grandchild"), STEP_SECONDS)
    child = run.host_pid("child")
    if run.stopped(child):
        _kill(child, signal.SIGCONT)
    if run.holding():
        _kill(child, RELEASE)
    else:
        _kill(child, EXIT)
    _wait_until(run.init_gone, EXIT_SECONDS)


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


def _zombies(run: _Run) -> list:
    return [pid for pid in _descendants(run.ns.pid) if _state(pid) == "Z"]


def _streams(run: _Run) -> frozenset:
    """Where the init itself wrote: lines the printer did not print."""
    printer_prefixes = ("ready ", "child ", "grandchild ")
    used = set()
    if any(line and not line.startswith(printer_prefixes) for line in run.ns.stdout.splitlines()):
        used.add("stdout")
    if run.ns.stderr.strip():
        used.add("stderr")
    return frozenset(used)


def _read_report(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def compare(scenario: Scenario, implementation: str = "pyinit") -> tuple:
    """(anchor's Observation, pyinit's): run both; the caller asserts they are equal."""
    return observe(scenario, "anchor"), observe(scenario, implementation)


def assert_same(scenario: Scenario, implementation: str = "pyinit") -> Observation:
    anchor, ours = compare(scenario, implementation)
    problems = anchor.differences(ours)
    assert not problems, (
        f"{scenario}\n  anchor vs pyinit differ:\n    " + "\n    ".join(problems)
        + f"\n  anchor: {anchor}\n  pyinit: {ours}"
    )
    return anchor


# --- signal sets the scenarios draw from ---------------------------------------------

S = signal.Signals
#: Standard signals every anchor hands on somehow, minus the two that end the printer.
PLAIN = (S.SIGHUP, S.SIGQUIT, S.SIGUSR1, S.SIGUSR2, S.SIGPIPE, S.SIGALRM, signals.parse("SIGSTKFLT"), S.SIGCONT,
         S.SIGURG, S.SIGXCPU, S.SIGXFSZ, S.SIGVTALRM, S.SIGPROF, S.SIGWINCH, S.SIGIO, S.SIGPWR)
TERMINATING = (S.SIGTERM, S.SIGINT)
#: Sent by the kernel when the receiver faulted; sent by kill(2) here.
FAULTS = (S.SIGILL, S.SIGTRAP, S.SIGABRT, S.SIGBUS, S.SIGFPE, S.SIGSEGV, S.SIGSYS)
TTY_STOPS = (S.SIGTSTP, S.SIGTTIN, S.SIGTTOU)
REALTIME = (signal.SIGRTMIN, signal.SIGRTMIN + 1, signal.SIGRTMIN + 11, SCENARIO_RT[-1])


def known_difference(param, reason: str):
    """A scenario where pyinit differs on purpose, as the README's migration section lists.

    The comparison stays exactly as strict; the scenario is expected to fail
    it (xfail, strict: it turns red the day the two agree, to update the docs).
    """
    import pytest

    return pytest.param(*param.values, id=param.id,
                        marks=pytest.mark.xfail(strict=True, reason=f"documented difference: {reason}"))


def signal_id(signals) -> str:
    return ",".join(_signal_name(s)[3:] if s else "parent-dies" for s in signals) or "none"
