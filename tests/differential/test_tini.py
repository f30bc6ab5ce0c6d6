"""pyinit invoked as `tini` against tini 0.19: every flag and variable, same observations."""

from __future__ import annotations

import signal

import pytest

from .conftest import require_anchor
from .harness import (
    FAULTS,
    NO_SHEBANG,
    PARENT_DIES,
    PLAIN,
    REALTIME,
    TERMINATING,
    TTY_STOPS,
    Scenario,
    assert_same,
    known_difference,
    signal_id,
)

pytestmark = pytest.mark.differential

S = signal.Signals
TINI = "tini"


def case(*, id: str, **fields) -> pytest.param:
    return pytest.param(Scenario(TINI, **fields), id=id)


SIGNAL_SEQUENCES = [PLAIN, FAULTS, TTY_STOPS, REALTIME, (S.SIGCHLD, S.SIGUSR1, S.SIGCHLD)]

SCENARIOS = [
    # Signals: to the child only by default; -g and TINI_KILL_PROCESS_GROUP the group.
    *(case(id=f"child-only-{signal_id(seq)}", signals=seq) for seq in SIGNAL_SEQUENCES),
    *(case(id=f"group-{signal_id(seq)}", options=("-g",), signals=seq) for seq in SIGNAL_SEQUENCES),
    *(case(id=f"terminating-{signal_id([s])}", signals=(S.SIGUSR1, s)) for s in TERMINATING),
    *(case(id=f"group-terminating-{signal_id([s])}", options=("-g",), signals=(s,)) for s in TERMINATING),
    case(id="TINI_KILL_PROCESS_GROUP-empty", env=(("TINI_KILL_PROCESS_GROUP", ""),),
         signals=(S.SIGUSR1, S.SIGHUP, S.SIGTERM)),
    case(id="TINI_KILL_PROCESS_GROUP-0-still-on", env=(("TINI_KILL_PROCESS_GROUP", "0"),),
         signals=(S.SIGUSR2,)),
    # Exit statuses: the child's, 128+N, and -e remaps (after 128+N, and of 127).
    case(id="exit-3", command=("sh", "-c", "exit 3")),
    case(id="exit-300-is-44", command=("sh", "-c", "exit 300")),
    case(id="killed-by-TERM-143", command=("sh", "-c", "kill -TERM $$")),
    case(id="printer-exit-5", printer=("--exit", "5"), signals=(S.SIGUSR1,)),
    case(id="e-remaps-3", options=("-e", "3"), command=("sh", "-c", "exit 3")),
    case(id="e-remaps-143-after-TERM", options=("-e", "143"), signals=(S.SIGTERM,)),
    case(id="e-other-code-kept", options=("-e", "4"), command=("sh", "-c", "exit 3")),
    case(id="e-repeated", options=("-e", "1", "-e", "3", "-e", "0"), command=("sh", "-c", "exit 3")),
    case(id="e-remaps-127-of-missing", options=("-e", "127"), command=("no-such-command-here",)),
    case(id="e-plus-sign", options=("-e", "+3"), command=("sh", "-c", "exit 3")),
    case(id="e-empty-is-0", options=("-e", ""), command=("sh", "-c", "exit 0")),
    *(case(id=f"e-bad-{bad or 'x'}", options=("-e", bad), command=("true",))
      for bad in ("x", "256", "-1", "5 ", "0x5", "3.0")),
    case(id="e-missing-value", options=("-e",), dashdash=False, command=()),
    # Exec failures and usage errors.
    case(id="not-found-127", command=("no-such-command-here",)),
    case(id="not-executable-126", command=("/etc/passwd",)),
    case(id="directory-126", command=("/etc",)),
    case(id="not-a-directory-1", command=("/etc/passwd/x",)),
    case(id="no-shebang-runs-sh", command=(NO_SHEBANG,)),
    case(id="no-command", dashdash=False, command=()),
    case(id="only-dashdash", command=()),
    case(id="dashdash-twice-execs-dashdash", command=("--", "true")),
    case(id="bad-option-x", options=("-x",), command=("true",)),
    case(id="bad-long-option", options=("--bogus",), command=("true",)),
    case(id="R-is-not-in-0.19", options=("-R", "A"), command=("true",)),
    known_difference(case(id="pyinit-long-option-grace", options=("--grace", "1"), command=("true",)),
                     "pyinit's shared long options (--grace here) work under every personality"),
    # Help, version, licence: only --version alone is the version.
    case(id="h", options=("-h",), dashdash=False, command=()),
    case(id="h-before-bad-option", options=("-h", "-x"), dashdash=False, command=()),
    case(id="bad-option-before-h", options=("-x", "-h"), dashdash=False, command=()),
    case(id="l", options=("-l",), dashdash=False, command=()),
    case(id="version-alone", options=("--version",), dashdash=False, command=()),
    case(id="version-not-alone", options=("--version",), command=("true",)),
    case(id="version-after-dashdash-is-a-command", command=("--version",)),
    # GNU permutation: options after the program are tini's; POSIXLY_CORRECT stops it.
    case(id="permuted-l-after-program", dashdash=False, command=("sh", "-c", "exit 3", "-l")),
    case(id="POSIXLY_CORRECT-no-permutation", env=(("POSIXLY_CORRECT", "1"),), dashdash=False,
         command=("sh", "-c", "exit 3", "-l")),
    # Verbosity: -v adds, TINI_VERBOSITY replaces (atoi, read after argv); INFO+ on stdout.
    case(id="v", options=("-v",), command=("sh", "-c", "exit 2")),
    case(id="vv", options=("-vv",), signals=(S.SIGUSR1,)),
    case(id="vvv", options=("-v", "-v", "-v"), command=("sh", "-c", "exit 0")),
    case(id="TINI_VERBOSITY-0-silences-vvv", options=("-vvv",), env=(("TINI_VERBOSITY", "0"),),
         command=("no-such-command-here",)),
    case(id="TINI_VERBOSITY-3", env=(("TINI_VERBOSITY", "3"),), command=("true",)),
    case(id="TINI_VERBOSITY-junk-is-0", env=(("TINI_VERBOSITY", "junk"),), command=("nope-nope",)),
    case(id="TINI_VERBOSITY-minus-1-is-all", env=(("TINI_VERBOSITY", "-1"),), command=("true",)),
    case(id="TINI_VERBOSITY-2-not-PID1", env=(("TINI_VERBOSITY", "2"),), pid1=False, command=("true",)),
    # -w: a warning for every reaped process that is not the child.
    case(id="w-orphan", options=("-w",), printer=("--grandchild", "--orphan")),
    case(id="no-w-orphan", printer=("--grandchild", "--orphan")),
    # Not PID 1: the warning, -s and TINI_SUBREAPER, who is left when the child exits.
    case(id="not-pid1-warns", pid1=False, signals=(S.SIGUSR1,)),
    case(id="not-pid1-fault-kills-tini", options=("-s",), pid1=False, signals=(S.SIGSEGV,)),
    known_difference(case(id="not-pid1-fault-kills-tini-and-its-buffered-info-lines", options=("-s", "-vv"),
                          pid1=False, signals=(S.SIGILL,)),
                     "tini's INFO lines wait in its stdout buffer and die with it; pyinit writes each at once"),
    case(id="not-pid1-s", options=("-s",), pid1=False, printer=("--grandchild", "--orphan")),
    case(id="not-pid1-TINI_SUBREAPER-empty", env=(("TINI_SUBREAPER", ""),), pid1=False,
         signals=(S.SIGHUP,)),
    case(id="not-pid1-child-exits-grandchild-lives-on", options=("-s",), pid1=False,
         printer=("--grandchild", "--child-exits", "7")),
    case(id="not-pid1-group-child-exits", options=("-s", "-g"), pid1=False,
         printer=("--grandchild", "--child-exits", "7")),
    case(id="pid1-child-exits-grandchild-lives-on", printer=("--grandchild", "--child-exits", "9")),
    case(id="not-pid1-tstp-does-not-stop-tini", options=("-s",), pid1=False,
         signals=(S.SIGTSTP, S.SIGCONT, S.SIGTTIN)),
    # -p: parent-death signal, names only.
    case(id="p-SIGUSR1-parent-dies", options=("-s", "-p", "SIGUSR1"), pid1=False, via_parent=True,
         signals=(S.SIGHUP, PARENT_DIES, S.SIGUSR2)),
    case(id="p-SIGKILL-parent-dies-tini-dies-child-lives-on", options=("-s", "-p", "SIGKILL"), pid1=False,
         via_parent=True, signals=(PARENT_DIES,)),
    case(id="p-SIGKILL-accepted", options=("-p", "SIGKILL"), command=("sh", "-c", "exit 4")),
    *(case(id=f"p-bad-{bad}", options=("-p", bad), command=("true",)) for bad in ("9", "sigkill", "KILL", "SIGRTMIN")),
    # The child keeps the mask and the SIG_IGNs tini was started with.
    case(id="inherited-ignore-kept", ignore_in_parent=(S.SIGUSR1, S.SIGHUP), signals=(S.SIGUSR2,)),
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tini_personality_matches_tini(scenario: Scenario) -> None:
    """pyinit as `tini` should do what tini 0.19 does, as a user can see it."""
    require_anchor(TINI)
    assert_same(scenario)
