#!/usr/bin/env python3
"""initbench: pyinit against tini, dumb-init and catatonit, side by side, in one run.

    python3 benchmarks/initbench.py [--quick] [--json PATH] [--reference tini]

Every init runs as PID 1 of a fresh PID namespace (`unshare --pid --fork
--mount-proc INIT ...`) and as a plain child (subreaper mode where it has one);
"none" is the command alone. The machine is assumed shared and noisy: within
every round the subjects run in a new random order, warm-up rounds are thrown
away, and every ratio is taken per round (init / reference in the same round)
before its median, so drift hits all subjects alike. Each init is also checked
for correctness in the same run, so a fast wrong init shows up as wrong.

Prints one Markdown table (subject per column, metric per row); --json writes
every raw sample. The workloads (signal receiver, orphan maker) are C, in
benchmarks/helpers.c, compiled at start with the system's cc.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
INITS = ("none", "tini", "dumb-init", "catatonit", "pyinit", "pyinit -I -S", "pyinit bundle", "pyinit pyc")
PYINITS = ("pyinit", "pyinit -I -S", "pyinit bundle", "pyinit pyc")
FLOORS = ("py", "py -S", "py -I -S")
FLOOR_ARGS = {"py": [], "py -S": ["-S"], "py -I -S": ["-I", "-S"]}
MODES = ("pid1", "child")
MODE_TITLE = {"pid1": "PID 1", "child": "plain child"}
# Pinned signal runs: (benchmark's CPU, init's and receiver's CPU).
PLACEMENT_TITLE = {"one CPU": "all on CPU 0", "apart": "sender on CPU 0, init and receiver on CPU 1"}
SETTLE = 0.05  # seconds after the child appears before reading an init's memory or clocks


# --- small tools ---------------------------------------------------------------------


def real_python(path: str | None) -> str:
    """The interpreter itself, never a wrapper: pyenv's python3 is a bash shim."""
    exe = os.path.realpath(path or sys.executable)
    with open(exe, "rb") as handle:
        if handle.read(2) == b"#!":
            sys.exit(f"initbench: {exe} is a script, not an interpreter; pass --python")
    return exe


def percentile(values, q: float):
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None
    k = (len(data) - 1) * q / 100.0
    low = int(k)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (k - low)


def p50(values):
    return percentile(values, 50)


def read_text(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def proc_fields(pid: int) -> dict:
    """Memory and clocks of one process, from /proc (KiB, ns, counts)."""
    fields = {}
    status = read_text(f"/proc/{pid}/status") or ""
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
        elif key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
            fields[key] = int(value)
    rollup = read_text(f"/proc/{pid}/smaps_rollup") or ""
    private = 0
    for line in rollup.splitlines()[1:]:
        key, _, value = line.partition(":")
        if key == "Pss":
            fields["PSS"] = int(value.split()[0])
        elif key in ("Private_Clean", "Private_Dirty", "Private_Hugetlb"):
            private += int(value.split()[0])
    if rollup:
        fields["USS"] = private
    schedstat = (read_text(f"/proc/{pid}/schedstat") or "").split()
    if len(schedstat) == 3:
        fields["cpu_ns"], fields["wait_ns"], fields["slices"] = map(int, schedstat)
    return fields


def children(pid: int) -> list[int]:
    text = read_text(f"/proc/{pid}/task/{pid}/children") or ""
    return [int(x) for x in text.split()]


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo and len(found) < 100000:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def comm(pid: int) -> str:
    return (read_text(f"/proc/{pid}/comm") or "").strip()


def wait_for(predicate, timeout: float, step: float = 0.001):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


class Proc:
    """One started subject: the process we spawned, the init inside, its pipes."""

    live: set[Proc] = set()

    def __init__(self, argv: list[str], stdin=None, stdout=None, stderr=None, pid1: bool = False) -> None:
        actions = []
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd, target in ((0, stdin), (1, stdout), (2, stderr)):
            actions.append((os.POSIX_SPAWN_DUP2, devnull if target is None else target, fd))
        try:
            # A session of its own: no terminal, and the subject's own group is ours to kill.
            self.pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setsid=True)
        finally:
            os.close(devnull)
        self.pid1 = pid1
        self.status = None
        self.cpu_ms = None
        self.started = time.monotonic()
        Proc.live.add(self)

    def init_pid(self, timeout: float = 5.0) -> int | None:
        """The init's host pid: unshare's forked child in PID-1 mode, else the process itself."""
        if not self.pid1:
            return self.pid
        found = wait_for(lambda: children(self.pid), timeout)
        return found[0] if found else None

    def poll(self) -> int | None:
        if self.status is None:
            pid, raw = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._done(raw)
        return self.status

    def wait(self, timeout: float) -> int | None:
        """Block in wait4 (no polling: start-up is timed by this); None after timeout seconds."""
        if self.status is not None:
            return self.status
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            _, raw, usage = os.wait4(self.pid, 0)
        except TimeoutError:
            return None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        # CPU of the process and of every descendant it waited for: robust to load.
        self.cpu_ms = (usage.ru_utime + usage.ru_stime) * 1e3
        self._done(raw)
        return self.status

    def _done(self, raw: int) -> None:
        self.status = os.waitstatus_to_exitcode(raw)
        if self.status < 0:
            self.status = 128 - self.status
        Proc.live.discard(self)

    def kill(self) -> None:
        """SIGKILL everything we started: the init and what it left (by pid), then reap."""
        if self.status is not None:
            return
        targets = descendants(self.pid)
        for pid in [self.pid] + targets:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        pid, raw = os.waitpid(self.pid, 0)
        self._done(raw)

    @classmethod
    def kill_all(cls) -> None:
        for proc in list(cls.live):
            try:
                proc.kill()
            except OSError:
                pass


