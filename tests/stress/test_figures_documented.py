"""The README's Reliability section quotes exactly the figures this suite asserts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stress.stresskit import FIGURES

pytestmark = pytest.mark.stress

SECTION = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"

# How docs/reliability.md says each figure; the number comes from FIGURES.
PHRASES = {
    "orphans": "{:,} orphans",
    "orphan_burst": "bursts of {:,}",
    "storm_signals": "{:,} signals",
    "rt_each": "{0:,} SIGRTMIN+1 and {0:,} SIGRTMIN+2",
    "soak_children": "{:,} short-lived children",
    "rss_slack_kib": "within {:,} KiB",
    "pids_max": "pids.max = {}",
    "nofile": "RLIMIT_NOFILE of {}",
}


def test_reliability_section_quotes_every_figure_the_suite_asserts():
    text = SECTION.read_text()
    assert set(PHRASES) == set(FIGURES)
    missing = [PHRASES[name].format(value) for name, value in FIGURES.items()
               if PHRASES[name].format(value) not in text]
    assert not missing, f"docs/reliability.md does not say: {missing}"
