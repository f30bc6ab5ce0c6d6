"""The runtime path is stdlib-only and imports nothing it does not need to start a child."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pyinit.testing import run_in_namespace
from tests.helpers import ROOT

RUNTIME = ["pyinit.cli", "pyinit.supervisor", "pyinit.spawn", "pyinit.reaper", "pyinit.tree", "pyinit.log",
           "pyinit.signals", "pyinit.config", "pyinit.privileges", "pyinit._linux",
           "pyinit.personalities.pyinit", "pyinit.personalities.tini", "pyinit.personalities.dumb_init",
           "pyinit.personalities.catatonit"]

# Each of these costs start-up a PID 1 pays for nothing: enum (via signal), argparse,
# dataclasses, typing, re, json, ctypes (7 ms; prctl goes through _ctypes), os.
NOT_ON_THE_START_PATH = {"enum", "signal", "argparse", "dataclasses", "typing", "re", "json", "ctypes", "os",
                         "subprocess", "importlib.metadata"}


def test_runtime_modules_import_only_the_standard_library():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            + "; ".join(f"import {name}" for name in RUNTIME)
            + "; print('\\n'.join(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(ROOT)], capture_output=True, text=True,
                            timeout=60, check=True)
    outside = [name for name in result.stdout.split()
               if not name.startswith("pyinit") and name.split(".")[0] not in sys.stdlib_module_names
               and name != "__main__"]
    assert outside == []
    assert not {"psutil", "pytest", "hypothesis"} & set(result.stdout.split())


@pytest.mark.usefixtures("namespaces")
@pytest.mark.parametrize("argv", [["--", "true"], ["-v", "--grace", "1", "--", "true"]], ids=["fast", "options"])
def test_start_as_pid1_imports_nothing_heavy(argv):
    # As PID 1, the way a container starts it: python3 -I -S with the package on the path.
    launcher = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pyinit.cli import main; main()"
    with run_in_namespace([], init=[sys.executable, "-I", "-S", "-X", "importtime", "-c", launcher] + argv) as ns:
        assert ns.wait(30) == 0
    imported = {line.split("|")[-1].strip() for line in ns.stderr.splitlines() if line.startswith("import time:")}
    assert "pyinit.supervisor" in imported  # the measurement saw pyinit start
    assert imported & NOT_ON_THE_START_PATH == set()
