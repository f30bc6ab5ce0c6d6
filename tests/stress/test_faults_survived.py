"""Faults survived: no pids left, no fds left, no stdio, no /proc, no root, no writes, reused pids.

Each test puts pyinit in one hostile place and checks what a user would see:
the child still runs, orphans are still reaped, a signal still arrives, the
exit status is still right, and nothing ends in a traceback or a hang.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import psutil
import pytest

from pyinit.testing import run_in_namespace
from tests.helpers import PRINTER
from tests.stress.stresskit import (
    FIGURES,
    NOBODY,
    PROGRAMS,
    PY,
    as_nobody,
    assert_no_traceback,
    children_of,
    nobody_env,
    pids_cgroup,
    python_for_nobody,
    wait_until,
)

pytestmark = [pytest.mark.stress, pytest.mark.usefixtures("namespaces")]

FORKBOMB = str(PROGRAMS / "forkbomb.py")
ORPHANS_PY = str(PROGRAMS / "orphans.py")
COUNTER_PY = str(PROGRAMS / "counter.py")
OWN_MOUNT_NS = os.readlink("/proc/self/ns/mnt")

# Run inside the namespace before pyinit: refuse to touch mounts unless unshare
# really gave us a mount namespace of our own ("$0" is the test's own).
_PRIVATE_MOUNTS = '[ "$(readlink /proc/self/ns/mnt)" != "$0" ] || { echo "shared mount namespace" >&2; exit 99; }'
_UNMOUNT_PROC = _PRIVATE_MOUNTS + "; while mountpoint -q /proc; do umount -l /proc || exit 98; done"


# The bomb reports once this many workers started: each slot under the cap freed,
# by reaping, ten times over.
BOMB_TARGET = 10 * FIGURES["pids_max"]


def _bomb_figures(stdout: str) -> tuple[int, int, float]:
    found = re.search(r"bomb spawned=(\d+) refused=(\d+) seconds=([\d.]+)", stdout)
    assert found, stdout
    return int(found.group(1)), int(found.group(2)), float(found.group(3))


# --- fork exhaustion -----------------------------------------------------------------


@pytest.fixture
def pids_cap():
    try:
        with pids_cgroup(FIGURES["pids_max"]) as procs:
            yield procs
    except LookupError as reason:
        pytest.skip(str(reason))


def test_fork_bomb_at_a_pids_cgroup_cap_is_reaped_and_stopped_by_sigterm(pyinit, pids_cap):
    """pyinit should keep reaping a fork bomb held at pids.max, and end it with 143 on SIGTERM."""
    cap = FIGURES["pids_max"]
    join = 'echo 1 > "$0" && exec "$@"'  # PID 1 joins the capped cgroup, then becomes pyinit
    command = ["sh", "-c", join, str(pids_cap), *pyinit, "--", PY, FORKBOMB, str(BOMB_TARGET), "60"]
    with run_in_namespace(command, init=None) as ns:
        ns.wait_for_output("bomb at cap", timeout=30)
        out = ns.wait_for_output("bomb spawned=", timeout=70)
        spawned, refused, seconds = _bomb_figures(out)
        ns.send_signal(signal.SIGTERM)  # while the bomb is still pressing on the cap
        started = time.monotonic()
        assert ns.wait(30) == 143
        stopped_in = time.monotonic() - started
    events = (pids_cap.parent / "pids.events").read_text() if pids_cap.parent.exists() else ""
    print(f"fork bomb at pids.max={cap}: {spawned} workers started in {seconds}s, {refused} forks refused, "
          f"stopped {stopped_in:.2f}s after SIGTERM; {events.strip()}")
    assert refused > 0
    assert spawned >= BOMB_TARGET, "slots freed only by reaping: too few forks succeeded at the cap"
    assert_no_traceback(ns.stderr)
    assert ns.stderr == ""


def _threads_of_user(uid: int) -> int:
    total = 0
    for process in psutil.process_iter(["uids", "num_threads"]):
        uids = process.info["uids"]
        if uids is not None and uids.real == uid:
            total += process.info["num_threads"] or 0
    return total


def test_fork_bomb_under_rlimit_nproc_as_an_unprivileged_user():
    """pyinit run as uid 65534 under RLIMIT_NPROC should keep reaping a fork bomb and stop on SIGTERM."""
    python = python_for_nobody()
    if python is None:
        pytest.skip("needs root, setpriv, and an interpreter uid 65534 can run")
    # RLIMIT_NPROC counts every thread of the user (getrlimit(2)), ours and any other.
    limit = _threads_of_user(NOBODY) + FIGURES["pids_max"]
    command = (["prlimit", f"--nproc={limit}:{limit}"] + as_nobody()
               + [python, "-m", "pyinit", "--", python, FORKBOMB, str(BOMB_TARGET), "60"])
    with run_in_namespace(command, init=None, env=nobody_env(), cwd="/") as ns:
        ns.wait_for_output("bomb at cap", timeout=30)
        out = ns.wait_for_output("bomb spawned=", timeout=70)
        spawned, refused, seconds = _bomb_figures(out)
        assert psutil.Process(ns.pid).uids().real == NOBODY
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 143
    print(f"fork bomb at RLIMIT_NPROC={limit}: {spawned} workers started in {seconds}s, "
          f"{refused} forks refused")
    assert refused > 0
    assert spawned >= BOMB_TARGET
    assert_no_traceback(ns.stderr)
    assert ns.stderr == ""


# --- file descriptors and standard streams ---------------------------------------------


@pytest.mark.parametrize("nofile", [FIGURES["nofile"], 6, 8])
def test_tiny_rlimit_nofile_still_reaps_forwards_and_exits_right(pyinit, nofile):
    """pyinit -v with RLIMIT_NOFILE this small should still start, reap, forward and exit 143.

    Below 5 (stdin, stdout, stderr and two more) the Python interpreter itself
    cannot import its modules and exits 1 before pyinit's code runs.
    """
    child = ["sh", "-c", '"$0" "$1" 200 50 4 2000 & exec "$0" "$2"', PY, ORPHANS_PY, COUNTER_PY]
    command = ["prlimit", f"--nofile={nofile}:{nofile}", *pyinit, "-v", "--", *child]
    with run_in_namespace(command, init=None) as ns:
        ns.wait_for_output("done 200 ", timeout=30)
        ns.wait_for_output("ready ", timeout=30)
        wait_until(lambda: not ns.zombies(), 30, "the orphans to be reaped")
        ns.send_signal(signal.SIGUSR2)
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 143
    assert '"12": 1' in ns.stdout, ns.stdout  # SIGUSR2 reached the counter
    assert_no_traceback(ns.stderr)
    assert all(line.startswith("[pyinit] ") for line in ns.stderr.splitlines()), ns.stderr
    assert "[pyinit] forwarded SIGUSR2 to group 2" in ns.stderr


@pytest.mark.parametrize("closed", ["0<&-", "1>&-", "2>&-", "0<&- 1>&- 2>&-"],
                         ids=["stdin", "stdout", "stderr", "all-three"])
def test_closed_standard_streams_do_not_stop_pyinit(pyinit, closed, tmp_path):
    """pyinit -vv with stdin, stdout or stderr closed should run the child and pass on its status."""
    marker = tmp_path / "ran"
    script = f'(sleep 0.05 &); echo ran > "{marker}"; exit 7'
    command = ["sh", "-c", f'exec "$@" {closed}', "sh", *pyinit, "-vv", "--", "sh", "-c", script]
    with run_in_namespace(command, init=None) as ns:
        assert ns.wait(30) == 7
    assert marker.read_text() == "ran\n"
    assert_no_traceback(ns.stderr)
    if "2>&-" not in closed:
        assert "[pyinit] exiting with status 7" in ns.stderr


def _unshare_as_pid1() -> list[str]:
    prefix = ["unshare"] + ([] if os.geteuid() == 0 else ["--user", "--map-root-user"])
    return prefix + ["--pid", "--fork", "--mount-proc", "--kill-child"]


def _readline(process: subprocess.Popen, timeout: float = 30) -> str:
    """A line of process's stdout, or a failure after `timeout` (the namespace is then killed)."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        os.killpg(process.pid, signal.SIGKILL)  # closes the pipe: the reader returns
        raise AssertionError(f"no line from {process.args[:8]} within {timeout}s")
    return line[0]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_stderr_a_broken_pipe_with_verbose_logging(pyinit, log_format):
    """pyinit -vvv whose stderr is a broken pipe (its reader closed) should still forward and exit right.

    Each log line fails with EPIPE and raises SIGPIPE at pyinit, which it blocks;
    pyinit must not forward its own SIGPIPE to the child (it would kill it: 141).
    """
    read_end, write_end = os.pipe()
    os.close(read_end)
    argv = _unshare_as_pid1() + pyinit + ["-vvv", "--log-format", log_format, "--"] + PRINTER + [
        "--exit-on", "SIGUSR1"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=write_end, stdin=subprocess.DEVNULL,
                               text=True, start_new_session=True)
    os.close(write_end)
    try:
        assert _readline(process).startswith("ready child")
        pid1 = children_of(process.pid)[0]
        os.kill(pid1, signal.SIGUSR1)
        assert _readline(process) == "child SIGUSR1\n"
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # unshare --kill-child takes PID 1 along
            process.wait(10)
        process.stdout.close()


