"""Fixtures for the toolkit tests: the plugin, pyinit audit, the examples and the builds."""

from __future__ import annotations

import pytest

from pyinit.testing.plugin import require_namespaces


@pytest.fixture
def namespaces():
    require_namespaces()
