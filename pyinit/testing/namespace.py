"""Run a command as PID 1 of a fresh PID namespace, and look at what lives inside.

The namespace comes from util-linux `unshare --pid --fork --mount-proc` (and
`--user --map-root-user` when not root), so nothing here needs privileges. The
process unshare forks is the namespace's PID 1; `NamespaceProcess.pid` is its
pid as the host sees it. Signals are sent to that pid directly: the kernel
delivers to a namespace's PID 1 only the signals it has a handler for or has
blocked, which is exactly what an init must get right (pid_namespaces(7)).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = [
    "NamespaceProcess",
    "NamespaceUnavailable",
    "namespace_support",
    "pyinit_command",
    "run_in_namespace",
]


# unshare --fork re-raises its child's fatal signal on itself so its caller sees
# it (unshare(1)), but util-linux 2.38 first calls signal(SIGKILL, SIG_DFL),
# which fails with EINVAL: a PID 1 killed by SIGKILL comes back as status 1
# and this line on stderr.
_UNSHARE_SIGKILL_BUG = "unshare: sigprocmask unblock failed"


class NamespaceUnavailable(RuntimeError):
    """PID namespaces cannot be made here; the message says why."""


def _unshare_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        raise NamespaceUnavailable("util-linux 'unshare' is not installed")
    prefix = [unshare]
    if os.geteuid() != 0:
        prefix += ["--user", "--map-root-user"]
    return prefix + ["--pid", "--fork", "--mount-proc"]


_support: str | None = None


def namespace_support() -> str | None:
    """None when PID namespaces work here, else the reason they do not (cached)."""
    global _support
    if _support is None:
        try:
            result = subprocess.run(
                _unshare_prefix() + ["sh", "-c", "test $$ -eq 1"],
                capture_output=True, text=True, timeout=30,
            )
            _support = "" if result.returncode == 0 else (
                f"'unshare --pid --fork --mount-proc' failed ({result.returncode}): "
                f"{result.stderr.strip() or 'no message'}"
            )
        except (NamespaceUnavailable, OSError, subprocess.TimeoutExpired) as error:
            _support = str(error) or type(error).__name__
    return _support or None


def pyinit_command(name: str = "pyinit") -> list[str]:
    """How to run pyinit: the installed console script beside this Python, else -m.

    `name` other than pyinit gives a symlink of that name (tini, dumb-init,
    catatonit), so pyinit picks the personality from argv[0] as a user's would.
    """
    script = Path(sys.executable).with_name("pyinit")
    if not script.exists():
        found = shutil.which("pyinit")
        script = Path(found) if found else None
    if name == "pyinit":
        return [str(script)] if script else [sys.executable, "-m", "pyinit"]
    if script is None:
        return [sys.executable, "-m", "pyinit", "--compat", name]
    links = Path(os.environ.get("PYINIT_TEST_LINKS", "/tmp/pyinit-links")) / str(os.getuid())
    links.mkdir(parents=True, exist_ok=True)
    link = links / name
    if not link.is_symlink() or os.readlink(link) != str(script):
        tmp = links / f".{name}.{os.getpid()}"
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(script)
        tmp.replace(link)
    return [str(link)]


class NamespaceProcess:
    """A running namespace: its PID 1 (host pid), its output, and views of what is inside."""

    def __init__(self, argv: list[str], env: dict | None, stdin, cwd) -> None:
        self.argv = argv
        self._popen = subprocess.Popen(
            _unshare_prefix() + argv,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,  # our own group: cleanup can never hit the test runner
        )
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._lock = threading.Condition()
        self._readers = [
            threading.Thread(target=self._pump, args=(self._popen.stdout, self._out), daemon=True),
            threading.Thread(target=self._pump, args=(self._popen.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self._pidfd = None
        self._pidfd_lock = threading.Lock()
        self.pid = self._find_pid1()

    # -- the namespace's PID 1 ---------------------------------------------------
    def _find_pid1(self, timeout: float = 10.0) -> int:
        children = Path(f"/proc/{self._popen.pid}/task/{self._popen.pid}/children")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                text = children.read_text().split()
            except OSError:
                text = []
            if text:
                pid = int(text[0])
                self._pidfd = self._open_pidfd(pid, children)
                return pid
            if self._popen.poll() is not None:
                return -1  # unshare already ended (the command failed at once)
            time.sleep(0.002)
        self.kill()
        raise NamespaceUnavailable("unshare did not start the namespace's PID 1 in time")

    @staticmethod
    def _open_pidfd(pid: int, children: Path):
        # A pidfd names this process, never a later one that reuses the pid
        # (pidfd_open(2)); checking unshare's children after opening proves it
        # is the right one. Without pidfds, a pid whose parent (unshare) has
        # not exited cannot have been reaped, so it cannot be reused either.
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            return None
        try:
            if str(pid) in children.read_text().split():
                return pidfd
        except OSError:
            pass
        os.close(pidfd)
        return None

    def _signal_pid1(self, signum: int) -> None:
        with self._pidfd_lock:
            if self.pid <= 0 or self._popen.poll() is not None:
                return  # exited and reaped: the pid may belong to someone else now
            try:
                if self._pidfd is not None:
                    signal.pidfd_send_signal(self._pidfd, signum)
                else:
                    os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def send_signal(self, signum: int) -> None:
        """Send signum to the namespace's PID 1 (no-op once it has exited)."""
        self._signal_pid1(signum)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for PID 1 to exit; return its status (128+N if killed by N)."""
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for reader in self._readers:
            reader.join(5)
        self._close_pidfd()
        return self.returncode

    @property
    def returncode(self) -> int | None:
        code = self._popen.poll()
        if code is None:
            return None
        if code == 1 and _UNSHARE_SIGKILL_BUG in self.stderr_unlocked():
            return 128 + signal.SIGKILL
        return 128 - code if code < 0 else code

    def kill(self) -> None:
        """End everything: SIGKILL to PID 1 takes the whole namespace with it.

        PID 1 finishes exiting only once the kernel has killed and reaped every
        other process inside (zap_pid_ns_processes), and unshare exits only after
        PID 1: so when unshare has exited, the namespace is gone. unshare's own
        group is SIGKILLed only if that does not happen in time.
        """
        if self.pid > 0:
            self._signal_pid1(signal.SIGKILL)
            try:
                self._popen.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if self._popen.poll() is None:
            try:
                os.killpg(self._popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self._popen.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for reader in self._readers:
            reader.join(2)  # the pipes close with the namespace: the output is complete
        self._close_pidfd()

    def _close_pidfd(self) -> None:
        # Under the lock, as _signal_pid1 uses it: two threads tearing the same
        # namespace down must not signal through a closed (or reused) fd number.
        with self._pidfd_lock:
            if self._pidfd is not None and self._popen.poll() is not None:
                os.close(self._pidfd)
                self._pidfd = None

    def __enter__(self) -> NamespaceProcess:
        return self

    def __exit__(self, *exc) -> None:
        if self._popen.poll() is None:
            self.kill()

    # -- output --------------------------------------------------------------------
    def _pump(self, stream, into: list[bytes]) -> None:
        for line in iter(stream.readline, b""):
            with self._lock:
                into.append(line)
                self._lock.notify_all()
        stream.close()

    @property
    def stdout(self) -> str:
        with self._lock:
            return b"".join(self._out).decode(errors="replace")

    @property
    def stderr(self) -> str:
        with self._lock:
            return b"".join(self._err).decode(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10.0, stream: str = "stdout") -> str:
        """Block until `text` appears on stdout (or stderr); return that stream so far."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                current = b"".join(self._out if stream == "stdout" else self._err).decode(errors="replace")
                if text in current:
                    return current
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self._popen.poll() is not None and not any(r.is_alive() for r in self._readers)):
                    raise TimeoutError(
                        f"{text!r} not seen on {stream} within {timeout}s; stdout={self.stdout_unlocked()!r} "
                        f"stderr={self.stderr_unlocked()!r}"
                    )
                self._lock.wait(min(remaining, 0.1))

    def stdout_unlocked(self) -> str:
        return b"".join(self._out).decode(errors="replace")

    def stderr_unlocked(self) -> str:
        return b"".join(self._err).decode(errors="replace")

    # -- what lives inside (psutil, from the testing extra) ------------------------
    def processes(self) -> list:
        """psutil.Process for PID 1 and every process below it."""
        import psutil

        try:
            init = psutil.Process(self.pid)
            return [init] + init.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def zombies(self) -> list:
        """The processes inside that are zombies (exited, not reaped)."""
        import psutil

        found = []
        for process in self.processes():
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    found.append(process)
            except psutil.NoSuchProcess:
                pass
        return found

    def assert_no_zombies(self) -> None:
        _assert_none("zombie", "zombies", self.zombies())

    def assert_no_leaks(self) -> None:
        """Nothing but PID 1 is left inside (call while PID 1 still runs)."""
        _assert_none("leftover process", "leftover processes", [p for p in self.processes() if p.pid != self.pid])

    # -- what the init left behind (run_in_namespace(..., report_leftovers=True)) ----
    def leftovers(self) -> list[dict]:
        """What was still in the namespace when the init under test exited.

        Dicts with pid (as seen inside), ppid, name, state and cmdline, from the
        report of `pyinit.testing.leftovers`; call after wait().
        """
        import json

        from .leftovers import MARKER

        for line in reversed(self.stdout.splitlines()):
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
        raise AssertionError(
            "no leftovers report: start with report_leftovers=True and wait() for the end; "
            f"stdout={self.stdout[-2000:]!r} stderr={self.stderr[-2000:]!r}"
        )

    def assert_nothing_left(self) -> None:
        """The init ended every process before it exited (running or zombie)."""
        left = self.leftovers()
        if left:
            lines = "\n  ".join(
                f"pid={p['pid']} (inside) ppid={p['ppid']} name={p['name']!r} state={p['state']} "
                f"cmdline={p['cmdline']!r}" for p in left
            )
            what = "process" if len(left) == 1 else "processes"
            raise AssertionError(f"{len(left)} {what} left after the init exited:\n  {lines}")


