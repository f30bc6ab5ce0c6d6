"""--user, -e, -r, -p and --log-format json, each as PID 1 (issue 4 parts 2 and 3)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import psutil
import pytest

from pyinit.testing import run_in_namespace
from tests.helpers import PRINTER, PY

needs_namespaces = pytest.mark.usefixtures("namespaces")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing user needs root")


@needs_namespaces
@needs_root
def test_user_by_number_needs_no_passwd_entry(pyinit):
    with run_in_namespace(["sh", "-c", "id -u; id -g; id -G"], init=pyinit + ["--user", "54321", "--"]) as ns:
        assert ns.wait() == 0
    # No entry: its own number as gid, no supplementary groups, never root's group.
    assert ns.stdout.split() == ["54321", "54321", "54321"]


@needs_namespaces
@needs_root
def test_user_and_group_by_number(pyinit):
    with run_in_namespace(["sh", "-c", "id -u; id -g; id -G"], init=pyinit + ["--user", "54321:4242", "--"]) as ns:
        assert ns.wait() == 0
    assert ns.stdout.split() == ["54321", "4242", "4242"]


@needs_namespaces
@needs_root
def test_user_by_name_gets_its_groups_and_home(pyinit):
    import pwd

    nobody = pwd.getpwnam("nobody")
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root"}
    with run_in_namespace(["sh", "-c", "id -un; id -G; echo $HOME"], init=pyinit + ["--user", "nobody", "--"],
                          env=env) as ns:
        assert ns.wait() == 0
    name, *rest = ns.stdout.split()
    assert name == "nobody"
    assert rest[-1] == nobody.pw_dir
    assert int(rest[0]) == nobody.pw_gid


@needs_namespaces
@needs_root
def test_after_the_drop_the_child_cannot_become_root_again(pyinit):
    # The system Python: the test's own may live under /root, which uid 54321 cannot read.
    python = shutil.which("python3", path="/usr/bin:/bin") or PY
    regain = [python, "-c", "import os\ntry:\n os.setuid(0)\nexcept PermissionError:\n raise SystemExit(42)"]
    with run_in_namespace(regain, init=pyinit + ["--user", "54321", "--"]) as ns:
        assert ns.wait() == 42


@needs_namespaces
def test_unknown_user_is_a_clear_error_and_starts_nothing(pyinit, tmp_path):
    marker = tmp_path / "started"
    with run_in_namespace(["touch", str(marker)], init=pyinit + ["--user", "no-such-user-xyz", "--"]) as ns:
        assert ns.wait() == 126
    assert ns.stderr == "pyinit: cannot run as 'no-such-user-xyz': no such user: 'no-such-user-xyz'\n"
    assert not marker.exists()


@needs_namespaces
@pytest.mark.parametrize("spec, status", [("143", 0), ("143:7", 7)])
def test_remap_exit_maps_a_sigterm_death(pyinit, spec, status):
    with run_in_namespace(["sh", "-c", "kill -TERM $$"], init=pyinit + ["-e", spec, "--"]) as ns:
        assert ns.wait() == status


@needs_namespaces
def test_remap_exit_repeatable_and_leaves_other_statuses_alone(pyinit):
    with run_in_namespace(["sh", "-c", "exit 5"], init=pyinit + ["-e", "3", "--remap-exit", "4:1", "--"]) as ns:
        assert ns.wait() == 5


@needs_namespaces
def test_rewrite_forwards_sigterm_as_sigquit(pyinit):
    with run_in_namespace(PRINTER + ["--exit-on", "SIGQUIT"], init=pyinit + ["-r", "TERM:QUIT", "--"]) as ns:
        ns.wait_for_output("ready child")
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(10) == 0
    assert "child SIGQUIT" in ns.stdout and "SIGTERM" not in ns.stdout


@needs_namespaces
def test_rewrite_to_0_drops_the_signal(pyinit):
    with run_in_namespace(PRINTER + ["--exit-on", "SIGUSR2"], init=pyinit + ["--rewrite", "SIGUSR1:0", "--"]) as ns:
        ns.wait_for_output("ready child")
        ns.send_signal(signal.SIGUSR1)
        ns.send_signal(signal.SIGUSR2)
        assert ns.wait(10) == 0
    assert ns.stdout.splitlines()[1:] == ["child SIGUSR2"]


@needs_namespaces
def test_rewrite_by_number_and_realtime_name(pyinit):
    with run_in_namespace(PRINTER + ["--exit-on", "SIGUSR2"], init=pyinit + ["-r", "10:RTMIN+2", "--"]) as ns:
        ns.wait_for_output("ready child")
        ns.send_signal(signal.SIGUSR1)
        ns.wait_for_output("child SIGRTMIN+2")
        ns.send_signal(signal.SIGUSR2)
        assert ns.wait(10) == 0


PARENT_THAT_DIES = """
import subprocess, sys, time
child = subprocess.Popen(sys.argv[1:], stdout=sys.stdout)
print("pyinit", child.pid, flush=True)
time.sleep(0.5)
"""


def test_pdeathsig_delivers_the_signal_when_pyinits_parent_dies(pyinit):
    # pyinit (a subreaper) gets SIGTERM when its parent exits, and forwards it.
    process = subprocess.Popen([PY, "-c", PARENT_THAT_DIES] + pyinit + ["-p", "SIGTERM", "--", "sleep", "60"],
                               stdout=subprocess.PIPE, text=True)
    pid = int(process.stdout.readline().split()[1])
    assert process.wait(10) == 0
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "pyinit did not end after its parent died"
        time.sleep(0.02)


@needs_namespaces
def test_log_format_json_is_one_object_a_line(pyinit):
    with run_in_namespace(PRINTER + ["--exit-on", "SIGUSR1"],
                          init=pyinit + ["--log-format", "json", "-vv", "--"]) as ns:
        ns.wait_for_output("ready child")
        ns.send_signal(signal.SIGUSR1)
        assert ns.wait(10) == 0
    records = [json.loads(line) for line in ns.stderr.splitlines()]
    events = [record["event"] for record in records]
    assert events[0] == "spawned" and events[-1] == "exit"
    assert "forwarded" in events and "child_exited" in events
    forwarded = next(r for r in records if r["event"] == "forwarded")
    assert forwarded["signal"] == signal.SIGUSR1 and forwarded["target"] == "group 2"
    assert next(r for r in records if r["event"] == "exit")["status"] == 0


@needs_namespaces
def test_log_format_json_reports_the_grace_and_the_kill(pyinit, tmp_path):
    script = "sh -c 'trap \"\" TERM; echo ready; sleep 30' & sleep 0.3; exit 0"
    init = pyinit + ["--log-format=json", "-v", "--grace", "0.5", "--"]
    with run_in_namespace(["sh", "-c", script], init=init) as ns:
        assert ns.wait(30) == 0
    events = [json.loads(line)["event"] for line in ns.stderr.splitlines()]
    assert events.index("grace") < events.index("kill") < events.index("exit")
