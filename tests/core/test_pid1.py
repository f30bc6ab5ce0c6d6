"""The core as PID 1 of a fresh PID namespace: spawn, forward, reap, exit."""

from __future__ import annotations

import signal
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyinit import signals
from pyinit.testing import run_in_namespace
from tests.helpers import EXAMPLES, PRINTER, PY, unshare_prefix, wait_until

pytestmark = pytest.mark.usefixtures("namespaces")

FORWARDED = [
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGCONT,
    signal.SIGRTMIN + 3,
]


def _wait_for_line(ns, line: str, timeout: float = 10.0) -> None:
    ns.wait_for_output(line + "\n", timeout)


def test_child_runs_as_pid_2_under_pyinit_as_pid_1():
    with run_in_namespace(["sh", "-c", "echo child=$$ parent=$PPID; cat /proc/1/comm"]) as ns:
        assert ns.wait() == 0
    assert "child=2 parent=1" in ns.stdout


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=255))
def test_exit_status_is_the_childs(code):
    with run_in_namespace(["sh", "-c", f"exit {code}"]) as ns:
        assert ns.wait() == code


@pytest.mark.parametrize("code", [0, 1, 3, 255])
def test_common_exit_statuses_pass_through(code):
    with run_in_namespace(["sh", "-c", f"exit {code}"]) as ns:
        assert ns.wait() == code


@pytest.mark.parametrize("signum, status", [(signal.SIGKILL, 137), (signal.SIGTERM, 143), (signal.SIGUSR1, 138)])
def test_child_killed_by_signal_n_gives_128_plus_n(signum, status):
    with run_in_namespace(["sh", "-c", f"kill -{signum} $$"]) as ns:
        assert ns.wait() == status


def test_sigterm_to_pid1_stops_child_without_handler():
    with run_in_namespace(["sh", "-c", "echo ready; exec sleep 100"]) as ns:
        _wait_for_line(ns, "ready")
        time.sleep(0.1)  # let sh exec sleep: the test is about sleep, which has no handler
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(10) == 143


@pytest.mark.parametrize("signum", FORWARDED, ids=signals.name)
def test_signal_reaches_child_and_its_grandchild_in_the_group(signum):
    with run_in_namespace(PRINTER + ["--grandchild", "--exit-on", "SIGTERM"]) as ns:
        _wait_for_line(ns, "ready child 2 2")
        ns.send_signal(signum)
        _wait_for_line(ns, f"child {signals.name(signum)}")
        _wait_for_line(ns, f"grandchild {signals.name(signum)}")
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(10) == 0


@pytest.mark.parametrize("options, env", [
    (["-c"], None),
    (["--single-child"], None),
    ([], {"PYINIT_SINGLE_CHILD": "1", "PATH": "/usr/bin:/bin"}),
], ids=["-c", "--single-child", "PYINIT_SINGLE_CHILD"])
def test_single_child_sends_signals_to_the_child_only(pyinit, options, env):
    with run_in_namespace(PRINTER + ["--grandchild", "--exit-on", "SIGUSR2"], init=pyinit + options + ["--"],
                          env=env) as ns:
        _wait_for_line(ns, "ready child 2 2")
        ns.send_signal(signal.SIGUSR1)
        _wait_for_line(ns, "child SIGUSR1")
        ns.send_signal(signal.SIGUSR2)
        assert ns.wait(10) == 0
    assert "grandchild SIGUSR1" not in ns.stdout


def test_process_group_flag_is_accepted_and_is_the_default(pyinit):
    with run_in_namespace(PRINTER + ["--grandchild", "--exit-on", "SIGUSR2"], init=pyinit + ["-g", "--"]) as ns:
        _wait_for_line(ns, "ready child 2 2")
        ns.send_signal(signal.SIGUSR1)
        _wait_for_line(ns, "grandchild SIGUSR1")
        ns.send_signal(signal.SIGUSR2)
        assert ns.wait(10) == 0


def test_sh_with_background_job_stops_as_a_whole_on_sigterm():
    # tini's users keep asking for this: `sh -c 'a & b'` must stop, both a and b.
    script = "sleep 100 & echo ready; wait"
    with run_in_namespace(["sh", "-c", script]) as ns:
        _wait_for_line(ns, "ready")
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(10) == 143
        ns.assert_no_leaks() if ns.returncode is None else None


# 2,000 double-forked workers, each orphaned at once and exiting 0.2 s later; then the
# child waits on stdin, so the test looks while pyinit is still running.
ORPHANS = [PY, "-m", "pyinit.testing.orphan_maker", "-n", "2000", "--", "sh", "-c", "echo done; exec cat"]


def test_orphan_burst_leaves_no_zombie(pyinit):
    with run_in_namespace(ORPHANS, stdin=-1) as ns:
        ns.wait_for_output("done", timeout=60)
        # Every orphan exits and is reaped: what is left is pyinit and the waiting cat.
        wait_until(lambda: len(ns.processes()) == 2, 30, "the 2,000 orphans to exit and be reaped")
        ns.assert_no_zombies()
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(10) == 143


