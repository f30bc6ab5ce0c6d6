"""Pure parsing functions: the start-up fast path must agree with the full parser; signal names."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from pyinit import personalities, signals
from pyinit.config import EarlyExit
from pyinit.personalities import pyinit as full_parser
from tests.helpers import ROOT

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


def test_every_standard_signal_has_its_name_even_where_python_lacks_the_constant():
    """Python 3.9 and 3.10 have no SIGSTKFLT; pyinit must still name and parse Linux's 16
    (`-r STKFLT:0`, and the -v logs), the same as on a Python that has it."""
    standard = range(1, 32)
    here = [signals.name(number) for number in standard]
    assert not [name for name in here if name.startswith("signal ")]
    assert [signals.parse(name) for name in here] == list(standard)
    code = f"""
import sys, _signal
if hasattr(_signal, "SIGSTKFLT"):
    del _signal.SIGSTKFLT  # as on Python 3.9 and 3.10
sys.path.insert(0, {str(ROOT)!r})
from pyinit import signals
names = [signals.name(number) for number in range(1, 32)]
print(" ".join(names), [signals.parse(name) for name in names] == list(range(1, 32)))
"""
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == here + ["True"], result.stderr
