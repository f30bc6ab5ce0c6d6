"""pyinit invoked as `catatonit` against catatonit 0.1.7: every flag and variable, same observations."""

from __future__ import annotations

import signal

import pytest

from .conftest import require_anchor
from .harness import (
    FAULTS,
    NO_SHEBANG,
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
CATATONIT = "catatonit"


def case(*, id: str, **fields) -> pytest.param:
    return pytest.param(Scenario(CATATONIT, **fields), id=id)


SEQUENCES = [PLAIN, FAULTS, TTY_STOPS, REALTIME, (S.SIGCHLD, S.SIGUSR1, S.SIGCHLD)]

SCENARIOS = [
    # Signals: the child only by default, its group with -g; tty stops and faults never.
    *(case(id=f"child-only-{signal_id(seq)}", signals=seq) for seq in SEQUENCES),
    *(case(id=f"g-{signal_id(seq)}", options=("-g",), signals=seq) for seq in SEQUENCES),
    *(case(id=f"terminating-{signal_id([s])}", signals=(S.SIGUSR2, s)) for s in TERMINATING),
    *(case(id=f"g-terminating-{signal_id([s])}", options=("-g",), signals=(s,)) for s in TERMINATING),
    # The child starts with SIGTSTP/SIGTTIN/SIGTTOU blocked, and keeps inherited SIG_IGNs.
    case(id="inherited-ignore-kept", ignore_in_parent=(S.SIGUSR1,), signals=(S.SIGHUP,)),
    # LISTEN_PID naming catatonit becomes the child's pid; any other value is left alone.
    case(id="LISTEN_PID-1-rewritten", env=(("LISTEN_PID", "1"),), signals=()),
    case(id="LISTEN_PID-other-kept", env=(("LISTEN_PID", "77"),), signals=()),
    # -P: pause mode, any command ignored; SIGTERM or SIGINT ends it with 0.
    case(id="P-TERM", options=("-P",), signals=(S.SIGUSR1, S.SIGHUP, S.SIGTERM)),
    case(id="P-INT", options=("-P",), signals=(S.SIGINT,)),
    case(id="P-ignores-command", options=("-P",), command=("sh", "-c", "exit 3"), signals=(S.SIGTERM,)),
    case(id="P-no-command", options=("-P",), dashdash=False, command=(), signals=(S.SIGQUIT, S.SIGTERM)),
    case(id="P-not-pid1", options=("-P",), pid1=False, command=(), signals=(S.SIGUSR2, S.SIGINT)),
    # Exit statuses: the child's, 128+N; every failure to run the command 1.
    case(id="exit-3", command=("sh", "-c", "exit 3")),
    case(id="exit-300-is-44", command=("sh", "-c", "exit 300")),
    case(id="killed-by-TERM-143", command=("sh", "-c", "kill -TERM $$")),
    case(id="printer-exit-8", printer=("--exit", "8"), signals=(S.SIGUSR1,)),
    case(id="not-found-1", command=("no-such-command-here",)),
    case(id="not-executable-1", command=("/etc/passwd",)),
    case(id="directory-1", command=("/etc",)),
    case(id="no-shebang-runs-sh", command=(NO_SHEBANG,)),
    case(id="no-command", dashdash=False, command=()),
    case(id="only-dashdash", command=()),
    case(id="bad-option-x", options=("-x",), command=("true",)),
    case(id="bad-long-option", options=("--bogus",), command=("true",)),
    known_difference(case(id="pyinit-long-option-rewrite", options=("--rewrite", "2:3"), command=("true",)),
                     "pyinit's shared long options (--rewrite here) work under every personality"),
    case(id="no-s-option", options=("-s",), command=("true",)),
    # Help (stderr), licence and version (stdout), in order with errors.
    case(id="h", options=("-h",), dashdash=False, command=()),
    case(id="help-is-not-an-option", options=("--help",), dashdash=False, command=()),
    case(id="L", options=("-L",), dashdash=False, command=()),
    *(case(id=f"version-{flag}", options=(flag,), dashdash=False, command=()) for flag in ("-V", "--version", "--v")),
    case(id="h-before-bad-option", options=("-h", "-x"), dashdash=False, command=()),
    case(id="bad-option-before-L", options=("-x", "-L"), dashdash=False, command=()),
    # GNU permutation: options after the program are catatonit's; POSIXLY_CORRECT stops it.
    case(id="permuted-g-after-program", dashdash=False, command=("sh", "-c", "exit 3", "-g")),
    case(id="permuted-bad-option-after-program", dashdash=False, command=("sh", "-c", "exit 3", "-l")),
    case(id="POSIXLY_CORRECT-no-permutation", env=(("POSIXLY_CORRECT", "1"),), dashdash=False,
         command=("sh", "-c", "exit 3", "-l")),
    # Environment: CATATONIT_DEBUG (any value) to stderr; CATATONIT_LOG refuses, even before -h.
    case(id="CATATONIT_DEBUG-empty", env=(("CATATONIT_DEBUG", ""),), signals=(S.SIGUSR1, S.SIGTSTP)),
    case(id="CATATONIT_DEBUG-0-still-on", env=(("CATATONIT_DEBUG", "0"),), command=("sh", "-c", "exit 1")),
    case(id="CATATONIT_LOG-set", env=(("CATATONIT_LOG", "x"),), command=("true",)),
    case(id="CATATONIT_LOG-empty", env=(("CATATONIT_LOG", ""),), command=("true",)),
    case(id="CATATONIT_LOG-before-h", env=(("CATATONIT_LOG", "1"),), options=("-h",), dashdash=False,
         command=()),
    # Not PID 1: a subreaper by itself, and silent about it; who is left when the child exits.
    case(id="not-pid1-orphan", pid1=False, printer=("--grandchild", "--orphan"), signals=(S.SIGHUP,)),
    case(id="not-pid1-child-exits-grandchild-lives-on", pid1=False,
         printer=("--grandchild", "--child-exits", "7")),
    case(id="not-pid1-g-child-exits", options=("-g",), pid1=False, printer=("--grandchild", "--child-exits", "2")),
    case(id="not-pid1-tty-stops-do-not-stop-it", pid1=False, signals=TTY_STOPS),
    case(id="pid1-child-exits", printer=("--grandchild", "--child-exits", "5")),
    case(id="orphan-reaped", printer=("--grandchild", "--orphan")),
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_catatonit_personality_matches_catatonit(scenario: Scenario) -> None:
    """pyinit as `catatonit` should do what catatonit 0.1.7 does, as a user can see it."""
    require_anchor(CATATONIT)
    assert_same(scenario)
