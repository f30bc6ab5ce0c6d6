"""Shutdown that loses nothing: grace for the rest, --kill-after, --wait-all (issue 4 part 1)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest

from pyinit.testing import run_in_namespace
from tests.helpers import PY

pytestmark = pytest.mark.usefixtures("namespaces")


def _worker(flag_file, on_term: str) -> str:
    """A background worker in Python: `on_term` is 'flush' (write the file, exit) or 'ignore'."""
    return (
        "import signal, sys, time\n"
        f"def flush(*_):\n    open({str(flag_file)!r}, 'w').write('flushed')\n    sys.exit(0)\n"
        f"signal.signal(signal.SIGTERM, {'flush' if on_term == 'flush' else 'signal.SIG_IGN'})\n"
        "print('worker ready', flush=True)\n"
        # Short sleeps: a handler waits for the sleep a signal interrupts, and one
        # caught just before a long sleep began would wait it all out.
        "for _ in range(1200):\n    time.sleep(0.05)\n"
    )


def _entrypoint(tmp_path, on_term: str, main: str = "exit 0"):
    worker = tmp_path / "worker.py"
    flag = tmp_path / "flushed"
    worker.write_text(_worker(flag, on_term))
    script = tmp_path / "entrypoint.sh"
    # Start the worker in the background, wait until it is listening, then end:
    # the shape of an entrypoint script whose main process is done.
    script.write_text(
        "#!/bin/sh\n"
        f"{PY} {worker} > {tmp_path}/worker.out &\n"
        f"while ! grep -q ready {tmp_path}/worker.out 2>/dev/null; do sleep 0.01; done\n"
        f"{main}\n"
    )
    script.chmod(0o755)
    return script, flag


def test_background_worker_gets_sigterm_and_flushes_before_pyinit_exits(tmp_path):
    script, flag = _entrypoint(tmp_path, "flush", "exit 3")
    with run_in_namespace([str(script)]) as ns:
        assert ns.wait(30) == 3  # the main child's status, not the worker's
    assert flag.read_text() == "flushed"


def test_without_grace_the_kernel_kills_the_worker_unflushed(pyinit, tmp_path):
    # The baseline pyinit improves on (tini, dumb-init, catatonit): PID 1 exits,
    # the kernel SIGKILLs the rest, nothing is flushed. Shows the test above can fail.
    if shutil.which("tini") is None:
        pytest.skip("tini is not installed (scripts/test installs it)")
    script, flag = _entrypoint(tmp_path, "flush", "exit 3")
    with run_in_namespace([str(script)], init=["tini", "--"]) as ns:
        assert ns.wait(30) == 3
    assert not flag.exists()


def test_worker_ignoring_sigterm_is_killed_after_the_grace(pyinit, tmp_path):
    script, flag = _entrypoint(tmp_path, "ignore")
    started = time.monotonic()
    with run_in_namespace([str(script)], init=pyinit + ["--grace", "1", "-v", "--"]) as ns:
        assert ns.wait(30) == 0
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.0 + 6.0  # the grace, plus a generous margin for a loaded machine
    assert "killed by SIGKILL" in ns.stderr
    assert not flag.exists()


def test_grace_0_sends_sigkill_at_once(pyinit, tmp_path):
    script, flag = _entrypoint(tmp_path, "flush")
    with run_in_namespace([str(script)], init=pyinit + ["--grace", "0", "-v", "--"]) as ns:
        assert ns.wait(30) == 0
    assert "killed by SIGKILL" in ns.stderr
    assert not flag.exists()


def test_grace_from_environment(tmp_path):
    script, flag = _entrypoint(tmp_path, "ignore")
    env = {"PATH": "/usr/bin:/bin", "PYINIT_GRACE": "0.2", "PYINIT_VERBOSITY": "1"}
    with run_in_namespace([str(script)], env=env) as ns:
        assert ns.wait(30) == 0
    assert "SIGKILL in 0.2s" in ns.stderr


def test_stopped_worker_still_gets_to_flush(tmp_path):
    # A stopped process cannot act on SIGTERM until SIGCONT: pyinit sends both.
    script, flag = _entrypoint(tmp_path, "flush", "kill -STOP $(pgrep -f worker.py); exit 0")
    with run_in_namespace([str(script)]) as ns:
        assert ns.wait(30) == 0
    assert flag.read_text() == "flushed"


def test_kill_after_sigkills_a_child_that_ignores_sigterm(pyinit):
    ignoring = [PY, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)"]
    with run_in_namespace(ignoring, init=pyinit + ["--kill-after", "1", "--"]) as ns:
        ns.wait_for_output("ready")
        sent = time.monotonic()
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 137
        assert 1.0 <= time.monotonic() - sent < 1.0 + 6.0


def test_without_kill_after_a_child_ignoring_sigterm_keeps_running(pyinit):
    ignoring = [PY, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)"]
    with run_in_namespace(ignoring) as ns:
        ns.wait_for_output("ready")
        ns.send_signal(signal.SIGTERM)
        time.sleep(1.5)
        assert ns.returncode is None
        ns.send_signal(signal.SIGKILL)


def test_kill_after_is_not_armed_by_other_signals(pyinit):
    ignoring = [PY, "-c", "import signal, time; signal.signal(signal.SIGUSR1, lambda *a: None); "
                "print('ready', flush=True); time.sleep(60)"]
    with run_in_namespace(ignoring, init=pyinit + ["--kill-after", "0.3", "--"]) as ns:
        ns.wait_for_output("ready")
        ns.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        assert ns.returncode is None


def test_wait_all_waits_for_a_daemonized_process(pyinit, tmp_path):
    done = tmp_path / "daemon-done"
    # `service x start` style: the daemon detaches into its own session and outlives the script.
    script = f"setsid sh -c 'sleep 1; echo done > {done}' & exit 4"
    started = time.monotonic()
    with run_in_namespace(["sh", "-c", script], init=pyinit + ["--wait-all", "--"]) as ns:
        assert ns.wait(30) == 4
    assert time.monotonic() - started >= 1.0
    assert done.read_text() == "done\n"


def test_wait_all_still_ends_on_sigterm_with_the_grace(pyinit, tmp_path):
    script = "setsid sleep 60 & echo ready; exit 4"
    with run_in_namespace(["sh", "-c", script], init=pyinit + ["--wait-all", "--grace", "1", "--"]) as ns:
        ns.wait_for_output("ready")
        time.sleep(0.2)
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 4


def test_subreaper_shutdown_terminates_descendants_that_left_the_group(pyinit, tmp_path):
    # Outside a namespace kill(-1) is not an option: pyinit finds its descendants in /proc.
    flag = tmp_path / "flushed"
    worker = tmp_path / "worker.py"
    worker.write_text(_worker(flag, "flush"))
    script = f"setsid {PY} {worker} > {tmp_path}/out & while ! grep -q ready {tmp_path}/out; do sleep 0.01; done"
    result = subprocess.run(pyinit + ["--grace", "5", "--", "sh", "-c", script], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert flag.read_text() == "flushed"


def test_pause_mode_reaps_and_exits_0_on_sigterm(pyinit):
    with run_in_namespace([], init=pyinit + ["-v", "--pause"]) as ns:
        # Logged once its signals are blocked. (/proc's SigBlk cannot tell: while in
        # sigwaitinfo the kernel unblocks the waited set, so it reads 0.)
        ns.wait_for_output("pause mode", stream="stderr")
        ns.send_signal(signal.SIGUSR1)  # ignored in pause mode
        ns.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert ns.returncode is None
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(10) == 0


def test_pause_mode_ends_on_sigint_too(pyinit):
    with run_in_namespace([], init=pyinit + ["-v", "--pause"]) as ns:
        ns.wait_for_output("pause mode", stream="stderr")
        ns.send_signal(signal.SIGINT)
        assert ns.wait(10) == 0
