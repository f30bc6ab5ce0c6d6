"""Fixtures for the stress tests: the orphan generator, built once per session."""

from __future__ import annotations

import pytest

from tests.stress.stresskit import orphan_maker


@pytest.fixture(scope="session")
def orphans(tmp_path_factory) -> list[str]:
    """argv prefix of the orphan generator (programs/orphans.c when a compiler is found)."""
    return orphan_maker(tmp_path_factory.mktemp("stress-build"))
