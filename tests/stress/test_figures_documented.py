"""The README's Reliability section quotes exactly the figures this suite asserts."""

from __future__ import annotations

import pytest

from tests.helpers import readme_section
from tests.stress.stresskit import FIGURES

pytestmark = pytest.mark.stress

# How the README's Reliability section says each figure; the number comes from FIGURES.
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
    text = readme_section("Reliability")
    assert set(PHRASES) == set(FIGURES)
    missing = [PHRASES[name].format(value) for name, value in FIGURES.items()
               if PHRASES[name].format(value) not in text]
    assert not missing, f"the README's Reliability section does not say: {missing}"