def test_stderr_a_pipe_nobody_reads_does_not_stop_pyinit(pyinit):
    """pyinit -vv whose stderr pipe fills up should drop its log lines, not block: reap on, stop on SIGTERM.

    A blocking write(2) to a full pipe waits for a reader (pipe(7)); a PID 1 stuck
    there reaps nobody and forwards nothing. 3,000 orphans log 3,000 lines, far
    more than the 64 KiB the pipe holds.
    """
    read_end, write_end = os.pipe()  # held open, never read
    argv = _unshare_as_pid1() + pyinit + ["-vv", "--", PY, ORPHANS_PY, "3000", "100", "0", "0"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=write_end, stdin=subprocess.DEVNULL,
                               text=True, start_new_session=True)
    os.close(write_end)
    try:
        assert _readline(process).startswith("done 3000 ")
        pid1 = children_of(process.pid)[0]

        def zombies() -> list:
            found = []
            for child in psutil.Process(pid1).children():
                try:
                    if child.status() == psutil.STATUS_ZOMBIE:
                        found.append(child)
                except psutil.NoSuchProcess:
                    pass  # reaped while we looked
            return found

        wait_until(lambda: not zombies(), 30, "pyinit to reap with its stderr full")
        os.kill(pid1, signal.SIGTERM)
        assert process.wait(30) == 143
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        process.stdout.close()
        os.close(read_end)


