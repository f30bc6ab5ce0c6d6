"""pyinit invoked as `dumb-init` against dumb-init 1.2.5: every flag and variable, same observations."""

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
DUMB_INIT = "dumb-init"
SINGLE = (("DUMB_INIT_SETSID", "0"),)


def case(*, id: str, **fields) -> pytest.param:
    return pytest.param(Scenario(DUMB_INIT, **fields), id=id)


# In setsid mode the tty stops become SIGSTOP to the group; SIGCONT brings it back.
SEQUENCES = [PLAIN, FAULTS, REALTIME, (S.SIGCHLD, S.SIGUSR1, S.SIGCHLD),
             *((stop, S.SIGCONT) for stop in TTY_STOPS)]

SCENARIOS = [
    # Signals: setsid mode (default) signals the whole group; -c and DUMB_INIT_SETSID=0 the child.
    *(case(id=f"setsid-{signal_id(seq)}", signals=seq) for seq in SEQUENCES),
    *(case(id=f"c-{signal_id(seq)}", options=("-c",), signals=seq) for seq in SEQUENCES),
    *(case(id=f"setsid-terminating-{signal_id([s])}", signals=(s,)) for s in TERMINATING),
    *(case(id=f"c-terminating-{signal_id([s])}", options=("-c",), signals=(S.SIGHUP, s)) for s in TERMINATING),
    case(id="single-child-long", options=("--single-child",), signals=(S.SIGUSR1, S.SIGTSTP)),
    case(id="single-child-prefix", options=("--single",), signals=(S.SIGUSR1,)),
    case(id="DUMB_INIT_SETSID-0", env=SINGLE, signals=(S.SIGUSR1, S.SIGTSTP, S.SIGTERM)),
    case(id="DUMB_INIT_SETSID-false-keeps-setsid", env=(("DUMB_INIT_SETSID", "false"),),
         signals=(S.SIGUSR1, S.SIGTSTP, S.SIGCONT)),
    case(id="DUMB_INIT_SETSID-1", env=(("DUMB_INIT_SETSID", "1"),), signals=(S.SIGUSR2,)),
    # -r: rewrite s:r, 0 drops, lowest and highest standard signals, repeatable, long forms.
    case(id="r-TERM-to-USR1", options=("-r", "15:10"), signals=(S.SIGTERM, S.SIGUSR2)),
    case(id="r-USR1-to-0-drops", options=("-r", "10:0"), signals=(S.SIGUSR1, S.SIGUSR2)),
    case(id="r-lowest-to-highest", options=("-r", "1:31"), signals=(S.SIGHUP, S.SIGSYS)),
    case(id="r-highest-to-lowest", options=("-r", "31:1"), signals=(S.SIGSYS, S.SIGHUP)),
    case(id="r-repeated-last-wins", options=("-r", "10:12", "-r", "10:14"), signals=(S.SIGUSR1,)),
    case(id="r-two-rules", options=("-r", "1:0", "-r", "12:10"), signals=(S.SIGHUP, S.SIGUSR2)),
    case(id="r-TSTP-kept-as-TSTP", options=("-r", "20:20"), signals=(S.SIGTSTP, S.SIGTTIN, S.SIGCONT)),
    case(id="r-TSTP-dropped", options=("-r", "20:0"), signals=(S.SIGTSTP, S.SIGUSR1)),
    case(id="r-c-TSTP-to-STOP", options=("-c", "-r", "20:19"), signals=(S.SIGTSTP, S.SIGCONT)),
    case(id="r-fault-rewritten", options=("-r", "11:10"), signals=(S.SIGSEGV,)),
    case(id="r-CHLD-not-forwarded", options=("-r", "17:10"), signals=(S.SIGCHLD, S.SIGUSR2)),
    case(id="r-long-equals", options=("--rewrite=15:12",), signals=(S.SIGTERM,)),
    case(id="r-long-prefix", options=("--rew", "10:0"), signals=(S.SIGUSR1, S.SIGUSR2)),
    case(id="r-short-prefix-re", options=("--re=10:12",), signals=(S.SIGUSR1,)),
    case(id="r-scanf-trailing-ignored", options=("-r", "10:12xyz"), signals=(S.SIGUSR1,)),
    case(id="r-scanf-space-and-sign", options=("-r", " +10: 12"), signals=(S.SIGUSR1,)),
    case(id="r-int-wraps", options=("-r", "4294967306:0"), signals=(S.SIGUSR1, S.SIGUSR2)),
    *(case(id=f"r-bad-{bad.replace(':', '_') or 'empty'}", options=("-r", bad), command=("true",))
      for bad in ("0:1", "32:1", "1:32", "-1:1", "15", "15:", "x:1", "15 :10", "")),
    case(id="r-missing-value", options=("-r",), dashdash=False, command=()),
    # When the child exits: SIGTERM (through -r) to the group; then exit, waiting for nobody.
    case(id="child-exits-grandchild-gets-TERM", pid1=False, printer=("--grandchild", "--child-exits", "7")),
    case(id="c-child-exits-grandchild-lives-on", options=("-c",), pid1=False,
         printer=("--grandchild", "--child-exits", "7")),
    case(id="r-15-0-child-exits-grandchild-lives-on", options=("-r", "15:0"), pid1=False,
         printer=("--grandchild", "--child-exits", "3")),
    case(id="r-15-10-child-exits-grandchild-gets-USR1", options=("-r", "15:10"), pid1=False,
         printer=("--grandchild", "--child-exits", "3")),
    # (Not as PID 1: there the kernel SIGKILLs the grandchild as dumb-init exits,
    # racing the SIGTERM dumb-init sent it, so what it prints is chance.)
    # Job control: after a tty stop it stops itself (not PID 1: its parent sees state T).
    *(case(id=f"not-pid1-{signal_id([s])}-stops-dumb-init", pid1=False, signals=(s, S.SIGUSR1))
      for s in TTY_STOPS),
    *(case(id=f"not-pid1-c-{signal_id([s])}-stops-dumb-init", options=("-c",), pid1=False, signals=(s,))
      for s in TTY_STOPS),
    case(id="not-pid1-r-TSTP-0-still-stops", options=("-r", "20:0"), pid1=False, signals=(S.SIGTSTP,)),
    case(id="not-pid1-no-subreaper-orphan", pid1=False, printer=("--grandchild", "--orphan"),
         signals=(S.SIGHUP,)),
    # Exit statuses: the child's, 128+N; exec failures 2; usage 1.
    case(id="exit-3", command=("sh", "-c", "exit 3")),
    case(id="exit-300-is-44", command=("sh", "-c", "exit 300")),
    case(id="killed-by-TERM-143", command=("sh", "-c", "kill -TERM $$")),
    case(id="printer-exit-6", printer=("--exit", "6"), signals=(S.SIGUSR1,)),
    case(id="not-found-2", command=("no-such-command-here",)),
    case(id="not-executable-2", command=("/etc/passwd",)),
    case(id="directory-2", command=("/etc",)),
    case(id="not-a-directory-2", command=("/etc/passwd/x",)),
    case(id="no-shebang-runs-sh", command=(NO_SHEBANG,)),
    case(id="no-command", dashdash=False, command=()),
    case(id="only-dashdash", command=()),
    case(id="bad-option-x", options=("-x",), command=("true",)),
    case(id="bad-long-option", options=("--bogus",), command=("true",)),
    case(id="long-option-with-value", options=("--verbose=1",), command=("true",)),
    case(id="ambiguous-ver", options=("--ver",), command=("true",)),
    known_difference(case(id="pyinit-long-option-kill-after", options=("--kill-after", "3"), command=("true",)),
                     "pyinit's shared long options (--kill-after here) work under every personality"),
    # Help and version on stderr; options act in order.
    *(case(id=f"help-{flag}", options=(flag,), dashdash=False, command=()) for flag in ("-h", "--help", "--he")),
    *(case(id=f"version-{flag}", options=(flag,), dashdash=False, command=()) for flag in ("-V", "--version")),
    case(id="V-before-bad-option", options=("-V", "-x"), dashdash=False, command=()),
    case(id="bad-option-before-V", options=("-x", "-V"), dashdash=False, command=()),
    case(id="bundled-vc", options=("-vc",), signals=(S.SIGUSR1,)),
    # Stops at the first operand: later options are the command's.
    case(id="stops-at-first-operand", dashdash=False, command=("sh", "-c", "exit 4", "-x")),
    case(id="help-after-command-is-not-help", dashdash=False, command=("sh", "-c", "exit 0", "-h")),
    # Debug output on stderr: -v, --verbose, DUMB_INIT_DEBUG=1 (only that value).
    case(id="v", options=("-v",), signals=(S.SIGUSR1, S.SIGTERM)),
    case(id="verbose", options=("--verbose",), command=("sh", "-c", "exit 2")),
    case(id="DUMB_INIT_DEBUG-1", env=(("DUMB_INIT_DEBUG", "1"),), command=("true",)),
    case(id="DUMB_INIT_DEBUG-yes-is-off", env=(("DUMB_INIT_DEBUG", "yes"),), command=("true",)),
    case(id="DUMB_INIT_DEBUG-not-read-before-usage", env=(("DUMB_INIT_DEBUG", "1"),), dashdash=False,
         command=()),
    # The child starts clean: inherited SIG_IGN undone; dumb-init itself moves to /.
    case(id="inherited-ignore-reset", ignore_in_parent=(S.SIGUSR1, S.SIGHUP), signals=(S.SIGUSR2,)),
    case(id="c-inherited-ignore-reset", options=("-c",), ignore_in_parent=(S.SIGUSR2,), signals=()),
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_dumb_init_personality_matches_dumb_init(scenario: Scenario) -> None:
    """pyinit as `dumb-init` should do what dumb-init 1.2.5 does, as a user can see it."""
    require_anchor(DUMB_INIT)
    assert_same(scenario)
