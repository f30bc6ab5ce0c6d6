"""Hypothesis draws scenarios (flags, variables, signal sequences, exit codes); anchor and pyinit must agree."""

from __future__ import annotations

import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import require_anchor
from .harness import FAULTS, PLAIN, REALTIME, TERMINATING, TTY_STOPS, Scenario, assert_same

pytestmark = pytest.mark.differential

S = signal.Signals
# Each example runs two inits in two namespaces: keep the counts modest.
SCENARIO_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ARGUMENT_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def signal_sequences(faults=True):
    """Up to five signals any init may get, and maybe one that ends the child last."""
    pool = st.sampled_from(PLAIN + (FAULTS if faults else ()) + TTY_STOPS + REALTIME + (S.SIGCHLD,))
    ending = st.sampled_from(TERMINATING)
    return st.tuples(st.lists(pool, max_size=5), st.lists(ending, max_size=1)).map(lambda p: tuple(p[0] + p[1]))


exit_codes = st.integers(min_value=0, max_value=255)


@st.composite
def tini_scenarios(draw):
    options, env = [], []
    if draw(st.booleans()):
        options.append("-g")
    elif draw(st.booleans()):
        env.append(("TINI_KILL_PROCESS_GROUP", draw(st.sampled_from(["", "1", "0"]))))
    options += ["-v"] * draw(st.integers(0, 3))
    if draw(st.booleans()):
        env.append(("TINI_VERBOSITY", draw(st.sampled_from(["0", "1", "2", "3", "4", "x", "-1"]))))
    if draw(st.booleans()):
        options.append("-w")
    code = draw(exit_codes)
    for remapped in draw(st.lists(st.sampled_from([code, 143, 130, 0, 1]), max_size=2)):
        options += ["-e", str(remapped)]
    pid1 = draw(st.booleans())
    if not pid1 and draw(st.booleans()):
        options.append("-s")
    printer = ["--grandchild", "--exit", str(code)]
    if draw(st.booleans()):
        printer.append("--orphan")
    # Not PID 1, a fault signal kills tini, and with it the log lines still in
    # its stdout buffer: a documented difference, tested on its own in test_tini.
    return Scenario("tini", options=tuple(options), env=tuple(env), printer=tuple(printer),
                    signals=draw(signal_sequences(faults=pid1)), pid1=pid1)


@st.composite
def dumb_init_scenarios(draw):
    options, env = [], []
    single = draw(st.sampled_from(["setsid", "-c", "--single-child", "DUMB_INIT_SETSID=0"]))
    if single.startswith("-"):
        options.append(single)
    elif single != "setsid":
        env.append(("DUMB_INIT_SETSID", "0"))
    for _ in range(draw(st.integers(0, 2))):
        rule = f"{draw(st.integers(1, 31))}:{draw(st.integers(0, 31))}"
        options += draw(st.sampled_from([["-r", rule], [f"--rewrite={rule}"]]))
    if draw(st.booleans()):
        options.append("-v")
    elif draw(st.booleans()):
        env.append(("DUMB_INIT_DEBUG", draw(st.sampled_from(["1", "0", "true"]))))
    return Scenario("dumb-init", options=tuple(options), env=tuple(env),
                    printer=("--grandchild", "--exit", str(draw(exit_codes))),
                    signals=draw(signal_sequences()), pid1=draw(st.booleans()))


@st.composite
def catatonit_scenarios(draw):
    options = ("-g",) if draw(st.booleans()) else ()
    env = (("CATATONIT_DEBUG", ""),) if draw(st.booleans()) else ()
    printer = ["--grandchild", "--exit", str(draw(exit_codes))]
    if draw(st.booleans()):
        printer.append("--orphan")
    return Scenario("catatonit", options=options, env=env, printer=tuple(printer),
                    signals=draw(signal_sequences()), pid1=draw(st.booleans()))


@SCENARIO_SETTINGS
@given(scenario=tini_scenarios())
def test_drawn_tini_scenarios_match_tini(scenario: Scenario) -> None:
    """pyinit as tini should agree with tini on any mix of flags, variables and signals."""
    require_anchor("tini")
    assert_same(scenario)


@SCENARIO_SETTINGS
@given(scenario=dumb_init_scenarios())
def test_drawn_dumb_init_scenarios_match_dumb_init(scenario: Scenario) -> None:
    """pyinit as dumb-init should agree with dumb-init on any mix of modes, rewrites and signals."""
    require_anchor("dumb-init")
    assert_same(scenario)


@SCENARIO_SETTINGS
@given(scenario=catatonit_scenarios())
def test_drawn_catatonit_scenarios_match_catatonit(scenario: Scenario) -> None:
    """pyinit as catatonit should agree with catatonit on any mix of flags and signals."""
    require_anchor("catatonit")
    assert_same(scenario)


# --- option values, as C parses them: strtol, sscanf, atoi, exact names -------------------

numberish = st.text(alphabet=" +-0123456789x:", max_size=7)


@ARGUMENT_SETTINGS
@given(value=numberish, code=exit_codes)
def test_drawn_tini_e_values_are_accepted_and_rejected_as_tini_does(value: str, code: int) -> None:
    """tini -e VALUE: same acceptance (strtol, whole string, 0-255) and the same remap."""
    require_anchor("tini")
    assert_same(Scenario("tini", options=("-e", value), command=("sh", "-c", f"exit {code}")))


@ARGUMENT_SETTINGS
@given(value=numberish)
def test_drawn_dumb_init_rewrite_values_are_accepted_and_rejected_as_dumb_init_does(value: str) -> None:
    """dumb-init -r VALUE: same acceptance (sscanf "%d:%d", 1-31 and 0-31)."""
    require_anchor("dumb-init")
    assert_same(Scenario("dumb-init", options=("-r", value), command=("sh", "-c", "exit 3")))


@ARGUMENT_SETTINGS
@given(value=st.one_of(numberish, st.sampled_from(["SIGKILL", "SIGUSR1", "SIGSYS", "SIGRTMIN", "KILL",
                                                   "sigterm", "SIGWINCH", "SIGIOT", "SIGPOLL"])))
def test_drawn_tini_p_values_are_accepted_and_rejected_as_tini_does(value: str) -> None:
    """tini -p VALUE: only the exact names in tini's table."""
    require_anchor("tini")
    assert_same(Scenario("tini", options=("-p", value), command=("sh", "-c", "exit 5")))


@ARGUMENT_SETTINGS
@given(value=numberish)
def test_drawn_tini_verbosity_values_read_as_tini_reads_them(value: str) -> None:
    """TINI_VERBOSITY: atoi into an unsigned level; which streams speak must agree."""
    require_anchor("tini")
    assert_same(Scenario("tini", env=(("TINI_VERBOSITY", value),), command=("no-such-command-here",)))


@ARGUMENT_SETTINGS
@given(argv=st.lists(st.sampled_from(["-g", "-h", "-L", "-P", "-V", "--version", "--v", "-x", "--", "-gP",
                                      "--help", "sh", "-c", "exit 3"]), max_size=5))
def test_drawn_catatonit_command_lines_parse_as_catatonit_does(argv: list) -> None:
    """catatonit's getopt_long "ghLPV": permutation, bundling, order, long prefixes."""
    require_anchor("catatonit")
    if "-P" in argv or "-gP" in argv:
        return  # pause mode waits for a signal: covered by the scenario tests
    assert_same(Scenario("catatonit", dashdash=False, command=tuple(argv)))