# --- no /proc, no root, no writes --------------------------------------------------------


def test_pid1_without_proc_reaps_forwards_and_shuts_down_the_rest(pyinit, orphans):
    """pyinit as PID 1 with /proc unmounted should reap, forward, and still end a straggler."""
    run = _UNMOUNT_PROC + '; setsid sleep 60 & exec "$@"'  # a straggler in a session of its own
    command = ["sh", "-c", run, OWN_MOUNT_NS, *pyinit, "-v", "--grace", "20", "--", *orphans,
               "2000", "100", "4", "2000"]
    with run_in_namespace(command, init=None) as ns:
        ns.wait_for_output("done 2000 ", timeout=60)
        wait_until(lambda: not ns.zombies(), 30, "the orphans to be reaped")
        ns.send_signal(signal.SIGUSR1)  # the orphan maker ignores it: forwarded and harmless
        ns.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert ns.wait(30) == 143
        took = time.monotonic() - started
    assert "[pyinit] forwarded SIGUSR1 to group" in ns.stderr
    assert "SIGTERM to the rest" in ns.stderr
    assert took < 10, "the straggler should end on the SIGTERM, well before the grace runs out"
    assert_no_traceback(ns.stderr)


def test_subreaper_without_proc_reaches_the_group_and_never_hangs(pyinit):
    """pyinit as a subreaper with /proc unmounted should end the child's group, and give up on the rest.

    Without /proc pyinit cannot find descendants that left the child's group,
    so a straggler in its own session outlives the SIGKILL it never receives:
    pyinit says so and exits after the grace and KILL_REAP_SECONDS, never hangs.
    """
    # The straggler touches a flag once it has its own session, so the main child
    # exits only after it has left the group (no /proc to watch it by).
    child = ('flag=$(mktemp -u); sleep 60 & setsid sh -c \'touch "$0"; exec sleep 60\' "$flag" & '
             'while [ ! -e "$flag" ]; do sleep 0.01; done; rm -f "$flag"; exit 4')
    run = _UNMOUNT_PROC + '; "$@"; echo "pyinit exited $?"'
    command = ["sh", "-c", run, OWN_MOUNT_NS, *pyinit, "-v", "--grace", "1", "--", "sh", "-c", child]
    with run_in_namespace(command, init=None) as ns:
        out = ns.wait_for_output("pyinit exited", timeout=30)
    assert "pyinit exited 4" in out
    assert "processes remain after SIGKILL; exiting anyway" in ns.stderr
    assert_no_traceback(ns.stderr)


def _as_nobody_in_namespace(python: str, pyinit_args: list[str], as_pid1: bool) -> list[str]:
    inner = as_nobody() + [python, "-m", "pyinit", *pyinit_args, "--", "sh", "-c",
                           '"$0" "$1" 300 50 4 2000 & exec "$0" "$2"', python, ORPHANS_PY, COUNTER_PY]
    if as_pid1:
        return inner
    return ["sh", "-c", '"$@"; echo "pyinit exited $?"', "sh", *inner]


