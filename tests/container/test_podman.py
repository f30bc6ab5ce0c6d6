"""pyinit in a real engine: podman + runc, images built from the repository's own Dockerfiles.

Each scenario is what a user picks an init for. Where the difference is the
point (a stop that takes 0.2 s instead of the full timeout, a flush that is
kept instead of lost), the test also runs the bare app without pyinit and shows
the failure, so the scenario cannot pass by accident.
"""

import json
import os
import pty
import select
import signal
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.container

REPO = Path(__file__).resolve().parents[2]
ZOMBIE_EXAMPLE = "/usr/local/share/pyinit/examples/zombie_factory.py"
READY_THEN_SLEEP = ["sh", "-c", "echo ready; exec sleep 600"]


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def is_pyinit(cmdline: list) -> bool:
    """True for `pyinit ...` and for the console script run as `python3 /usr/local/bin/pyinit ...`."""
    return any(os.path.basename(arg) == "pyinit" for arg in cmdline[:2])


# 1 ------------------------------------------------------------------------------ default image


def test_default_image_runs_the_zombie_example_and_exits_0(podman, pyinit_image, run):
    proc = podman("run", "--rm", "--network=none", "--name", run.name(), pyinit_image, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "zombie_factory: made" in proc.stdout


def test_default_image_leaves_no_zombie_and_pyinit_is_pid_1(podman, pyinit_image, run, programs):
    # The image's own CMD first, then, in the same container, a scan of the
    # process table: the example's orphans and its unreaped child must be gone.
    scan = f"python3 {ZOMBIE_EXAMPLE} && exec python3 /t/orphans.py 5"
    proc = podman("run", "--rm", "--network=none", "-v", programs, "--name", run.name(),
                  pyinit_image, "sh", "-c", scan)  # fmt: skip
    report = last_json(proc.stdout)
    assert is_pyinit(report["pid1_cmdline"]), report
    assert report["ppid"] == 1
    assert report["adopted_by"] == [1] * 5
    assert report["zombies"] == []


def test_without_pyinit_the_orphans_stay_zombies(podman, pyinit_image, run, programs):
    # The control for the test above: the same program as a bare PID 1.
    proc = podman("run", "--rm", "--network=none", "-v", programs, "--name", run.name(),
                  "--entrypoint", "python3", pyinit_image, "/t/orphans.py", "5")  # fmt: skip
    report = last_json(proc.stdout)
    assert report["pid"] == 1
    assert len(report["zombies"]) == 5, report


# 2 ------------------------------------------------------------------------------ podman stop


def stop_timed(podman, run, name, timeout_s):
    run.wait_for_log(name, "ready")
    started = time.monotonic()
    podman("stop", "-t", timeout_s, name, timeout=timeout_s + 30)
    return time.monotonic() - started, run.wait_exit(name)


def test_podman_stop_ends_handlerless_app_quickly_with_143(podman, pyinit_image, run):
    # sleep has no SIGTERM handler: as PID 1 the kernel would drop the signal.
    under_pyinit = run.name()
    podman("run", "-d", "--network=none", "--name", under_pyinit, pyinit_image, *READY_THEN_SLEEP)
    elapsed, status = stop_timed(podman, run, under_pyinit, 10)
    assert status == 143
    assert run.state(under_pyinit)["ExitCode"] == 143
    assert elapsed < 3, f"podman stop -t 10 took {elapsed:.1f}s under pyinit"

    # The same app with the entrypoint replaced: podman waits out the timeout, then SIGKILLs.
    bare = run.name()
    podman("run", "-d", "--network=none", "--name", bare, "--entrypoint", "sh", pyinit_image,
           *READY_THEN_SLEEP[1:])  # fmt: skip
    elapsed_bare, status_bare = stop_timed(podman, run, bare, 3)
    assert status_bare == 137
    assert elapsed_bare >= 3, f"bare app stopped in {elapsed_bare:.1f}s, before the timeout"


def test_bytecode_build_image_stops_quickly_and_passes_the_status_on(podman, images, run):
    """examples/docker/Dockerfile.bytecode: the file built in the image, the package uninstalled, PID 1 all the same."""
    image = images.build("examples/docker/Dockerfile.bytecode")
    assert podman("run", "--rm", "--network=none", image, "sh", "-c", "exit 3", check=False).returncode == 3
    listed = podman("run", "--rm", "--network=none", "--entrypoint", "python3", image, "-c",
                    "import importlib.util; print(importlib.util.find_spec('pyinit'))")
    assert listed.stdout.strip() == "None"  # only the bytecode file is left to run
    name = run.name()
    podman("run", "-d", "--network=none", "--name", name, image, *READY_THEN_SLEEP)
    elapsed, status = stop_timed(podman, run, name, 10)
    assert status == 143
    assert elapsed < 3, f"podman stop -t 10 took {elapsed:.1f}s under pyinit.pyc"


# 3 ------------------------------------------------------------------------------ entrypoint.sh + worker


def data_dir(tmp_path, uid=10001):
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, uid, uid)  # the examples run their command as uid 10001
    return data


