"""pyinit on a terminal: the child's group gets the foreground, Ctrl-C reaches it."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import subprocess
import time

import pytest

from tests.helpers import PY, unshare_prefix

pytestmark = pytest.mark.usefixtures("namespaces")

# It waits in short sleeps, not input(): CPython checks for a signal only when a
# read is interrupted, so a Ctrl-C caught just before input()'s read() began stays
# unhandled until a key is typed (seen once in CI, reproduced under load).
SHOW_FOREGROUND = (
    "import os, time; f = open('/proc/self/stat').read().rsplit(')', 1)[1].split(); "
    "print('pgrp', f[2], 'tpgid', f[5], 'pyinit_pgrp', os.getpgid(1), flush=True); "
    "print('ready', flush=True)\n"
    "while True: time.sleep(0.05)"
)


def _read_until(fd: int, text: str, timeout: float = 15.0) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{text!r} not seen; got {seen!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace")


@contextlib.contextmanager
def _on_pty(argv):
    """(process, controller): argv run on a new pty, killed if still running on the way out."""
    controller, terminal = pty.openpty()
    # setsid --ctty makes the pty our session's controlling terminal, as a
    # `docker run -it` gives the container one.
    process = subprocess.Popen(["setsid", "--ctty", "--wait"] + argv,
                               stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True)
    os.close(terminal)
    try:
        yield process, controller
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        os.close(controller)


def test_child_group_becomes_the_terminals_foreground_and_ctrl_c_ends_it(pyinit):
    with _on_pty(unshare_prefix() + pyinit + ["--", PY, "-c", SHOW_FOREGROUND]) as (process, controller):
        output = _read_until(controller, "ready")
        fields = output.split()
        pgrp, tpgid, pyinit_pgrp = (fields[fields.index(k) + 1] for k in ("pgrp", "tpgid", "pyinit_pgrp"))
        assert pgrp == tpgid == "2"  # the child leads its group, and that group owns the terminal
        assert pyinit_pgrp != pgrp
        os.write(controller, b"\x03")  # Ctrl-C: the kernel sends SIGINT to the foreground group
        assert process.wait(15) == 130


def test_exit_typed_at_a_shell_prompt_ends_pyinit_with_the_shells_status(pyinit):
    with _on_pty(unshare_prefix() + pyinit + ["--", "env", "PS1=# ", "sh", "-i"]) as (process, controller):
        _read_until(controller, "# ")  # root's prompt (namespace root when unprivileged)
        os.write(controller, b"echo hi-$((6*7))\n")
        _read_until(controller, "hi-42")
        os.write(controller, b"exit 5\n")
        assert process.wait(15) == 5
