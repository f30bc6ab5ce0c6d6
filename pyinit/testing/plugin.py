"""The pytest plugin (entry point pytest11 `pyinit`): fixtures for PID-1 tests.

`pid1` runs a command in a fresh PID namespace and tears it down after the test.
A test that cannot get a namespace is skipped with the reason, or fails when
PYINIT_REQUIRE_NAMESPACES=1. Loaded in every pytest run of an environment that
has the extra installed, so it imports nothing heavy: psutil and hypothesis are
imported by the functions that use them (`pytest -p pyinit` loads it by name
when plugin autoloading is off).
"""

from __future__ import annotations

import os

import pytest

from .namespace import namespace_support, run_in_namespace


def require_namespaces() -> None:
    """Skip (or fail, with PYINIT_REQUIRE_NAMESPACES=1) when namespaces cannot be made."""
    reason = namespace_support()
    if reason:
        if os.environ.get("PYINIT_REQUIRE_NAMESPACES") == "1":
            pytest.fail(f"PID namespaces required but unavailable: {reason}")
        pytest.skip(f"PID namespaces unavailable: {reason}")


@pytest.fixture
def pid1():
    """Start commands as PID 1 of fresh namespaces; each is torn down after the test.

    pid1(command, init="pyinit", init_args=(), env=None, stdin=None, cwd=None,
    report_leftovers=False) -> NamespaceProcess: see run_in_namespace.
    """
    require_namespaces()
    started = []

    def start(command, **options):
        handle = run_in_namespace(command, **options)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.kill()