@pytest.mark.parametrize("as_pid1", [True, False], ids=["pid1", "subreaper"])
def test_unprivileged_pyinit_reaps_forwards_and_exits_right(as_pid1):
    """pyinit run as uid 65534 (no capabilities), as PID 1 or as a subreaper, should do all its work."""
    python = python_for_nobody()
    if python is None:
        pytest.skip("needs root, setpriv, and an interpreter uid 65534 can run")
    command = _as_nobody_in_namespace(python, ["-v"], as_pid1)
    with run_in_namespace(command, init=None, env=nobody_env(), cwd="/") as ns:
        ns.wait_for_output("done 300 ", timeout=60)
        ns.wait_for_output("ready ", timeout=30)
        wait_until(lambda: not ns.zombies(), 30, "the orphans to be reaped")
        pyinit_pid = ns.pid if as_pid1 else children_of(ns.pid)[0]
        assert psutil.Process(pyinit_pid).uids().real == NOBODY
        os.kill(pyinit_pid, signal.SIGUSR2)
        os.kill(pyinit_pid, signal.SIGTERM)
        status = ns.wait(30)
    assert '"12": 1' in ns.stdout  # SIGUSR2 reached the counter
    if as_pid1:
        assert status == 143
    else:
        assert "pyinit exited 143" in ns.stdout
    assert_no_traceback(ns.stderr)
    assert "cannot register" not in ns.stderr


def test_read_only_root_filesystem(pyinit, orphans):
    """pyinit as PID 1 on a read-only root should run the child, reap, and pass its status on."""
    run = _PRIVATE_MOUNTS + '; mount -o remount,bind,ro / && exec "$@"'
    script = 'touch /pyinit-stress-probe 2>/dev/null && exit 9; exec "$0" "$@" 300 50 4 2000'
    command = ["sh", "-c", run, OWN_MOUNT_NS, *pyinit, "-v", "--", "sh", "-c", script, *orphans]
    with run_in_namespace(command, init=None) as ns:
        ns.wait_for_output("done 300 ", timeout=60)
        wait_until(lambda: not ns.zombies(), 30, "the orphans to be reaped")
        ns.send_signal(signal.SIGTERM)
        assert ns.wait(30) == 143
    assert "[pyinit] exiting with status 143" in ns.stderr
    assert_no_traceback(ns.stderr)
    assert not os.path.exists("/pyinit-stress-probe")


# --- pids that change hands --------------------------------------------------------------


@pytest.mark.parametrize("mode", [[], ["--single-child"]], ids=["group", "single-child"])
def test_a_reused_pid_is_never_signalled(pyinit, mode):
    """pyinit should never signal the dead main child's pid or group once it is someone else's.

    programs/pid_reuse.py streams SIGUSR1 to pyinit while the main child exits,
    then gives the dead child's pid (through ns_last_pid) to a stranger that
    leads a group of that number. Neither the stream nor pyinit's shutdown of
    the rest (SIGTERM, --wait-all) may reach it.
    """
    argv = [PY, str(PROGRAMS / "pid_reuse.py"), *pyinit, "--wait-all", "--grace", "1", *mode]
    with run_in_namespace(argv, init=None) as ns:
        assert ns.wait(60) == 0, ns.stderr
    main = re.search(r"^main (\d+)$", ns.stdout, re.M)
    stranger = re.search(r"^stranger pid=(\d+) pgid=(\d+) got=(.*)$", ns.stdout, re.M)
    assert main and stranger, ns.stdout + ns.stderr
    assert stranger.group(1) == stranger.group(2) == main.group(1), "the pid was not handed on"
    assert stranger.group(3) == "{}", f"pyinit signalled the stranger: {stranger.group(3)}"
    assert "pyinit status 3" in ns.stdout
    assert_no_traceback(ns.stderr)


@pytest.mark.parametrize("options, fate", [
    (["--pdeathsig", "SIGTERM"], "ended by signal 15"),
    (["--pdeathsig", "SIGKILL"], "ended by signal 9"),
    ([], "still running, parent 1"),
], ids=["pdeathsig-term", "pdeathsig-kill", "without"])
def test_sigkill_to_a_subreaper_pyinit_and_its_child(pyinit, options, fate):
    """With --pdeathsig SIG the child gets SIG when pyinit is SIGKILLed; without, it is re-parented and runs on."""
    argv = [PY, str(PROGRAMS / "kill_pyinit.py"), *pyinit, *options]
    with run_in_namespace(argv, init=None) as ns:
        assert ns.wait(30) == 0, ns.stderr
    assert re.search(rf"^child \d+ {fate}$", ns.stdout, re.M), ns.stdout
