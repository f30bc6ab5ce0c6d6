"""The runtime path is stdlib-only and imports nothing it does not need to start a child."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from pyinit.testing import run_in_namespace
from tests.helpers import ROOT

RUNTIME = ["pyinit.cli", "pyinit.supervisor", "pyinit.forwarding", "pyinit.shutdown", "pyinit.spawn", "pyinit.forkexec",
           "pyinit.reaper", "pyinit.tree", "pyinit.log",
           "pyinit.signals", "pyinit.config", "pyinit.privileges", "pyinit._linux",
           "pyinit.personalities.pyinit", "pyinit.personalities.tini", "pyinit.personalities.dumb_init",
           "pyinit.personalities.catatonit"]

# Each of these costs start-up a PID 1 pays for nothing: enum (via signal), argparse,
# dataclasses, typing, re, json, ctypes (7 ms; prctl goes through _ctypes), os.
NOT_ON_THE_START_PATH = {"enum", "signal", "argparse", "dataclasses", "typing", "re", "json", "ctypes", "os",
                         "subprocess", "importlib.metadata"}


def _launcher(root: Path) -> str:
    """python -c code that runs pyinit from the package under `root`, as the console script does."""
    return f"import sys; sys.path.insert(0, {str(root)!r}); from pyinit.cli import main; main()"


def _install_without(tmp_path: Path, module: str) -> Path:
    """A copy of the package with `module` missing (a broken install); returns its root."""
    shutil.copytree(ROOT / "pyinit", tmp_path / "pyinit", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "pyinit" / module).unlink()
    return tmp_path


def test_runtime_modules_import_only_the_standard_library():
    # Each module with where it came from: built in or frozen (no file), the standard
    # library's directories, or elsewhere (sys.stdlib_module_names is not in Python 3.9).
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            + "; ".join(f"import {name}" for name in RUNTIME)
            + "; print('\\n'.join(f'{n} {getattr(m, \"__file__\", None) or \"-\"}'"
            + " for n, m in sorted(sys.modules.items())))")
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(ROOT)], capture_output=True, text=True,
                            timeout=60, check=True)
    modules = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    stdlib = tuple({sysconfig.get_paths()[key] + "/" for key in ("stdlib", "platstdlib")})
    outside = [name for name, file in modules.items()
               if not name.startswith("pyinit") and name != "__main__" and file != "-"
               and (not file.startswith(stdlib) or "-packages/" in file)]
    assert outside == []
    assert "pyinit.supervisor" in modules and not {"psutil", "pytest", "hypothesis"} & set(modules)


@pytest.mark.usefixtures("namespaces")
@pytest.mark.parametrize("argv", [["--", "true"], ["-v", "--grace", "1", "--", "true"]], ids=["fast", "options"])
def test_start_as_pid1_imports_nothing_heavy(argv):
    # As PID 1, the way a container starts it: python3 -I -S with the package on the path.
    launcher = _launcher(ROOT)
    with run_in_namespace([], init=[sys.executable, "-I", "-S", "-X", "importtime", "-c", launcher] + argv) as ns:
        assert ns.wait(30) == 0
    imported = {line.split("|")[-1].strip() for line in ns.stderr.splitlines() if line.startswith("import time:")}
    assert "pyinit.supervisor" in imported  # the measurement saw pyinit start
    assert imported & NOT_ON_THE_START_PATH == set()


@pytest.mark.usefixtures("namespaces")
def test_a_module_missing_after_the_child_started_stops_it_and_exits_1(tmp_path):
    """The loop's modules are imported while the child starts; if the install lacks one,
    pyinit must neither hang nor leave the child running: one line, the child killed, 1."""
    launcher = _launcher(_install_without(tmp_path, "shutdown.py"))
    with run_in_namespace(["sleep", "60"], init=[sys.executable, "-I", "-S", "-c", launcher, "--"]) as ns:
        assert ns.wait(30) == 1
    lines = ns.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyinit: cannot load its own modules: "), ns.stderr
    assert lines[0].endswith("; stopping the child")


def test_a_module_missing_as_a_subreaper_leaves_no_child_behind(tmp_path):
    launcher = _launcher(_install_without(tmp_path, "forwarding.py"))
    # The child's pid comes from pyinit's own -v line: pyinit may kill the child before
    # it could print anything itself (that race failed CI once).
    result = subprocess.run([sys.executable, "-I", "-S", "-c", launcher, "-v", "--", "sleep", "60"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1, result.stderr
    assert "pyinit: cannot load its own modules: " in result.stderr
    child = int(re.search(r"started 'sleep' as pid (\d+)", result.stderr)[1])
    try:
        state = (Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split() or ["?"])[0]
    except FileNotFoundError:
        state = None  # killed and reaped
    assert state is None, f"the child {child} is still there ({state})"


def test_garbage_collection_pauses_during_start_up_and_resumes_once_the_child_runs():
    """Program mode: the collector is off while pyinit starts, and on (past a freeze) for the loop."""
    code = f"""
import gc, sys
sys.path.insert(0, {str(ROOT)!r})
from pyinit import cli
resume = cli._collect_again
def spy():
    during = gc.isenabled()
    resume()
    print(during, gc.isenabled(), gc.get_freeze_count() > 0, flush=True)
cli._collect_again = spy
sys.argv = ["pyinit", "--", "true"]
cli.main()
"""
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "False True True\n", "")


def test_pyinit_called_from_python_leaves_the_callers_collector_alone():
    code = f"""
import gc, sys
sys.path.insert(0, {str(ROOT)!r})
from pyinit import cli
frozen = gc.get_freeze_count()  # not 0 everywhere: Python 3.12.1 starts with objects frozen
print(cli.main(["pyinit", "--", "true"]), gc.isenabled(), gc.get_freeze_count() == frozen)
"""
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "0 True True\n"), result.stderr
