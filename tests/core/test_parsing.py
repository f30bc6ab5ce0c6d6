"""Pure parsing functions: the start-up fast path must agree with the full parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pyinit import personalities
from pyinit.config import EarlyExit
from pyinit.personalities import pyinit as full_parser

words = st.lists(st.sampled_from(["--", "-v", "-c", "true", "sh", "-", "x y", "--grace", "3", "--help"]),
                 max_size=5)


def _outcome(parse, argv):
    try:
        return ("config", parse(argv))
    except EarlyExit as early:
        return ("exit", early.status)


@settings(max_examples=300, deadline=None)
@given(words)
def test_fast_path_gives_the_same_result_as_the_full_parser(argv):
    fast = _outcome(lambda a: personalities.parse("pyinit", a, {}), argv)
    full = _outcome(lambda a: full_parser.parse(a, {}), argv)
    assert fast == full