def test_zombies_of_the_example_are_all_reaped_with_verbose_log(pyinit):
    with run_in_namespace([PY, str(EXAMPLES / "zombie_factory.py"), "5"], init=pyinit + ["-v", "--"]) as ns:
        assert ns.wait(30) == 0
    assert ns.stderr.count("[pyinit] reaped process") == 6  # 5 orphans and the unreaped child
    assert "exiting with status 0" in ns.stderr


# Signals 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID; no program may use them):
# glibc before 2.38 leaves them SIG_IGN in a posix_spawn child. Every other bit must be 0.
LIBC_RESERVED = (1 << 31) | (1 << 32)


def _sig_masks(output: str) -> dict:
    return {line.split(":")[0]: int(line.split()[1], 16) & ~LIBC_RESERVED for line in output.splitlines()}


def test_child_starts_with_empty_mask_and_default_dispositions():
    # Python ignores SIGPIPE and SIGXFSZ; pyinit blocks everything: none of it may leak.
    show = "grep -E '^Sig(Blk|Ign)' /proc/self/status"
    with run_in_namespace(["sh", "-c", show]) as ns:
        assert ns.wait() == 0
    assert _sig_masks(ns.stdout) == {"SigBlk": 0, "SigIgn": 0}


def test_child_signals_clean_also_on_the_fork_path(pyinit):
    # --user forces fork + exec instead of posix_spawn: the undo must be the same.
    show = "grep -E '^Sig(Blk|Ign)' /proc/self/status"
    with run_in_namespace(["sh", "-c", show], init=pyinit + ["--user", "0", "--"]) as ns:
        assert ns.wait() == 0
    assert ns.stdout == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"  # fork path: exact


def test_signal_ignored_by_pyinits_parent_is_reset_in_the_child(pyinit):
    show = "grep -E '^SigIgn' /proc/self/status"
    ignore_usr1 = [PY, "-c", "import os, signal, sys; signal.signal(signal.SIGUSR1, signal.SIG_IGN); "
                   "os.execv(sys.argv[1], sys.argv[1:])"]
    with run_in_namespace(["sh", "-c", show], init=ignore_usr1 + pyinit + ["--"]) as ns:
        assert ns.wait() == 0
    assert _sig_masks(ns.stdout) == {"SigIgn": 0}


def test_pyinit_opens_no_descriptor_that_reaches_the_child():
    with run_in_namespace(["sh", "-c", "ls /proc/$$/fd"]) as ns:
        assert ns.wait() == 0
    assert sorted(ns.stdout.split()) == ["0", "1", "2"]


def test_command_not_found_exits_127_with_one_line():
    with run_in_namespace(["no-such-command-xyz"]) as ns:
        assert ns.wait() == 127
    assert ns.stderr == "pyinit: cannot run 'no-such-command-xyz': No such file or directory\n"


def test_command_not_executable_exits_126(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("hello\n")
    with run_in_namespace([str(plain)]) as ns:
        assert ns.wait() == 126
    assert ns.stderr == f"pyinit: cannot run '{plain}': Permission denied\n"


def test_directory_as_command_exits_126(tmp_path):
    with run_in_namespace([str(tmp_path)]) as ns:
        assert ns.wait() == 126
    assert "Permission denied" in ns.stderr


def test_executable_without_shebang_runs_through_bin_sh(tmp_path):
    script = tmp_path / "noshebang"
    script.write_text("echo ran-by-sh \"$@\"\nexit 4\n")
    script.chmod(0o755)
    with run_in_namespace([str(script), "a b"]) as ns:
        assert ns.wait() == 4
    assert ns.stdout == "ran-by-sh a b\n"


def test_idle_pyinit_never_wakes_up():
    with run_in_namespace(["sh", "-c", "echo ready; exec sleep 100"]) as ns:
        _wait_for_line(ns, "ready")
        time.sleep(0.3)

        def switches() -> int:
            for line in open(f"/proc/{ns.pid}/status"):
                if line.startswith("voluntary_ctxt_switches"):
                    return int(line.split()[1])
            raise AssertionError("no voluntary_ctxt_switches line")

        before = switches()
        time.sleep(2.5)  # tini would wake twice here (1 s timeout); pyinit must not
        assert switches() == before
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(10) == 143


def test_verbose_logs_forwarded_signals_and_reaped_children(pyinit):
    with run_in_namespace(PRINTER + ["--exit-on", "SIGUSR1"], init=pyinit + ["-vv", "--"]) as ns:
        ns.wait_for_output("ready child")
        ns.send_signal(signal.SIGUSR1)
        assert ns.wait(10) == 0
    assert "[pyinit] forwarded SIGUSR1 to group 2" in ns.stderr
    assert "[pyinit] main child 2 ended (exit 0)" in ns.stderr


def test_core_works_without_proc_mounted(pyinit):
    # With no /proc at all the core must still spawn, reap and pass the status on.
    import subprocess

    script = "umount -l /proc && test ! -e /proc/self && exec \"$@\""
    command = unshare_prefix(mount_proc=False) + ["sh", "-c", script, "sh"] + pyinit + [
        "--", "sh", "-c", "sh -c 'exit 0' & wait; exit 6"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 6, result.stderr