def stop(proc: Proc, init: int | None, timeout: float = 3.0) -> None:
    """SIGTERM to the init (it forwards); SIGKILL what is left after timeout."""
    if init is not None and proc.status is None:
        try:
            os.kill(init, signal.SIGTERM)
        except ProcessLookupError:
            pass
    if proc.wait(timeout) is None:
        proc.kill()


def _alarm(signum, frame):
    raise TimeoutError


class Lines:
    """Line reader over a pipe fd, with a timeout."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, b""

    def readline(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()


# --- the subjects ----------------------------------------------------------------------


class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.python = real_python(args.python)
        self.work = Path(tempfile.mkdtemp(prefix="initbench-"))
        self.helpers = self._compile_helpers()
        # Byte-compile the package first, as installing a wheel does: with stale or
        # missing .pyc files (PYTHONDONTWRITEBYTECODE=1, or a fresh clone) every run
        # would compile pyinit's modules again and time that instead of pyinit.
        subprocess.run([self.python, "-m", "compileall", "-q", str(REPO / "pyinit")], check=True,
                       stdout=subprocess.DEVNULL)
        self.script = self._console_script()
        self.launcher = self._launcher()
        self.bundle = self._bundle()
        self.pyc = self._bundle("--pyc")
        self.unshare = [shutil.which("unshare") or "unshare"]
        if os.geteuid() != 0:
            self.unshare += ["--user", "--map-root-user"]
        self.unshare += ["--pid", "--fork", "--mount-proc", "--kill-child"]
        self.inits = [name for name in INITS if name == "none" or self.init_prefix(name, "pid1")]
        self.ref = args.reference
        self.raw: dict = {}

    def _compile_helpers(self) -> str | None:
        cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if cc is None:
            print("initbench: no C compiler: signal and reaping metrics are skipped", file=sys.stderr)
            return None
        out = self.work / "helpers"
        subprocess.run([cc, "-O2", "-o", str(out), str(HERE / "helpers.c")], check=True)
        return str(out)

    def _console_script(self) -> str | None:
        """The installed `pyinit` beside the interpreter: what `pip install` gives."""
        script = Path(self.python).with_name("pyinit")
        if not script.exists():
            script = Path(sys.executable).with_name("pyinit")
        if not script.exists():
            return None
        with open(script, "rb") as handle:
            first = handle.readline()
        if b"python" not in first:  # a shell shim (pyenv): benchmarking it would time bash
            return None
        return str(script)

    def _launcher(self) -> str:
        """The most start-up-friendly form: the package imported straight from the repository."""
        launcher = self.work / "pyinit-run"
        launcher.write_text(
            "import sys\n"
            f"sys.path.insert(0, {str(REPO)!r})\n"
            "from pyinit.cli import main\n"
            "main()\n"
        )
        return str(launcher)

    def _bundle(self, *options: str) -> str | None:
        """A single-file build (python -m pyinit.bundle [--pyc]), run as `python -I -S FILE`."""
        if not (REPO / "pyinit" / "bundle.py").exists():
            return None
        bundle = self.work / ("pyinit-bundle" + ("".join(options).replace("--", ".")))
        result = subprocess.run([self.python, "-m", "pyinit.bundle", str(bundle), *options], cwd=REPO,
                                capture_output=True, text=True)
        if result.returncode != 0 or not bundle.exists():
            print(f"initbench: pyinit.bundle failed ({result.returncode}): {result.stderr.strip()[-300:]}",
                  file=sys.stderr)
            return None
        return str(bundle)

    def init_prefix(self, name: str, mode: str) -> list[str] | None:
        """argv before the command, for `name` in `mode`; None if not installed."""
        if name == "none":
            return []
        if name == "tini":
            path = shutil.which("tini")
            return [path, "-s", "--"] if path and mode == "child" else ([path, "--"] if path else None)
        if name == "dumb-init":
            path = shutil.which("dumb-init")
            return [path] if path else None
        if name == "catatonit":
            path = shutil.which("catatonit")
            return [path, "--"] if path else None
        if name == "pyinit":
            return [self.script] if self.script else None
        if name == "pyinit -I -S":
            return [self.python, "-I", "-S", self.launcher]
        if name == "pyinit bundle":
            return [self.python, "-I", "-S", self.bundle] if self.bundle else None
        if name == "pyinit pyc":
            return [self.python, "-I", "-S", self.pyc] if self.pyc else None
        raise KeyError(name)

    def argv(self, name: str, mode: str, command: list[str]) -> list[str]:
        if name in FLOORS:
            full = [self.python] + FLOOR_ARGS[name] + command
        else:
            full = self.init_prefix(name, mode) + command
        return self.unshare + full if mode == "pid1" else full

    def start(self, name: str, mode: str, command: list[str], **pipes) -> Proc:
        return Proc(self.argv(name, mode, command), pid1=(mode == "pid1"), **pipes)

    def rounds(self, count: int, warmup: int, subjects):
        """Yield (round index or None for warm-up, subjects in a fresh random order)."""
        rng = random.Random(self.args.seed)
        for index in range(-warmup, count):
            order = list(subjects)
            rng.shuffle(order)
            yield (index if index >= 0 else None), order

    def say(self, text: str) -> None:
        print(f"[initbench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    # --- start-up ----------------------------------------------------------------------

    def startup(self) -> None:
        true = shutil.which("true") or "/bin/true"
        subjects = list(self.inits) + list(FLOORS)
        for mode in MODES:
            self.say(f"start-up, {MODE_TITLE[mode]}: {self.args.rounds} rounds")
            walls = {name: [] for name in subjects}
            cpus = {name: [] for name in subjects}
            for index, order in self.rounds(self.args.rounds, self.args.warmup, subjects):
                sample, cpu = {}, {}
                for name in order:
                    command = ["-c", "pass"] if name in FLOORS else [true]
                    argv = self.argv(name, mode, command)
                    begin = time.perf_counter_ns()
                    proc = Proc(argv, pid1=(mode == "pid1"))
                    status = proc.wait(30)
                    elapsed = (time.perf_counter_ns() - begin) / 1e6
                    if status is None:
                        proc.kill()
                    sample[name] = elapsed if status == 0 else None
                    cpu[name] = proc.cpu_ms if status == 0 else None
                if index is not None:
                    for name in subjects:
                        walls[name].append(sample[name])
                        cpus[name].append(cpu[name])
            self.raw.setdefault("startup_ms", {})[mode] = walls
            self.raw.setdefault("startup_cpu_ms", {})[mode] = cpus

    # --- correctness -------------------------------------------------------------------

    def correctness(self) -> None:
        for mode in MODES:
            self.say(f"correctness, {MODE_TITLE[mode]}")
            for name in self.inits:
                exit3 = self._status(name, mode, ["sh", "-c", "exit 3"])
                killed = self._status(name, mode, ["sh", "-c", "kill -TERM $$"])
                term = self._sigterm_stops_child(name, mode)
                self.raw.setdefault("correctness", {}).setdefault(mode, {})[name] = {
                    "exit_3": exit3, "killed_by_sigterm": killed, "sigterm_to_init": term,
                    "ok": [exit3 == 3, killed == 143, term == 143],
                }

    def _status(self, name: str, mode: str, command: list[str]):
        proc = self.start(name, mode, command)
        if proc.wait(10) is None:
            proc.kill()
            return "timeout"
        return proc.status

    def _sigterm_stops_child(self, name: str, mode: str):
        """SIGTERM to the init, whose child `sleep` has no handler: all should end with 143."""
        proc = self.start(name, mode, ["sleep", "60"])
        init = proc.init_pid()
        sleeper = wait_for(
            lambda: init is not None and (comm(init) == "sleep" or any(
                comm(p) == "sleep" for p in descendants(init))), 5)
        if not sleeper:
            proc.kill()
            return "no child"
        time.sleep(SETTLE)
        os.kill(init, signal.SIGTERM)
        if proc.wait(3) is None:
            proc.kill()
            return "still running"
        return proc.status

    # --- memory ------------------------------------------------------------------------

    def memory(self) -> None:
        subjects = [n for n in self.inits if n != "none"] + list(FLOORS)
        for mode in MODES:
            self.say(f"memory while supervising sleep, {MODE_TITLE[mode]}")
            samples = {name: [] for name in subjects}
            for _, order in self.rounds(self.args.memory_rounds, 0, subjects):
                for name in order:
                    samples[name].append(self._memory_of(name, mode))
            self.raw.setdefault("memory_kib", {})[mode] = samples

    def _memory_of(self, name: str, mode: str) -> dict:
        if name in FLOORS:
            # The interpreter doing nothing: blocked reading a pipe we hold.
            read_end, write_end = os.pipe()
            proc = self.start(name, mode, ["-c", "import posix; posix.read(0, 1)"], stdin=read_end)
            os.close(read_end)
            target = proc.init_pid()
            time.sleep(SETTLE * 4)
            fields = proc_fields(target) if target else {}
            os.close(write_end)
            if proc.wait(3) is None:
                proc.kill()
            return fields
        proc = self.start(name, mode, ["sleep", "60"])
        init = proc.init_pid()
        wait_for(lambda: any(comm(p) == "sleep" for p in descendants(init)), 5)
        time.sleep(SETTLE * 4)
        fields = proc_fields(init) if init else {}
        stop(proc, init)
        return fields

    # --- idle --------------------------------------------------------------------------

    def idle(self) -> None:
        """All inits at once, each supervising sleep; their clocks over one quiet window."""
        window = self.args.idle
        self.say(f"idle: one {window:g} s window, every init at once")
        started = []
        for mode in MODES:
            for name in self.inits:
                if name == "none":
                    continue
                proc = self.start(name, mode, ["sleep", str(int(window + 30))])
                started.append((mode, name, proc, proc.init_pid()))
        for _, _, _, init in started:
            wait_for(lambda init=init: any(comm(p) == "sleep" for p in descendants(init)), 5)
        time.sleep(0.5)
        before = {(m, n): proc_fields(i) for m, n, _, i in started}
        time.sleep(window)
        after = {(m, n): proc_fields(i) for m, n, _, i in started}
        result = {}
        for mode, name, proc, init in started:
            b, a = before[(mode, name)], after[(mode, name)]
            result.setdefault(mode, {})[name] = {
                "window_s": window,
                "cpu_us": (a.get("cpu_ns", 0) - b.get("cpu_ns", 0)) / 1e3,
                "wakeups": a.get("slices", 0) - b.get("slices", 0),
                "voluntary_switches": a.get("voluntary_ctxt_switches", 0) - b.get("voluntary_ctxt_switches", 0),
            }
            stop(proc, init)
        self.raw["idle"] = result

    # --- signals -----------------------------------------------------------------------

    def signals(self) -> None:
        if not self.helpers:
            return
        rounds = self.args.signal_rounds
        per_round = max(1, self.args.signals // rounds)
        for mode in MODES:
            self.say(f"signal latency, {MODE_TITLE[mode]}: {per_round * rounds} per init")
            self.raw.setdefault("signal_us", {})[mode] = self._signal_rounds(mode, rounds, per_round)
        # The same with every process pinned, so the scheduler's choice of CPUs (and of
        # waking an idle one) is the same for every init: what is left is the init's own cost.
        taskset = shutil.which("taskset")
        if taskset is None:
            return
        placements = {"one CPU": (0, 0), "apart": (0, 1)} if (os.cpu_count() or 1) > 1 else {"one CPU": (0, 0)}
        pinned_rounds = max(1, rounds // 4)
        for mode in MODES:
            for placement, (sender_cpu, init_cpu) in placements.items():
                self.say(f"signal latency, {MODE_TITLE[mode]}, pinned ({placement}): "
                         f"{per_round * pinned_rounds} per init")
                mine = os.sched_getaffinity(0)
                os.sched_setaffinity(0, {sender_cpu})
                try:
                    result = self._signal_rounds(mode, pinned_rounds, per_round, [taskset, "-c", str(init_cpu)])
                finally:
                    os.sched_setaffinity(0, mine)
                self.raw.setdefault("signal_pinned_us", {}).setdefault(mode, {})[placement] = result

    def _signal_rounds(self, mode: str, rounds: int, per_round: int, prefix=()) -> dict:
        """{init: samples, lost, per-round p50} for `rounds` shuffled rounds of `per_round` signals."""
        running = {}
        for name in self.inits:
            read_end, write_end = os.pipe()
            argv = list(prefix) + self.argv(name, mode, [self.helpers, "sigrecv"])
            proc = Proc(argv, pid1=(mode == "pid1"), stdout=write_end)
            os.close(write_end)
            running[name] = (proc, read_end)
        targets = {}
        for name, (proc, fd) in running.items():
            ready = Lines(fd).readline(10)
            init = proc.init_pid()
            if name == "none":
                init = wait_for(lambda init=init: init if comm(init) == "helpers" else None, 5)
            targets[name] = init if ready == "ready" else None
        lat = {name: [] for name in running}
        lost = {name: 0 for name in running}
        by_round = {name: [] for name in running}
        for index, order in self.rounds(rounds, 1, running):
            for name in order:
                batch = []
                for _ in range(per_round if index is not None else 10):
                    value = self._one_signal(targets[name], running[name][1])
                    if value is None:
                        lost[name] += index is not None
                    else:
                        batch.append(value)
                if index is not None:
                    lat[name] += batch
                    by_round[name].append(p50(batch))
        for proc, fd in running.values():
            stop(proc, proc.init_pid(0.1))
            os.close(fd)
        return {name: {"samples": lat[name], "lost": lost[name], "round_p50": by_round[name]} for name in running}

    @staticmethod
    def _one_signal(init: int | None, fd: int, timeout: float = 0.5):
        if init is None:
            return None
        sent = time.monotonic_ns()
        try:
            os.kill(init, signal.SIGUSR1)
        except ProcessLookupError:
            return None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            data = os.read(fd, 8)
            if len(data) < 8:
                return None
            received = int.from_bytes(data, sys.byteorder, signed=True)
            if received >= sent:  # an older, late arrival is not this signal's
                return (received - sent) / 1e3

    # --- reaping -----------------------------------------------------------------------

    def reaping(self) -> None:
        if not self.helpers:
            return
        subjects = [n for n in self.inits if n != "none"]
        for count in self.args.orphans:
            rounds = self.args.reap_rounds if count <= 5000 else max(1, self.args.reap_rounds_big)
            for kind in ("stream", "burst"):
                self.say(f"reaping {count} orphans, {kind}, PID 1: {rounds} rounds")
                results = {name: [] for name in subjects}
                for _, order in self.rounds(rounds, 0, subjects):
                    for name in order:
                        results[name].append(self._reap_once(name, count, kind))
                self.raw.setdefault("reaping", {})[f"{count} {kind}"] = results

    def _reap_once(self, name: str, count: int, kind: str) -> dict:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        proc = self.start(name, "pid1", [self.helpers, "orphans", str(count), kind],
                          stdin=to_child_r, stdout=from_child_w)
        os.close(to_child_r)
        os.close(from_child_w)
        lines = Lines(from_child_r)
        outcome: dict = {}
        try:
            ready = lines.readline(10)
            init = proc.init_pid()
            if not ready or not ready.startswith("ready") or init is None:
                return {"error": f"not ready: {ready!r}"}
            time.sleep(SETTLE)
            before = proc_fields(init)
            os.write(to_child_w, b"go\n")
            result = lines.readline(180)
            after = proc_fields(init)
            if not result or not result.startswith("result "):
                return {"error": f"no result: {result!r}"}
            for item in result.split()[1:]:
                key, _, value = item.partition("=")
                outcome[key] = float(value)
            outcome["init_cpu_ms"] = (after.get("cpu_ns", 0) - before.get("cpu_ns", 0)) / 1e6
            outcome["hwm_before_kib"] = before.get("VmHWM")
            outcome["hwm_after_kib"] = after.get("VmHWM")
            outcome["rss_after_kib"] = after.get("VmRSS")
            os.write(to_child_w, b"exit\n")
            outcome["status"] = proc.wait(10)
            return outcome
        finally:
            if proc.status is None:
                proc.kill()
            os.close(to_child_w)
            os.close(from_child_r)

    # --- everything --------------------------------------------------------------------

    def run(self) -> dict:
        began = time.monotonic()
        signal.signal(signal.SIGALRM, _alarm)
        steps = [self.correctness, self.startup, self.memory, self.signals, self.reaping, self.idle]
        try:
            for step in steps:
                step()
        finally:
            Proc.kill_all()
            shutil.rmtree(self.work, ignore_errors=True)
        self.raw["meta"] = self.meta(time.monotonic() - began)
        return self.raw

    def meta(self, seconds: float) -> dict:
        def version(argv):
            try:
                out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                return (out.stdout + out.stderr).strip().splitlines()[0]
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return None

        sys.path.insert(0, str(REPO))
        from pyinit import __version__

        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        return {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": " ".join(["python3", "benchmarks/initbench.py"] + sys.argv[1:]),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
            "machine": platform.machine(),
            "load_before": self.load_before,
            "python": f"{self.python} ({platform.python_version()})",
            "pyinit": f"{__version__} ({commit})",
            "pyinit_script": self.script,
            "pyinit_fast": f"{self.python} -I -S pyinit-run (sys.path.insert(0, repo); "
                           "from pyinit.cli import main; main())",
            "pyinit_bundle": f"{self.python} -I -S pyinit-bundle (python -m pyinit.bundle)"
                             if self.bundle else None,
            "pyinit_pyc": f"{self.python} -I -S pyinit-bundle.pyc (python -m pyinit.bundle --pyc)"
                          if self.pyc else None,
            "tini": version(["tini", "--version"]),
            "dumb-init": version(["dumb-init", "--version"]),
            "catatonit": version(["catatonit", "--version"]),
            "reference": self.ref,
            "seconds": round(seconds, 1),
            "quick": self.args.quick,
        }


# --- the table -----------------------------------------------------------------------


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def summarize(raw: dict, ref: str) -> tuple[list[str], list[tuple[str, dict]]]:
    """(columns, rows): every metric of the run, as the table shows it."""
    columns = [c for c in INITS + FLOORS if c in raw["startup_ms"]["pid1"]]
    rows: list[tuple[str, dict]] = []

    def section(title: str) -> None:
        rows.append((f"**{title}**", {}))

    inits = [c for c in columns if c in INITS]
    for mode in MODES:
        section(f"start-up and exit, {MODE_TITLE[mode]} (`INIT true`; floors: `python3 ... -c pass`)")
        for kind, unit in (("startup_ms", "wall"), ("startup_cpu_ms", "CPU")):
            values = raw[kind][mode]
            over = {c: _diffs(values[c], values["none"], keep=True) for c in columns}
            rows.append((f"{unit} p50 / p90 (ms)",
                         {c: f"{fmt(p50(values[c]))} / {fmt(percentile(values[c], 90))}" for c in columns}))
            rows.append((f"{unit} over no init, paired: p50 / p90 (ms)", {
                c: f"{fmt(p50(over[c]))} / {fmt(percentile(over[c], 90))}" for c in columns if c != "none"}))
            if ref in over:
                rows.append((f"{unit} over no init: ratio to {ref}, paired p50", {
                    c: fmt(p50(_ratios(over[c], over[ref]))) for c in inits if c not in ("none", ref)}))
            rows.append((f"{unit} over the `py -I -S` floor, paired p50 (ms)", {
                c: fmt(p50(_diffs(values[c], values["py -I -S"]))) for c in PYINITS + ("py", "py -S")
                if c in values}))

    for mode in MODES:
        mem = raw["memory_kib"][mode]
        section(f"memory while supervising `sleep`, {MODE_TITLE[mode]} (KiB, median)")
        for key, label in (("VmRSS", "VmRSS"), ("PSS", "PSS"), ("USS", "USS (private)")):
            rows.append((label, {c: fmt(p50([s.get(key) for s in mem[c]])) for c in mem}))
        if "py -I -S" in mem:
            floor = p50([s.get("USS") for s in mem["py -I -S"]])
            rows.append(("USS over the `py -I -S` floor", {
                c: fmt(p50([s.get("USS") for s in mem[c]]) - floor) for c in PYINITS
                if c in mem and floor is not None}))

    idle = raw["idle"]
    window = next(iter(next(iter(idle.values())).values()))["window_s"]
    for mode in MODES:
        section(f"idle, {window:g} s window, {MODE_TITLE[mode]}")
        rows.append(("CPU time (us)", {c: fmt(v["cpu_us"], 1) for c, v in idle[mode].items()}))
        rows.append(("wake-ups (schedstat timeslices)", {c: fmt(v["wakeups"]) for c, v in idle[mode].items()}))
        rows.append(("voluntary context switches", {c: fmt(v["voluntary_switches"]) for c, v in idle[mode].items()}))

    for mode, sig in raw.get("signal_us", {}).items():
        section(f"signal forwarding, {MODE_TITLE[mode]}: kill(init, SIGUSR1) → child's sigwaitinfo (us)")
        rows.append(("p50 / p99", {c: f"{fmt(p50(v['samples']), 1)} / {fmt(percentile(v['samples'], 99), 1)}"
                                   for c, v in sig.items()}))
        rows.append(("lost / sent", {c: f"{v['lost']} / {v['lost'] + len(v['samples'])}" for c, v in sig.items()}))
        for against in dict.fromkeys((ref, "dumb-init")):
            if against in sig:
                rows.append((f"p50 ratio to {against}, paired per round", {
                    c: fmt(p50(_ratios(v["round_p50"], sig[against]["round_p50"])))
                    for c, v in sig.items() if c not in ("none", against)}))
        for placement, pinned in raw.get("signal_pinned_us", {}).get(mode, {}).items():
            where = PLACEMENT_TITLE.get(placement, placement)
            rows.append((f"pinned, {where}: p50 / p99", {
                c: f"{fmt(p50(v['samples']), 1)} / {fmt(percentile(v['samples'], 99), 1)}" for c, v in pinned.items()}))
            if "dumb-init" in pinned:
                rows.append((f"pinned, {where}: p50 ratio to dumb-init, paired per round", {
                    c: fmt(p50(_ratios(v["round_p50"], pinned["dumb-init"]["round_p50"])))
                    for c, v in pinned.items() if c not in ("none", "dumb-init")}))

    for case, results in raw.get("reaping", {}).items():
        count, kind = case.split()
        section(f"reaping {int(count):,} orphans, {kind} ({'one after another' if kind == 'stream' else 'all at once'}"
                "), PID 1 (ms, median)")

        def col(key, results=results):
            return {c: p50([r.get(key) for r in rs if "error" not in r]) for c, rs in results.items()}

        for key, label in (("total_ms", "total wall"), ("drain_ms", "drain after the last exit"),
                           ("init_cpu_ms", "init CPU")):
            values = col(key)
            rows.append((label, {c: fmt(v, 1) for c, v in values.items()}))
            if key != "init_cpu_ms" and ref in results:
                rows.append((f"{label}: ratio to {ref}, paired", {
                    c: fmt(p50(_ratios([r.get(key) for r in rs], [r.get(key) for r in results[ref]])))
                    for c, rs in results.items() if c != ref}))
        rows.append(("peak unreaped zombies", {c: fmt(v) for c, v in col("peak").items()}))
        rows.append(("zombies left / errors", {
            c: f"{fmt(max([r.get('left', 0) for r in rs if 'error' not in r], default=None))}"
               f" / {sum('error' in r or r.get('status') != 0 for r in rs)}" for c, rs in results.items()}))
        rows.append(("VmHWM growth (KiB, max)", {
            c: fmt(max([r["hwm_after_kib"] - r["hwm_before_kib"] for r in rs
                        if r.get("hwm_after_kib") is not None and r.get("hwm_before_kib") is not None],
                       default=None)) for c, rs in results.items()}))

    for mode in MODES:
        checks = raw["correctness"][mode]
        section(f"correctness, {MODE_TITLE[mode]}")
        for i, label in enumerate(("`sh -c 'exit 3'` → 3", "child killed by SIGTERM → 143",
                                   "SIGTERM to init stops a handler-less child → 143")):
            key = ("exit_3", "killed_by_sigterm", "sigterm_to_init")[i]
            rows.append((label, {c: ("ok" if v["ok"][i] else f"**WRONG** ({v[key]})") for c, v in checks.items()}))
    return columns, rows


def _ratios(values, refs):
    return [v / r for v, r in zip(values, refs) if v is not None and r not in (None, 0)]


def _diffs(values, refs, keep: bool = False):
    """Per-round differences; keep=True keeps a None where a round failed, so rounds stay aligned."""
    pairs = [None if v is None or r is None else v - r for v, r in zip(values, refs)]
    return pairs if keep else [d for d in pairs if d is not None]


def table(raw: dict, ref: str) -> str:
    columns, rows = summarize(raw, ref)
    meta = raw["meta"]
    lines = [
        f"initbench, {meta['date']}: {meta['cores']} cores, Linux {meta['kernel']} ({meta['machine']}), "
        f"load average before {meta['load_before']}; {meta['seconds']:g} s",
        f"python {meta['python']}; pyinit {meta['pyinit']}; {meta['tini']}; {meta['dumb-init']}; "
        f"catatonit: {meta['catatonit']}",
        f"pyinit = console script {meta['pyinit_script']}; pyinit -I -S = {meta['pyinit_fast']}; "
        f"pyinit bundle = {meta['pyinit_bundle']}; pyinit pyc = {meta.get('pyinit_pyc')}",
        f"command: `{meta['command']}`",
        "",
        "| metric | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for label, cells in rows:
        lines.append(f"| {label} | " + " | ".join(cells.get(c, "") for c in columns) + " |")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a minute instead of a few")
    parser.add_argument("--json", metavar="PATH", help="write every raw sample and the table's rows as JSON")
    parser.add_argument("--reference", default="tini", help="column the paired ratios divide by (default tini)")
    parser.add_argument("--python", help="interpreter pyinit runs on (default: this one, resolved)")
    parser.add_argument("--rounds", type=int, help="start-up rounds")
    parser.add_argument("--signals", type=int, help="signals sent to each init, per mode")
    parser.add_argument("--orphans", help="comma-separated orphan counts (default 2000,20000)")
    parser.add_argument("--idle", type=float, help="idle window in seconds (default 10, quick 3)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the per-round shuffles")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (12 if quick else 60)
    args.warmup = 2 if quick else 4
    args.memory_rounds = 2 if quick else 5
    args.signals = args.signals or (400 if quick else 2000)
    args.signal_rounds = 4 if quick else 20
    args.signal_rounds = min(args.signal_rounds, args.signals)
    args.orphans = [int(x) for x in (args.orphans or "2000,20000").split(",") if x]
    args.reap_rounds = 2 if quick else 7
    args.reap_rounds_big = 1 if quick else 5
    args.idle = args.idle if args.idle is not None else (3.0 if quick else 10.0)
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    bench = Bench(args)
    bench.load_before = " ".join((read_text("/proc/loadavg") or "?").split()[:3])
    if bench.ref not in bench.inits:
        sys.exit(f"initbench: reference {bench.ref!r} is not one of {', '.join(bench.inits)}")
    raw = bench.run()
    text = table(raw, bench.ref)
    print(text)
    if args.json:
        columns, rows = summarize(raw, bench.ref)
        raw["table"] = {"columns": columns, "rows": [[label, cells] for label, cells in rows]}
        Path(args.json).write_text(json.dumps(raw, indent=1))
    wrong = [(mode, name) for mode, checks in raw["correctness"].items() for name, v in checks.items()
             if name != "none" and not all(v["ok"])]
    if wrong:
        print(f"initbench: correctness checks failed: {wrong}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        Proc.kill_all()
        sys.exit(130)
