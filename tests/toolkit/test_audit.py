"""`pyinit audit -- COMMAND`: does a program need an init? Run against examples that do and one that doesn't."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from pyinit.testing import pyinit_command

from .waiting import poll

PY = sys.executable
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SLEEP = [PY, "-c", "import time; time.sleep(60)"]
# SIGTERM timeout for the audits here: short, but far above a real exit (~20 ms).
FAST = ["--settle", "1", "--timeout", "2"]


@pytest.fixture
def ctrl_c_reaches_the_audit():
    """An audit started with SIGINT ignored keeps it ignored, as a Ctrl-C should be for a
    background job; and a test run in the background (`bash scripts/test &`) starts so:
    a shell without job control ignores SIGINT in background commands. Caught here, it is
    reset to its default in what we exec (execve(2)), as in a foreground terminal."""
    before = signal.getsignal(signal.SIGINT)
    if before == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def audit(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(pyinit_command() + ["audit", *args], capture_output=True, text=True, timeout=timeout)


def audit_json(command: list[str], ready: str | None = None) -> tuple[int, dict]:
    options = FAST if ready is None else ["--ready", ready, "--timeout", "2"]
    result = audit("--json", *options, "--", *command)
    assert result.stderr == "", result.stderr
    return result.returncode, json.loads(result.stdout)


def test_sleep_ignores_sigterm_as_bare_pid1_and_is_handled_under_pyinit(namespaces):
    """The issue's done-means: python3 -c 'import time; time.sleep(60)'."""
    result = audit(*FAST, "--", "python3", "-c", "import time; time.sleep(60)")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "pyinit audit: python3 -c 'import time; time.sleep(60)'"
    sigterm_row = next(line for line in lines if line.startswith("exits on SIGTERM"))
    assert "no: ignored for 2s, then SIGKILL" in sigterm_row and "yes, in" in sigterm_row
    assert lines[-1].startswith("verdict: needs an init: SIGTERM ignored as PID 1")


def test_json_report_has_both_runs_and_the_verdict(namespaces):
    status, report = audit_json(SLEEP)
    assert status == 1 and report["needs_init"] is True
    bare, under = report["bare"], report["pyinit"]
    assert (bare["sigterm"], bare["status"], bare["zombies"]) == ("ignored", 137, 2)
    assert (under["sigterm"], under["status"], under["zombies"]) == ("handled", 143, 0)
    assert under["seconds"] < 2  # it exited on SIGTERM, well before the timeout
    assert len(bare["zombie_processes"]) == 2 and all("state=zombie" in z for z in bare["zombie_processes"])
    assert report["verdict"] == "needs an init: SIGTERM ignored as PID 1; orphans left as zombies (2)"


def test_a_program_that_does_pid1s_jobs_needs_no_init(namespaces):
    status, report = audit_json([PY, str(EXAMPLES / "reaping_pid1.py")], ready="ready")
    assert status == 0 and report["needs_init"] is False
    for run in (report["bare"], report["pyinit"]):
        assert (run["ready"], run["sigterm"], run["status"], run["zombies"]) == (True, "handled", 0, 0)
    assert report["verdict"] == "no init needed: exits on SIGTERM and reaps orphans as PID 1"


def test_a_program_with_a_sigterm_handler_still_leaves_zombies(namespaces):
    """nginx_like handles SIGTERM itself but never waits for orphans: the zombies are the reason."""
    status, report = audit_json([PY, str(EXAMPLES / "nginx_like.py")], ready="ready")
    assert status == 1
    assert report["bare"]["sigterm"] == "handled" and report["bare"]["zombies"] == 2
    assert report["pyinit"]["zombies"] == 0
    assert report["verdict"] == "needs an init: orphans left as zombies (2)"


def test_a_program_that_ignores_sigterm_everywhere_is_named_and_audit_does_not_hang(namespaces):
    marker = f"audit-marker-{uuid.uuid4().hex}"
    code = (f"import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
            f"time.sleep(60)  # {marker}")
    started = time.monotonic()
    status, report = audit_json([PY, "-c", code], ready="ready")
    assert time.monotonic() - started < 40  # bounded: settle + timeout + teardown, generously
    assert status == 1
    assert report["bare"]["sigterm"] == report["pyinit"]["sigterm"] == "ignored"
    assert "under pyinit too" in report["verdict"]
    # Both namespaces are gone: nothing of the command is still running anywhere.
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or ())]
    assert left == []


