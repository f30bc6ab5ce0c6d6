"""catatonit 0.1.7 as a personality: `catatonit [-ghLPV] [--] PROGRAM [ARGS]`.

Follows catatonit's main (catatonit.c): the environment is read first
(CATATONIT_LOG set is an error even before -h), then getopt_long "ghLPV"
with GNU permutation, so `--` is needed before a command with options of
its own. Help goes to stderr, version and licence to stdout, all exit 0;
every error exits 1, and so does a command that cannot be run.
"""

import posix

from .. import __version__, signals
from ..config import Config, EarlyExit
from . import _anchor

NAME = "catatonit"
VERSION = "0.1.7"
USAGE = "usage: catatonit [-ghLPV] [--] <progname> [<arguments>...]"

HELP = f"""{USAGE}

Runs the program as its child, forwards signals to it, reaps zombies, and
exits with its status (pyinit {__version__}, behaving as catatonit {VERSION}).

options:
  -g              forward signals to the child's process group
  -h              show this help and exit
  -L              show the licence and exit
  -P              pause mode: run nothing, reap, exit 0 on SIGTERM or SIGINT
  -V, --version   show the version and exit

pyinit's long options work here too: --grace, --kill-after, --wait-all,
--pause, --user, --log-format, --pdeathsig, --remap-exit, --rewrite
(see pyinit --help).

environment:
  CATATONIT_DEBUG   set (to anything): debug output on stderr
  CATATONIT_LOG     reserved: catatonit refuses to start when it is set
"""

_SHORTS = "ghLPV"
_LONGS = _anchor.with_shared_longs({"version": (False, "V")})

# Job-control stops: catatonit drops them when sent to it, and starts the
# child with them blocked (make_foreground adds them to the child's mask).
_TTY_STOPS = frozenset({signals.SIGTSTP, signals.SIGTTIN, signals.SIGTTOU})


def _error(problem: str, usage: bool = True) -> EarlyExit:
    # catatonit logs errors as "ERROR (catatonit:PID): ..." on stderr.
    text = f"ERROR (catatonit:{posix.getpid()}): {problem}\n"
    return EarlyExit(1, text + (USAGE + "\n" if usage else ""))


def _getopt_error(problem: str) -> EarlyExit:
    return EarlyExit(1, f"catatonit: {problem}\n{USAGE}\n")


def parse(argv, env) -> Config:
    """The Config catatonit would run with for argv (without argv[0]) and env."""
    debug = "CATATONIT_DEBUG" in env  # any value, even empty
    if "CATATONIT_LOG" in env:
        raise _error("CATATONIT_LOG is reserved for future use, unset it", usage=False)
    fields: dict = {"rewrite": {}}
    group = pause = False

    def handle(key, value):
        nonlocal group, pause
        if key == "h":
            raise EarlyExit(0, HELP, "stderr")
        if key == "L":
            raise EarlyExit(0, _anchor.LICENCE, "stdout")
        if key == "V":
            # Named tini on purpose, as catatonit does: docker info parses "tini version".
            raise EarlyExit(0, f"tini version {VERSION}_catatonit{_anchor.version_suffix()}\n", "stdout")
        if key == "g":
            group = True
        elif key == "P":
            pause = True
        else:
            try:
                _anchor.apply_shared(key, value, fields)
            except ValueError as error:
                raise _getopt_error(str(error)) from None

    permute = "POSIXLY_CORRECT" not in env
    command = _anchor.parse_in_order(argv, _SHORTS, _LONGS, permute, handle, _getopt_error)
    pause = pause or fields.pop("pause", False)
    if pause:
        command = []  # -P ignores any program given
    elif not command:
        raise _error("missing program name")
    try:
        _anchor.environment_extras(env, fields)
    except ValueError as error:
        raise _getopt_error(str(error)) from None

    fields["rewrite"] = {**{signum: 0 for signum in _TTY_STOPS}, **fields["rewrite"]}
    return Config(
        command=tuple(command),
        pause=pause,
        forward_to_group=group,
        child_isolation="group",
        subreaper=True,  # not PID 1: subreaper, or refuse to run
        subreaper_required=True,
        warn_not_reaper=False,
        verbosity=4 if debug else 0,  # its default level is ERROR
        log_style=fields.pop("log_style", "catatonit"),
        child_blocked=_TTY_STOPS,
        rewrite_listen_pid=True,
        reset_inherited_signals=False,  # the child gets catatonit's original mask back
        exit_not_found=1,
        exit_not_executable=1,
        exit_exec_other=1,
        grace=fields.pop("grace", None),  # it exits as soon as the child is gone
        **fields,
    )