@pytest.mark.parametrize("dockerfile", ["examples/docker/Dockerfile.slim", "examples/docker/Dockerfile.alpine"])
def test_podman_stop_keeps_the_entrypoint_workers_flush_on_the_volume(podman, images, run, tmp_path, dockerfile):
    image = images.build(dockerfile)
    data = data_dir(tmp_path)
    name = run.name()
    podman("run", "-d", "--network=none", "--name", name, "-v", f"{data}:/data", image)
    run.wait_for_log(name, "worker")
    time.sleep(0.5)  # a few records to lose
    elapsed, status = stop_timed(podman, run, name, 10)
    flushed = data / "worker-flush.txt"
    assert flushed.exists(), run.logs(name)
    assert len(flushed.read_text().splitlines()) >= 3
    assert flushed.stat().st_uid == 10001, "the worker did not run as the image's user"
    assert status == 143  # the main process (http.server) died of the forwarded SIGTERM
    # The worker takes 1 s to flush; pyinit waited for it, then exited, long
    # before its --grace of 8 s (or podman's 10 s) ran out.
    assert 1 <= elapsed < 6, f"podman stop took {elapsed:.1f}s"


def test_podman_stop_keeps_the_flush_of_the_examples_entrypoint_worker(podman, pyinit_image, run, tmp_path):
    # examples/entrypoint.sh keeps its worker in the main process's group (not
    # detached): the default image ships it under /usr/local/share/pyinit/examples.
    if not (REPO / "examples" / "entrypoint.sh").exists():
        pytest.skip("examples/entrypoint.sh is not in this tree")
    data = data_dir(tmp_path, uid=0)
    name = run.name()
    podman("run", "-d", "--network=none", "--name", name, "-v", f"{data}:/data", "-e", "WORKER_OUT=/data",
           "--entrypoint", "pyinit", pyinit_image, "--grace", "5", "--",
           "/usr/local/share/pyinit/examples/entrypoint.sh", "python3", "-m", "http.server")  # fmt: skip
    run.wait_for_log(name, "worker")
    time.sleep(0.3)
    elapsed, status = stop_timed(podman, run, name, 10)
    assert (data / "worker-flush.txt").exists(), run.logs(name)
    assert status == 143
    assert 1 <= elapsed < 5, f"podman stop took {elapsed:.1f}s"


def test_without_pyinit_the_entrypoint_workers_flush_is_lost(podman, images, run, tmp_path):
    # The control: entrypoint.sh as PID 1 execs the app, which ignores SIGTERM;
    # the worker never hears of the stop and dies in podman's SIGKILL.
    image = images.build("examples/docker/Dockerfile.slim")
    data = data_dir(tmp_path)
    name = run.name()
    podman("run", "-d", "--network=none", "--name", name, "-v", f"{data}:/data",
           "--entrypoint", "/usr/local/bin/entrypoint.sh", image, "python3", "-m", "http.server")  # fmt: skip
    run.wait_for_log(name, "worker")
    elapsed, status = stop_timed(podman, run, name, 2)
    assert status == 137
    assert not (data / "worker-flush.txt").exists()


# 4 ------------------------------------------------------------------------------ signals and terminal


def test_podman_kill_hup_usr1_winch_reach_the_app_and_its_group(podman, pyinit_image, run, programs):
    name = run.name()
    # A helper in the background, then exec the app: the same process group.
    app = "python3 /t/signals.py helper & exec python3 /t/signals.py app"
    podman("run", "-d", "--network=none", "-v", programs, "--name", name, pyinit_image, "sh", "-c", app)
    run.wait_for_log(name, "app ready")
    run.wait_for_log(name, "helper ready")
    for sig in ("HUP", "USR1", "WINCH"):
        podman("kill", "-s", sig, name)
        run.wait_for_log(name, f"app got SIG{sig}")
        run.wait_for_log(name, f"helper got SIG{sig}")  # pyinit's default: the child's whole group
    assert run.state(name)["Running"], "a forwarded signal ended the container"
    podman("stop", "-t", "10", name, timeout=40)
    assert run.wait_exit(name) == 143


def read_until(fd, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} not seen on the pty within {timeout}s: {seen!r}")
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side closed
                chunk = b""
            if not chunk:
                raise AssertionError(f"pty closed before {needle!r}: {seen!r}")
            seen += chunk
    return seen


