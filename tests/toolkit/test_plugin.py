"""The pytest plugin: the pid1 fixture, its handle, psutil views and readable failures."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import psutil
import pytest

from pyinit.testing import run_in_namespace
from pyinit.testing.strategies import tree_command
from tests.helpers import readme_section

from .waiting import poll

PY = sys.executable
PRINTER = [PY, "-m", "pyinit.testing.signal_printer"]
ORPHANS = [PY, "-m", "pyinit.testing.orphan_maker", "-n", "2", "--"]
ROOT = Path(__file__).resolve().parents[2]


def test_handle_gives_pid_output_signals_and_status(pid1):
    """pid1() starts pyinit as PID 1; the handle signals it and reports what the child saw."""
    ns = pid1(PRINTER)
    ns.wait_for_output("ready child")
    assert ns.pid > 0 and ns.returncode is None
    assert ns.processes()[0].pid == ns.pid
    ns.send_signal(signal.SIGUSR1)
    ns.wait_for_output("child SIGUSR1")
    ns.send_signal(signal.SIGTERM)
    assert ns.wait(10) == 128 + signal.SIGTERM
    assert ns.returncode == 128 + signal.SIGTERM


def test_bare_pid1_without_handler_ignores_sigterm(pid1):
    """init=None makes the command itself PID 1, where SIGTERM without a handler is dropped."""
    ns = pid1([PY, "-c", "import time; print('up', flush=True); time.sleep(60)"], init=None)
    ns.wait_for_output("up")
    ns.send_signal(signal.SIGTERM)
    with pytest.raises(subprocess.TimeoutExpired):
        ns.wait(1.0)  # wait() kills the namespace on timeout
    assert ns.returncode == 128 + signal.SIGKILL


def test_zombies_of_a_bare_pid1_are_listed_with_pid_ppid_name_state_cmdline(pid1):
    """Orphans re-parented to a PID 1 that never waits stay zombies, and the failure says which."""
    ns = pid1(ORPHANS + ["sleep", "30"], init=None)
    zombies = poll(lambda: len(ns.zombies()) == 2 and ns.zombies(), timeout=10)
    assert all(z.ppid() == ns.pid for z in zombies)
    with pytest.raises(AssertionError) as failure:
        ns.assert_no_zombies()
    message = str(failure.value)
    assert message.startswith("2 zombies found:")
    for line in message.splitlines()[1:]:
        assert re.search(rf"pid=\d+ \(\d+ inside\) ppid={ns.pid} name='python3?' state=zombie cmdline=\[\]", line), line


def test_under_pyinit_orphans_are_reaped(pid1):
    """The same orphans under pyinit are reaped: only pyinit and the command are left."""
    ns = pid1(ORPHANS + ["sleep", "30"])

    def settled():
        """only pyinit and sleep remain"""
        try:
            names = [p.name() for p in ns.processes()]
        except psutil.NoSuchProcess:
            return False  # an orphan was reaped between the listing and its name: not settled yet
        return len(names) == 2 and names[1] == "sleep"

    poll(settled, timeout=10)
    ns.assert_no_zombies()


def test_assert_no_leaks_names_each_leftover(pid1):
    """assert_no_leaks lists every process but PID 1 with its command line."""
    ns = pid1(["sh", "-c", "sleep 31 & echo started; exec sleep 30"])
    ns.wait_for_output("started")
    # Wait for the two commands themselves: right after the fork the child's
    # command line is still sh's, until it has exec'd sleep.
    poll(lambda: sorted(" ".join(p.cmdline()) for p in ns.processes()[1:]) == ["sleep 30", "sleep 31"])
    with pytest.raises(AssertionError) as failure:
        ns.assert_no_leaks()
    message = str(failure.value)
    assert message.startswith("2 leftover processes found:")
    assert "cmdline=['sleep', '31']" in message and "cmdline=['sleep', '30']" in message


def _stubborn_tree() -> dict:
    # The root exits at once; a detached grandchild ignores SIGTERM and would live 20 s.
    stubborn = {"exit": 0, "delay": 20, "sigterm": "ignore", "detach": True, "children": []}
    return {"exit": 4, "delay": 0.2, "sigterm": "default", "detach": False,
            "children": [{"exit": 0, "delay": 0.1, "sigterm": "default", "detach": False, "children": [stubborn]}]}


def test_leftovers_is_empty_when_pyinit_ends_everything(pid1):
    """report_leftovers runs pyinit as a subreaper and checks what is left when it exits."""
    ns = pid1(tree_command(_stubborn_tree()), init_args=["--grace", "0.3"], report_leftovers=True)
    assert ns.wait(30) == 4
    ns.assert_nothing_left()


@pytest.mark.skipif(not Path("/usr/bin/tini").exists(), reason="the real tini is not installed")
def test_leftovers_lists_what_tini_leaves_behind(pid1):
    """tini exits with its child; the detached process survives it, and the failure says so."""
    ns = pid1(tree_command(_stubborn_tree()), init=["/usr/bin/tini", "-s", "--"], report_leftovers=True)
    assert ns.wait(30) == 4
    with pytest.raises(AssertionError) as failure:
        ns.assert_nothing_left()
    message = str(failure.value)
    assert message.startswith("1 process left after the init exited:")
    assert "state=S" in message and "tree_runner" in message


def test_namespace_is_torn_down_when_the_block_ends(namespaces):
    """Leaving the with block kills PID 1 and so everything inside."""
    with run_in_namespace(["sleep", "60"]) as ns:
        pid = ns.pid
        poll(lambda: len(ns.processes()) == 2)
        inside = [p.pid for p in ns.processes()]
    assert ns.returncode is not None
    for gone in inside:  # a pid may be reused by then, but not as a child of our PID 1
        assert not Path(f"/proc/{gone}").exists() or f") {gone}" not in Path(f"/proc/{gone}/stat").read_text()
    assert not Path(f"/proc/{pid}").exists()


def test_importing_the_plugin_imports_neither_psutil_nor_hypothesis():
    """The plugin loads in every pytest run of the environment, so it must cost nothing."""
    code = "import sys, pyinit.testing.plugin; print(sorted({'psutil', 'hypothesis'} & set(sys.modules)))"
    result = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr


def test_plugin_is_registered_as_pytest11_entry_point():
    every = metadata.entry_points()
    # Python 3.9's entry_points() is a dict by group, takes no group= yet, and lists a
    # distribution once for each sys.path entry that finds it (the checkout, the .pth).
    group = every.select(group="pytest11") if hasattr(every, "select") else every.get("pytest11", ())
    assert {e.value for e in group if e.name == "pyinit"} == {"pyinit.testing.plugin"}


EXTERNAL_TEST = '''
import signal

from pyinit.testing.strategies import tree_command


def test_my_app_stops_on_sigterm_as_pid1(pid1):
    app = pid1(["sh", "-c", "echo ready; exec sleep 60"])
    app.wait_for_output("ready")
    app.send_signal(signal.SIGTERM)
    assert app.wait(10) == 128 + signal.SIGTERM


def test_my_tree_leaves_nothing(pid1):
    tree = {"exit": 3, "delay": 0.1, "sigterm": "trap", "detach": False,
            "children": [{"exit": 0, "delay": 5, "sigterm": "ignore", "detach": True, "children": []}]}
    run = pid1(tree_command(tree), init_args=["--grace", "0.2"], report_leftovers=True)
    assert run.wait(30) == 3
    run.assert_nothing_left()
'''


def _run_pytest(project: Path, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(env_extra or {})
    env["PYTHONPATH"] = ""  # the project imports pyinit only as an installed package
    return subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize(
    "how, args, env_extra",
    [
        ("entry point", (), {}),
        ("-p pyinit", ("-p", "pyinit"), {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        ("-p module", ("-p", "pyinit.testing.plugin"), {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
    ],
)
def test_plugin_works_in_a_project_that_is_not_pyinit(namespaces, tmp_path, how, args, env_extra):
    """A fresh project, with no conftest of its own, gets the pid1 fixture from the plugin."""
    (tmp_path / "test_app.py").write_text(EXTERNAL_TEST)
    result = _run_pytest(tmp_path, *args, env_extra=env_extra)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_readme_example_runs_as_written(namespaces, tmp_path):
    """The README's example test, copied into a project of its own, passes."""
    text = readme_section("Testing PID-1 behaviour: the pytest plugin")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "the README's testing section has no python example"
    (tmp_path / "test_readme_example.py").write_text(textwrap.dedent(blocks[0]))
    result = _run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b\d+ passed\b", result.stdout) and "failed" not in result.stdout
    assert "skipped" not in result.stdout
