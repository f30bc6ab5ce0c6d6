"""Shared fixtures: every test that needs a PID namespace goes through pyinit.testing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyinit.testing import pyinit_command
from pyinit.testing.plugin import require_namespaces

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PY = sys.executable
PRINTER = [PY, "-m", "pyinit.testing.signal_printer"]


@pytest.fixture
def pyinit():
    """argv prefix for the installed pyinit console script."""
    return pyinit_command()


@pytest.fixture
def namespaces():
    require_namespaces()
