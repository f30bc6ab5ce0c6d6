"""Deadlines instead of sleeps: poll a condition until it holds."""

from __future__ import annotations

import time


def poll(check, timeout: float = 10.0, interval: float = 0.02):
    """Call check() until it returns something true (and return that), or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout}s: {check.__doc__ or check}")
        time.sleep(interval)
