"""Every example in examples/ runs, and shows what it says it shows."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from .waiting import poll

PY = sys.executable
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PRINTER = [PY, "-m", "pyinit.testing.signal_printer"]
TINI = Path("/usr/bin/tini")


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".py", ".sh")))
def test_example_is_an_executable_script(name):
    path = EXAMPLES / name
    assert os.access(path, os.X_OK), f"chmod +x examples/{name}"
    assert path.read_text().startswith("#!/"), f"examples/{name} has no #! line"


# --- entrypoint.sh: a background worker that flushes on SIGTERM, then exec ----------------


def _entrypoint(pid1, tmp_path, init, init_args=()):
    env = dict(os.environ, WORKER_OUT=str(tmp_path), WORKER_FLUSH_SECONDS="1")
    ns = pid1(["sh", str(EXAMPLES / "entrypoint.sh")] + PRINTER, init=init, init_args=init_args, env=env)
    ns.wait_for_output("worker: ready")
    ns.wait_for_output("ready child")
    return ns


def test_entrypoint_worker_finishes_its_flush_under_pyinit(pid1, tmp_path):
    """docker stop: the main process ends at once; pyinit waits (within --grace) for the worker's flush."""
    ns = _entrypoint(pid1, tmp_path, "pyinit", ["--grace", "10"])
    ns.send_signal(signal.SIGTERM)
    assert ns.wait(30) == 128 + signal.SIGTERM  # the main process's status
    out = ns.stdout
    assert out.index("child SIGTERM") < out.index("worker: flushed")
    assert (tmp_path / "worker-flush.txt").read_text().endswith(" records\n")


@pytest.mark.skipif(not TINI.exists(), reason="the real tini is not installed (/usr/bin/tini)")
def test_entrypoint_worker_loses_its_flush_under_tini(pid1, tmp_path):
    """tini exits with the main process; the kernel kills the worker before it has written anything."""
    ns = _entrypoint(pid1, tmp_path, [str(TINI), "--"])
    ns.send_signal(signal.SIGTERM)
    assert ns.wait(30) == 128 + signal.SIGTERM
    assert "worker: flushed" not in ns.stdout
    assert not (tmp_path / "worker-flush.txt").exists()


def test_entrypoint_grace_shorter_than_the_flush_cuts_it_off(pid1, tmp_path):
    """--grace bounds the wait: a 1 s flush with --grace 0.2 is SIGKILLed, and pyinit still exits."""
    ns = _entrypoint(pid1, tmp_path, "pyinit", ["--grace", "0.2"])
    ns.send_signal(signal.SIGTERM)
    assert ns.wait(30) == 128 + signal.SIGTERM
    assert not (tmp_path / "worker-flush.txt").exists()


# --- nginx_like.py: SIGTERM rewritten to SIGQUIT for a graceful shutdown --------------------


NGINX = [PY, str(EXAMPLES / "nginx_like.py")]


def test_sigterm_rewritten_to_sigquit_shuts_down_gracefully(pid1):
    ns = pid1(NGINX, init_args=["-r", "TERM:QUIT"])
    ns.wait_for_output("ready")
    ns.send_signal(signal.SIGTERM)
    assert ns.wait(30) == 0
    assert "graceful shutdown: finished" in ns.stdout and "dropped 0" in ns.stdout


def test_sigterm_as_is_makes_a_fast_shutdown(pid1):
    ns = pid1(NGINX)
    ns.wait_for_output("ready")
    ns.send_signal(signal.SIGTERM)
    assert ns.wait(30) == 0
    assert "fast shutdown: finished" in ns.stdout and "dropped 1 in flight" in ns.stdout


# --- zombie_factory.py: orphans and an unreaped child ---------------------------------------


FACTORY = [PY, str(EXAMPLES / "zombie_factory.py"), "5"]


def test_zombie_factory_as_bare_pid1_leaves_zombies(pid1):
    ns = pid1(FACTORY, init=None)
    ns.wait_for_output("zombie_factory: made 5 orphans")
    zombies = poll(lambda: len(ns.zombies()) >= 3 and ns.zombies(), timeout=5)
    assert all(z.ppid() == ns.pid for z in zombies)  # PID 1 never reaps them
    assert ns.wait(30) == 0


def test_zombie_factory_under_pyinit_is_reaped_and_leaves_nothing(pid1):
    ns = pid1(FACTORY, init_args=["-w"], report_leftovers=True)
    assert ns.wait(30) == 0
    ns.assert_nothing_left()
    # pyinit (as subreaper here) reaped the orphans and the unreaped child it inherited.
    assert ns.stderr.count("reaped zombie process") >= 5 + 1, ns.stderr


# --- reaping_pid1.py: a program that needs no init ------------------------------------------


def test_reaping_pid1_as_bare_pid1_stops_on_sigterm_and_reaps_orphans(pid1):
    orphans = [PY, "-m", "pyinit.testing.orphan_maker", "-n", "3", "--"]
    ns = pid1(orphans + [PY, str(EXAMPLES / "reaping_pid1.py")], init=None)
    ns.wait_for_output("ready")

    def settled():
        """only reaping_pid1 is left: its orphans were reaped"""
        return len(ns.processes()) == 1

    poll(settled, timeout=10)
    ns.send_signal(signal.SIGTERM)
    assert ns.wait(10) == 0
