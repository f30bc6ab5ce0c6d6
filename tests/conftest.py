"""Shared fixtures: every test that needs a PID namespace goes through pyinit.testing."""

from __future__ import annotations

import pytest

from pyinit.testing import pyinit_command
from pyinit.testing.plugin import require_namespaces


@pytest.fixture
def pyinit():
    """argv prefix for the installed pyinit console script."""
    return pyinit_command()


@pytest.fixture
def namespaces():
    """Skip (or fail with PYINIT_REQUIRE_NAMESPACES=1) where PID namespaces cannot be made."""
    require_namespaces()