def _inside_pid(pid: int) -> str:
    # NSpid lists the pid in each nested namespace, outermost first (proc(5)).
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return line.split()[-1]
    except OSError:
        pass
    return "?"


def describe_process(process) -> str:
    """pid, ppid, name, state and command line: one readable line for a failure."""
    fields = {}
    for field in ("ppid", "name", "status", "cmdline"):
        try:
            fields[field] = getattr(process, field)()
        except Exception as error:  # noqa: BLE001 - a zombie has no cmdline; it may vanish while we look
            zombie = type(error).__name__ == "ZombieProcess"
            fields[field] = [] if zombie and field == "cmdline" else f"<{type(error).__name__}>"
    return (f"pid={process.pid} ({_inside_pid(process.pid)} inside) ppid={fields['ppid']} "
            f"name={fields['name']!r} state={fields['status']} cmdline={fields['cmdline']!r}")


def _assert_none(one: str, many: str, offenders: list) -> None:
    if offenders:
        lines = "\n  ".join(describe_process(p) for p in offenders)
        raise AssertionError(f"{len(offenders)} {one if len(offenders) == 1 else many} found:\n  {lines}")


def run_in_namespace(
    command: list[str],
    *,
    init: list[str] | str | None = "pyinit",
    env: dict | None = None,
    stdin=None,
    cwd=None,
    report_leftovers: bool = False,
    init_args: list[str] | tuple[str, ...] = (),
) -> NamespaceProcess:
    """Start `command` in a fresh PID namespace under `init` (default pyinit; None: bare).

    `init` is an argv prefix (["tini", "-g", "--"]), a personality name
    ("tini", "dumb-init", "catatonit", "pyinit": pyinit under that name, followed
    by "--"), or None for `command` itself as PID 1. `init_args` go between a
    named init and "--" (init_args=["--grace", "1"]). Use it as a context
    manager so the namespace is always torn down.

    With report_leftovers, PID 1 is instead a bare reporter with the init as its
    child (so the init runs as a subreaper); after wait(), leftovers() and
    assert_nothing_left() tell what the init left behind when it exited.
    """
    reason = namespace_support()
    if reason:
        raise NamespaceUnavailable(reason)
    if init is None:
        argv = list(command)
    elif isinstance(init, str):
        argv = pyinit_command(init) + list(init_args) + ["--"] + list(command)
    else:
        argv = list(init) + list(command)
    if report_leftovers:
        argv = [sys.executable, "-m", "pyinit.testing.leftovers"] + argv
    return NamespaceProcess(argv, env, stdin, cwd)
