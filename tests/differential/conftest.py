"""Differential tests need PID namespaces and the real tini, dumb-init and catatonit."""

from __future__ import annotations

import os

import pytest

from pyinit.testing.plugin import require_namespaces

from .harness import anchor_binary


def require_anchor(name: str) -> None:
    """Skip without the real binary; fail instead in CI, where .ci/run installs it."""
    require_namespaces()
    if anchor_binary(name) is None:
        reason = f"{name} is not installed (apt-get install -y {name}; .ci/run installs it)"
        if "1" in (os.environ.get("PYINIT_REQUIRE_ANCHORS"), os.environ.get("PYINIT_REQUIRE_NAMESPACES")):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def anchors():
    """Check that every anchor named by the test's scenario is there (call with names)."""
    return lambda *names: [require_anchor(name) for name in names]
