"""tini 0.19 as a personality: `tini [-hsvwgl] [-p SIGNAL] [-e CODE]... [--] PROGRAM [ARGS]`.

Follows tini's parse_args and parse_env (src/tini.c): plain getopt with GNU
permutation (`tini echo -l` prints the licence; POSIXLY_CORRECT turns that
off), `--version` only as the sole argument, options acted on in order, the
environment read after argv so TINI_VERBOSITY replaces -v. Every usage error
exits 1; help, version and licence go to stdout and exit 0.
"""

import _signal
import posix

from .. import __version__, signals
from ..config import Config, EarlyExit
from . import _anchor

NAME = "tini"
VERSION = "0.19.0"
USAGE = "Usage: tini [OPTIONS] [--] PROGRAM [ARGS] | --version"

HELP = f"""{USAGE}

Runs PROGRAM as its child, forwards signals to it, reaps zombies, and exits
with its status (pyinit {__version__}, behaving as tini {VERSION}).

Options:
  --version      show the version and exit (only as the sole argument)
  -h             show this help and exit
  -s             register as a child subreaper (for when not PID 1)
  -p SIGNAL      have SIGNAL sent to tini when its parent dies, e.g. -p SIGKILL
  -v             say more (repeat: -vv, -vvv); INFO and finer go to stdout
  -w             warn whenever a process other than the child is reaped
  -g             send signals to the child's process group, not just the child
  -e EXIT_CODE   exit 0 when the child exits EXIT_CODE (0-255; repeatable)
  -l             show the licence and exit

pyinit's long options work here too: --grace, --kill-after, --wait-all,
--pause, --user, --log-format, --pdeathsig, --remap-exit, --rewrite
(see pyinit --help).

Environment:
  TINI_SUBREAPER           set (to anything): as -s
  TINI_VERBOSITY           the verbosity level, replacing -v (default 1)
  TINI_KILL_PROCESS_GROUP  set (to anything): as -g
"""

# The names tini's -p accepts (set_pdeathsig's table): exact, upper case, no numbers.
PDEATHSIG_NAMES = (
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
    "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGCHLD",
    "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ",
    "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGSYS",
)

_SHORTS = "p:hvwgle:s"
_LONGS = _anchor.with_shared_longs({})


def _usage_error(problem: str) -> EarlyExit:
    return EarlyExit(1, f"tini: {problem}\n{USAGE}\nTry 'tini -h' for more information.\n")


def _option_error(option: str, value: str, expected: str) -> EarlyExit:
    # tini says this as a FATAL log line on stderr: same stream, same status.
    return EarlyExit(1, f"[FATAL tini ({posix.getpid()})] {option}: {expected}, not {value!r}\n")


def parse(argv, env) -> Config:
    """The Config tini would run with for argv (without argv[0]) and env."""
    if list(argv) == ["--version"]:
        raise EarlyExit(0, f"tini version {VERSION}{_anchor.version_suffix()}\n", "stdout")
    fields: dict = {"remap_exit": {}, "rewrite": {}}
    verbosity = 1  # DEFAULT_VERBOSITY: warnings
    subreaper = group = False

    def handle(key, value):
        nonlocal verbosity, subreaper, group
        if key == "h":
            raise EarlyExit(0, HELP, "stdout")
        if key == "l":
            raise EarlyExit(0, _anchor.LICENCE, "stdout")
        if key == "s":
            subreaper = True
        elif key == "v":
            verbosity += 1
        elif key == "w":
            fields["warn_on_reap"] = True
        elif key == "g":
            group = True
        elif key == "p":
            if value not in PDEATHSIG_NAMES:
                raise _option_error("-p", value, "expected a signal name such as SIGKILL")
            fields["pdeathsig"] = getattr(_signal, value)
            fields["pdeathsig_child"] = False  # set_pdeathsig: on tini itself only
        elif key == "e":
            status = _anchor.strtol_whole(value)
            if status is None or not 0 <= status <= 255:
                raise _option_error("-e", value, "expected an exit code from 0 to 255")
            fields["remap_exit"][status] = 0
        else:
            try:
                _anchor.apply_shared(key, value, fields)
            except ValueError as error:
                raise _usage_error(str(error)) from None
            if key == "--pdeathsig":
                fields["pdeathsig_child"] = True  # pyinit's own meaning

    permute = "POSIXLY_CORRECT" not in env
    command = _anchor.parse_in_order(argv, _SHORTS, _LONGS, permute, handle, _usage_error)
    if fields.get("pause"):
        if command:
            raise _usage_error("--pause runs no command, but one was given")
    elif not command:
        raise _usage_error("no program given")

    # parse_env runs after parse_args: these add to the flags, and replace -v.
    subreaper = subreaper or "TINI_SUBREAPER" in env
    group = group or "TINI_KILL_PROCESS_GROUP" in env
    if "TINI_VERBOSITY" in env:
        # atoi into an unsigned int: "-1" wraps to the highest level, "x" is 0.
        verbosity = _anchor.atoi(env["TINI_VERBOSITY"]) & 0xFFFFFFFF
    try:
        _anchor.environment_extras(env, fields)
    except ValueError as error:
        raise _usage_error(str(error)) from None

    # tini sets SIGTTIN and SIGTTOU to SIG_IGN, so the kernel discards them:
    # dropping them here is the same to the child (configure_signals).
    fields["rewrite"] = {signals.SIGTTIN: 0, signals.SIGTTOU: 0, **fields["rewrite"]}
    return Config(
        command=tuple(command),
        forward_to_group=group,
        child_isolation="group",
        subreaper=subreaper,
        subreaper_required=True,  # register_subreaper failing is FATAL, exit 1
        warn_not_reaper=True,  # reaper_check
        verbosity=min(verbosity, 4),
        log_style=fields.pop("log_style", "tini"),
        reset_inherited_signals=False,  # restore_signals gives back the mask tini had
        exit_not_found=127,
        exit_not_executable=126,
        exit_exec_other=1,
        grace=fields.pop("grace", None),  # tini waits for nobody once the child is gone
        **fields,
    )