@pytest.mark.parametrize("command, code", [(["true"], 0), (["sh", "-c", "exit 3"], 3), (["/nonexistent"], 127)])
def test_a_command_that_exits_by_itself_is_reported_as_such(namespaces, command, code):
    status, report = audit_json(command)
    assert status == 0
    assert report["bare"]["exited_by_itself"] and report["bare"]["status"] == code
    assert report["pyinit"]["exited_by_itself"] and report["pyinit"]["status"] == code
    assert report["verdict"].startswith("exited by itself in ")


@pytest.mark.parametrize(
    "args, problem",
    [
        ([], "pyinit audit: no command given"),
        (["--json"], "pyinit audit: no command given"),
        (["--timeout", "x", "--", "true"], "pyinit audit: --timeout: not a number of seconds: 'x'"),
        (["--settle=0", "true"], "pyinit audit: --settle: must be more than 0"),
        (["--timeout"], "pyinit audit: option '--timeout' requires an argument"),
        (["--bogus", "true"], "pyinit audit: unrecognized option '--bogus'"),
        (["--ready=", "true"], "pyinit audit: --ready: the text must not be empty"),
        (["--ready"], "pyinit audit: option '--ready' requires an argument"),
    ],
)
def test_bad_command_line_is_one_line_and_status_2(args, problem):
    result = audit(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(problem) and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[1].startswith("Usage: pyinit audit")


def test_help_explains_the_exit_statuses():
    result = audit("--help")
    assert result.returncode == 0 and result.stdout.startswith("Usage: pyinit audit")
    assert "0 no init needed, 1 needs an init" in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_audit_tears_both_namespaces_down(namespaces, signum, ctrl_c_reaches_the_audit):
    marker = f"audit-marker-{uuid.uuid4().hex}"
    command = [PY, "-c", f"import time; time.sleep(60)  # {marker}"]

    def running():
        """the command's own processes: not the audit, nor a process it forked that has yet to exec
        (those carry the marker in their argv too; counting them once sent the signal too early)"""
        return [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == command]

    with subprocess.Popen(pyinit_command() + ["audit", "--settle", "30", "--", *command],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as audit_process:
        try:
            poll(lambda: len(running()) >= 2, timeout=20)
            audit_process.send_signal(signum)
            _, err = audit_process.communicate(timeout=60)
        finally:
            audit_process.kill()
    assert audit_process.returncode == 130
    assert err == "pyinit audit: interrupted; namespaces torn down\n"
    assert running() == []


def test_interrupted_while_checking_for_namespaces_exits_130_with_one_line(tmp_path, ctrl_c_reaches_the_audit):
    """Ctrl-C before the runs start (the namespace check runs a process of its own) is an
    interruption too: one line and 130, never a KeyboardInterrupt traceback."""
    # An unshare that hangs: the audit's namespace check waits on it until interrupted.
    fake = tmp_path / "unshare"
    fake.write_text('#!/bin/sh\necho $$ > "$0.pid"\nexec sleep 30\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    pid_file = tmp_path / "unshare.pid"
    with subprocess.Popen(pyinit_command() + ["audit", "--", *SLEEP], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as audit_process:
        try:
            poll(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=20)
            audit_process.send_signal(signal.SIGINT)
            out, err = audit_process.communicate(timeout=30)
        finally:
            audit_process.kill()
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert (audit_process.returncode, out, err) == (130, "", "pyinit audit: interrupted before the runs started\n")


def test_ready_text_not_printed_is_shown_and_settle_still_bounds_it(namespaces):
    result = audit("--ready", "never printed", "--settle", "1", "--timeout", "2", "--", *SLEEP)
    assert result.returncode == 1, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("printed 'never printed'"))
    assert row.count("no (settle ran out)") == 2
