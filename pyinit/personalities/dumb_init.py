"""dumb-init 1.2.5 as a personality: `dumb-init [-chvV] [-r s:r]... COMMAND [ARGS]`.

Follows dumb-init's parse_command and main (dumb-init.c): getopt_long
"+hvVcr:" stops at the first operand, options act in order, and the
environment is read only after the "no command" check. Setsid mode is the
default: the child leads its own session and signals go to its whole group;
-c or DUMB_INIT_SETSID=0 keeps it in our group and signals it alone. Help and
version go to stderr and exit 0; a bad option or value exits 1.
"""

from .. import __version__, signals
from ..config import Config, EarlyExit
from . import _anchor

NAME = "dumb-init"
VERSION = "1.2.5"
USAGE = "Usage: dumb-init [OPTION]... COMMAND [ARG]..."

HELP = f"""{USAGE}

Runs COMMAND as its child, forwards signals to it, reaps zombies, and exits
with its status (pyinit {__version__}, behaving as dumb-init {VERSION}).

Options:
  -c, --single-child   signal only the direct child, not its descendants:
                       no new session, the child stays in our process group
  -r, --rewrite s:r    forward signal s (1-31) as signal r (0-31); r = 0 drops
                       s; repeatable
  -v, --verbose        print debugging lines to stderr
  -h, --help           show this help and exit
  -V, --version        show the version and exit

pyinit's long options work here too: --grace, --kill-after, --wait-all,
--pause, --user, --log-format, --pdeathsig, --remap-exit (see pyinit --help).

Environment:
  DUMB_INIT_SETSID=0   as -c (any other value keeps setsid mode)
  DUMB_INIT_DEBUG=1    as -v
"""

# Standard signals only: dumb-init's rewrite table ends at 31 (MAXSIG).
MAX_SIGNAL = 31

_SHORTS = "hvVcr:"
_OWN_LONGS = {
    "help": (False, "h"),
    "single-child": (False, "c"),
    "rewrite": (True, "r"),
    "verbose": (False, "v"),
    "version": (False, "V"),
}
_LONGS = _anchor.with_shared_longs(_OWN_LONGS)


def _usage_error(problem: str) -> EarlyExit:
    return EarlyExit(1, f"dumb-init: {problem}\n")  # dumb-init adds no usage text here


def _rewrite_error(value: str) -> EarlyExit:
    return EarlyExit(
        1,
        f"dumb-init: -r/--rewrite takes <signum>:<signum>, not {value!r}: the first from 1 to "
        f"{MAX_SIGNAL}, the second from 0 to {MAX_SIGNAL} (0 means do not forward)\n",
    )


def parse(argv, env) -> Config:
    """The Config dumb-init would run with for argv (without argv[0]) and env."""
    fields: dict = {}
    rewrite: dict = {}
    debug = False
    setsid = True

    def handle(key, value):
        nonlocal debug, setsid
        if key == "h":
            raise EarlyExit(0, HELP, "stderr")
        if key == "V":
            raise EarlyExit(0, f"dumb-init v{VERSION}{_anchor.version_suffix()}\n", "stderr")
        if key == "v":
            debug = True
        elif key == "c":
            setsid = False
        elif key == "r":
            pair = _anchor.scan_pair(value)
            if pair is None or not (1 <= pair[0] <= MAX_SIGNAL and 0 <= pair[1] <= MAX_SIGNAL):
                raise _rewrite_error(value)
            rewrite[pair[0]] = pair[1]
        else:
            try:
                _anchor.apply_shared(key, value, fields)
            except ValueError as error:
                raise _usage_error(str(error)) from None

    command = _anchor.parse_in_order(argv, _SHORTS, _LONGS, False, handle, _usage_error)
    if not command and not fields.get("pause"):
        raise EarlyExit(1, f"dumb-init: no command given\n{USAGE}\nTry 'dumb-init --help' for more.\n")
    if command and fields.get("pause"):
        raise _usage_error("--pause runs no command, but one was given")

    # Read only now, after the command check, and only these exact values.
    debug = debug or env.get("DUMB_INIT_DEBUG") == "1"
    setsid = setsid and env.get("DUMB_INIT_SETSID") != "0"
    try:
        _anchor.environment_extras(env, fields)
    except ValueError as error:
        raise _usage_error(str(error)) from None

    if setsid:
        # The child's new session makes its group an orphaned process group,
        # and the kernel discards SIGTSTP/SIGTTIN/SIGTTOU sent to one when their
        # action is to stop (POSIX.1 job control): so they become SIGSTOP,
        # unless -r says otherwise (set_rewrite_to_sigstop_if_not_defined).
        for signum in (signals.SIGTSTP, signals.SIGTTOU, signals.SIGTTIN):
            rewrite.setdefault(signum, signals.SIGSTOP)
    return Config(
        command=tuple(command),
        forward_to_group=setsid,
        child_isolation="session" if setsid else "inherit",
        subreaper=False,  # dumb-init leaves orphans to the real init
        warn_not_reaper=False,
        verbosity=4 if debug else 0,
        log_style=fields.pop("log_style", "dumb-init"),
        rewrite=rewrite,
        forward_faults=True,  # handle_signal forwards 1-31, faults included
        stop_self_on_job_control=True,  # then kill(getpid(), SIGSTOP)
        ignore_tty_handoff=True,  # dumb-init #136
        term_on_child_exit=True,  # forward_signal(SIGTERM) before exiting
        reset_inherited_signals=True,  # its dummy handlers undo inherited SIG_IGNs
        chdir_root=True,
        exit_not_found=2,
        exit_not_executable=2,
        exit_exec_other=2,
        grace=fields.pop("grace", None),  # it exits without waiting (dumb-init #212)
        **fields,
    )
