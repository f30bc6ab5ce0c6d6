"""Deadlines instead of sleeps: poll a condition until it holds (tests.helpers.wait_until)."""

from __future__ import annotations

from tests.helpers import wait_until as poll  # noqa: F401 - the toolkit tests' name for it