def run_on_pty(podman, args):
    """Start `podman run -it ...` with a pty of ours as its terminal; return (process, master fd)."""
    master, slave = pty.openpty()
    proc = podman.popen("run", "--rm", "-it", "--network=none", *args,
                        stdin=slave, stdout=slave, stderr=slave, start_new_session=True)  # fmt: skip
    os.close(slave)
    return proc, master


def exit_after_ctrl_c(proc, master, wait_s):
    read_until(master, b"ready", 30)
    os.write(master, b"\x03")
    deadline = time.monotonic() + wait_s
    while proc.poll() is None and time.monotonic() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            try:
                os.read(master, 4096)  # keep the pty drained
            except OSError:
                pass
    return proc.poll()


def test_ctrl_c_on_the_terminal_ends_the_app_with_130(podman, pyinit_image, run):
    proc, master = run_on_pty(podman, ["--name", run.name(), pyinit_image, *READY_THEN_SLEEP])
    try:
        assert exit_after_ctrl_c(proc, master, 15) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        os.close(master)


def test_without_pyinit_ctrl_c_does_not_end_the_app(podman, pyinit_image, run):
    # The control: sleep as PID 1 has no SIGINT handler, so the kernel drops the ^C's SIGINT.
    name = run.name()
    proc, master = run_on_pty(podman, ["--name", name, "--entrypoint", "sh", pyinit_image,
                                       *READY_THEN_SLEEP[1:]])  # fmt: skip
    try:
        assert exit_after_ctrl_c(proc, master, 2) is None, "^C ended a bare PID 1 sleep"
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        os.close(master)


# 5 ------------------------------------------------------------------------------ podman run --init


def test_under_podman_init_pyinit_is_a_subreaper_and_reaps_orphans(podman, pyinit_image, run, programs):
    proc = podman("run", "--rm", "--init", "--network=none", "-v", programs, "--name", run.name(),
                  pyinit_image, "python3", "/t/orphans.py", "5")  # fmt: skip
    report = last_json(proc.stdout)
    assert not is_pyinit(report["pid1_cmdline"]), report  # podman's catatonit is PID 1
    assert report["ppid"] != 1
    assert is_pyinit(report["parent_cmdline"]), report
    # Re-parented to pyinit, not to PID 1: pyinit registered as a child subreaper.
    assert report["adopted_by"] == [report["ppid"]] * 5
    assert report["zombies"] == []


# 6 ------------------------------------------------------------------------------ --user


def test_user_numeric_uid_without_passwd_entry_runs_the_app_as_it(podman, pyinit_image, run):
    proc = podman("run", "--rm", "--network=none", "--name", run.name(), "--entrypoint", "pyinit",
                  pyinit_image, "--user", "12345", "--", "id")  # fmt: skip
    # Its own number as the gid, no supplementary groups: never root's group 0.
    assert proc.stdout.strip() == "uid=12345 gid=12345 groups=12345"


def test_user_named_gets_its_group_groups_and_home(podman, pyinit_image, run):
    proc = podman("run", "--rm", "--network=none", "--name", run.name(), "--entrypoint", "pyinit",
                  pyinit_image, "--user", "nobody", "--", "sh", "-c", 'id; echo "HOME=$HOME"')  # fmt: skip
    assert proc.stdout.splitlines() == [
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)",
        "HOME=/nonexistent",
    ]


# 8 ------------------------------------------------------------------------------ tini by name


def test_tini_symlink_image_behaves_as_tini(podman, images, run, programs):
    image = images.build("examples/docker/Dockerfile.tini")
    ok = podman("run", "--rm", "--network=none", "--name", run.name(), image)
    assert "hello from under tini (pyinit)" in ok.stdout
    missing = podman("run", "--rm", "--network=none", "--name", run.name(), image, "no-such-command", check=False)
    assert missing.returncode == 127, missing.stderr
    # tini's usage error is 1; pyinit under its own name says 2.
    bad = podman("run", "--rm", "--network=none", "--name", run.name(), "--entrypoint", "tini", image,
                 "--no-such-option", "--", "true", check=False)  # fmt: skip
    assert bad.returncode == 1, bad.stderr

    # Signals go to the child only, as with tini: the helper in its group hears nothing.
    name = run.name()
    app = "python3 /t/signals.py helper & exec python3 /t/signals.py app"
    podman("run", "-d", "--network=none", "-v", programs, "--name", name, image, "sh", "-c", app)
    run.wait_for_log(name, "app ready")
    run.wait_for_log(name, "helper ready")
    podman("kill", "-s", "USR1", name)
    run.wait_for_log(name, "app got SIGUSR1")
    time.sleep(0.5)
    assert "helper got SIGUSR1" not in run.logs(name)
    podman("stop", "-t", "10", name, timeout=40)
    assert run.wait_exit(name) == 143
