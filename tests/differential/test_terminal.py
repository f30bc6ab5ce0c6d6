"""On a terminal: Ctrl-C, Ctrl-Z and a shell typed at, under each anchor and its personality.

The init runs as `docker run -it` starts one: PID 1 of a fresh namespace,
session leader, with a pty as its controlling terminal. What is compared is
what the person at the keyboard sees: who owns the terminal, whether Ctrl-Z
stops the program, whether the shell reports a stopped job, the exit status.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import threading
import time

import pytest

from tests.helpers import PY, unshare_prefix

from .conftest import require_anchor
from .harness import ANCHORS, _children, _descendants, _state, clean_environment, init_argv

pytestmark = pytest.mark.differential

# In the namespace, before the init: a session of its own, with the pty as its
# controlling terminal (the tty is nobody's yet: unshare was started in a new
# session without one), then exec, so the init is PID 1 and session leader.
BECOME_SESSION_LEADER = ("import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                         "os.execvp(sys.argv[1], sys.argv[1:])")

# The child: says whether it leads its group and session and owns the terminal, then sleeps.
SHOW_TERMINAL = (
    "import os; pid = os.getpid(); stat = open('/proc/self/stat').read().rsplit(')', 1)[1].split(); "
    "print('facts', 'group=' + ('own' if os.getpgrp() == pid else 'other'), "
    "'session=' + ('own' if os.getsid(0) == pid else 'other'), "
    "'foreground=' + ('yes' if int(stat[5]) == os.getpgrp() else 'no'), flush=True); "
    "os.execvp('sleep', ['sleep', '1000'])"
)
PROMPT = "PROMPT$ "
SECONDS = 15.0


class Terminal:
    """An init on a pty: what it printed so far, and keys typed at it."""

    def __init__(self, argv: list) -> None:
        self.controller, tty = pty.openpty()
        self.process = subprocess.Popen(
            unshare_prefix() + [PY, "-S", "-c", BECOME_SESSION_LEADER] + argv,
            stdin=tty, stdout=tty, stderr=tty, close_fds=True, start_new_session=True,
            env=clean_environment([("PS1", PROMPT), ("TERM", "dumb")]),
        )
        os.close(tty)
        self.output = b""
        self.lock = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.controller], [], [], 0.2)
            if not ready:
                if self.process.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.controller, 4096)
            except OSError:  # EIO: every end of the tty closed
                return
            if not chunk:
                return
            with self.lock:
                self.output += chunk
                self.lock.notify_all()

    def text(self) -> str:
        with self.lock:
            return self.output.decode(errors="replace")

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + SECONDS
        with self.lock:
            while text.encode() not in self.output:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.reader.is_alive():
                    raise AssertionError(f"{text!r} never appeared; the terminal shows {self.output!r}")
                self.lock.wait(min(remaining, 0.1))

    def type(self, keys: str) -> None:
        os.write(self.controller, keys.encode())

    def processes_named(self, name: str) -> list:
        found = []
        for pid in _descendants(self.process.pid):
            try:
                with open(f"/proc/{pid}/comm") as comm:
                    if comm.read().strip() == name:
                        found.append(pid)
            except OSError:
                pass
        return found

    def wait_until(self, condition) -> bool:
        deadline = time.monotonic() + SECONDS
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def status(self) -> int | None:
        try:
            code = self.process.wait(SECONDS)
        except subprocess.TimeoutExpired:
            return None
        return 128 - code if code < 0 else code

    def close(self) -> None:
        init = _children(self.process.pid)
        for pid in init[:1] or [self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.reader.join(5)
        os.close(self.controller)


def _sleeping_child(terminal: Terminal) -> int:
    """The child's sleep (it printed its facts first, then exec'd sleep)."""
    terminal.wait_for("facts ")
    found = []
    assert terminal.wait_until(lambda: found.extend(terminal.processes_named("sleep")) or found)
    return found[0]


def _facts(terminal: Terminal) -> str:
    line = terminal.text().split("facts ", 1)[1]
    return line.split("\n", 1)[0].strip()


def ctrl_c(init: list) -> tuple:
    """Ctrl-C while the child sleeps in the foreground."""
    terminal = Terminal(init + ["--", PY, "-S", "-c", SHOW_TERMINAL])
    try:
        _sleeping_child(terminal)
        terminal.type("\x03")
        return _facts(terminal), terminal.status()
    finally:
        terminal.close()


def _signal_set(pid: int, *fields: str) -> set:
    signals = set()
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(tuple(field + ":" for field in fields)):
                    bits = int(line.split()[1], 16)
                    signals |= {n + 1 for n in range(64) if bits >> n & 1}
    except OSError:
        pass
    return signals


def _ctrl_z(terminal: Terminal, sleeper: int) -> str:
    """Type Ctrl-Z; return what it did to `sleeper`: "stopped", "pending" (blocked) or "nothing".

    The tty sends SIGTSTP before it echoes ^Z (n_tty: isig, then echo), so once
    ^Z shows, the signal exists: it stops the sleeper, waits blocked, or is
    discarded when taken (an orphaned process group, POSIX job control).
    """
    terminal.type("\x1a")
    terminal.wait_for("^Z")

    def blocked_and_pending():
        return signal.SIGTSTP in _signal_set(sleeper, "SigPnd", "ShdPnd") & _signal_set(sleeper, "SigBlk")

    def settled():
        state = _state(sleeper)
        if state in ("T", "Z", None) or blocked_and_pending():
            return True
        return state == "S" and signal.SIGTSTP not in _signal_set(sleeper, "SigPnd", "ShdPnd")

    assert terminal.wait_until(settled)
    if _state(sleeper) == "T":
        return "stopped"
    return "pending" if blocked_and_pending() else "nothing"


def ctrl_z_then_ctrl_c(init: list) -> tuple:
    """Ctrl-Z, then Ctrl-C: what the stop did, and then the status."""
    terminal = Terminal(init + ["--", PY, "-S", "-c", SHOW_TERMINAL])
    try:
        sleeper = _sleeping_child(terminal)
        outcome = _ctrl_z(terminal, sleeper)
        if outcome == "stopped":
            os.kill(sleeper, signal.SIGCONT)  # as `fg` would; Ctrl-C then ends it
            assert terminal.wait_until(lambda: _state(sleeper) != "T")
        terminal.type("\x03")
        return _facts(terminal), outcome, terminal.status()
    finally:
        terminal.close()


def shell_session(init: list) -> tuple:
    """A shell: run sleep, Ctrl-Z it, see whether the shell reports it stopped, then `exit 3`."""
    terminal = Terminal(init + ["--", "bash", "--norc", "--noprofile", "-i"])
    try:
        terminal.wait_for(PROMPT)
        terminal.type("sleep 1000\n")
        found = []
        assert terminal.wait_until(lambda: found.extend(terminal.processes_named("sleep")) or found)
        outcome = _ctrl_z(terminal, found[0])
        if outcome == "stopped":
            terminal.wait_for("Stopped")
        # End the job from outside, stopped or still in the foreground, and let the
        # shell take note of it before `exit` (which refuses while a job is stopped).
        os.kill(found[0], signal.SIGKILL)
        assert terminal.wait_until(lambda: _state(found[0]) is None)
        assert terminal.wait_until(lambda: terminal.text().endswith(PROMPT))
        terminal.type("echo mark-$((40+2))\n")
        terminal.wait_for("mark-42\r\n")
        terminal.type("exit 3\n")
        return outcome, terminal.status()
    finally:
        terminal.close()


@pytest.fixture(params=ANCHORS)
def anchor(request):
    require_anchor(request.param)
    return request.param


def _same(session, anchor: str) -> None:
    theirs = session(init_argv(anchor, "anchor"))
    ours = session(init_argv(anchor, "pyinit"))
    assert theirs == ours, f"{anchor}: {session.__name__}: anchor saw {theirs}, pyinit {ours}"


def test_ctrl_c_on_the_terminal_reaches_the_child_as_under_the_anchor(anchor: str) -> None:
    """Ctrl-C should end the child as it does under the anchor: same terminal owner, same status."""
    _same(ctrl_c, anchor)


def test_ctrl_z_on_the_terminal_stops_the_child_only_where_the_anchor_does(anchor: str) -> None:
    """Ctrl-Z should stop the child under tini, and not under dumb-init (orphaned group) or catatonit (blocked)."""
    _same(ctrl_z_then_ctrl_c, anchor)


def test_a_shell_typed_at_behaves_as_under_the_anchor(anchor: str) -> None:
    """A shell's job control and its `exit 3` should work as under the anchor."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    _same(shell_session, anchor)
