"""pyinit's own command line: `pyinit [OPTIONS] [--] COMMAND [ARGS...]`.

Parsing stops at the first operand (getopt's "+" mode), so `pyinit sh -c 'x'`
needs no `--`. Every option has a PYINIT_* variable; the command line wins.
The long options marked shared here are also accepted by the other
personalities where they do not clash (see extras()).
"""

from .. import __version__, signals
from ..config import EXIT_USAGE, Config, EarlyExit
from ._getopt import GetoptError, getopt

USAGE = "Usage: pyinit [OPTIONS] [--] COMMAND [ARGS...]"

HELP = f"""{USAGE}

A tiny init for containers: runs COMMAND as its child, forwards signals to the
child's process group, reaps every zombie, and exits with the child's status.

Options:
  -c, --single-child        forward signals to the child only, not its group
  -g, --process-group       forward signals to the child's process group (default)
  -s, --subreaper           register as child subreaper when not PID 1 (default)
  -v, --verbose             log what pyinit does to stderr (repeat for more)
  -w, --warn-on-reap        warn for each reaped process that is not the child
  -e, --remap-exit FROM[:TO]  exit with TO (default 0) when the child exits FROM
  -r, --rewrite FROM:TO     forward signal FROM as TO; TO 0 drops it
  -p, --pdeathsig SIGNAL    get SIGNAL (and forward it) when pyinit's parent dies
      --grace SECONDS       after the child exits, SIGTERM the rest and SIGKILL
                            what is left after SECONDS (default 5; 0: at once)
      --kill-after SECONDS  SIGKILL the child SECONDS after a forwarded SIGTERM,
                            SIGINT, SIGQUIT or SIGHUP if it is still running
      --wait-all            exit only when every descendant has exited
      --pause               run no command: reap, and exit 0 on SIGTERM/SIGINT
      --user USER[:GROUP]   run the child as USER (name or uid)
      --log-format FORMAT   text (default) or json: one JSON object a line
      --compat NAME         behave as tini, dumb-init or catatonit (first option)
  -h, --help                show this help and exit
  -V, --version             show the version and exit

Each option has an environment variable: PYINIT_SINGLE_CHILD, PYINIT_SUBREAPER,
PYINIT_VERBOSITY (a count), PYINIT_WARN_ON_REAP, PYINIT_REMAP_EXIT and
PYINIT_REWRITE (space-separated lists), PYINIT_PDEATHSIG, PYINIT_GRACE,
PYINIT_KILL_AFTER, PYINIT_WAIT_ALL, PYINIT_PAUSE, PYINIT_USER,
PYINIT_LOG_FORMAT, PYINIT_COMPAT. The command line wins.

Exit status: the child's; 128+N if it was killed by signal N; 127 if COMMAND
is not found; 126 if it cannot be executed; 2 for a bad command line.
"""

# Longest a timer may be: sigtimedwait takes a C time_t, and a year is plenty.
_MAX_SECONDS = 366 * 24 * 3600.0


class _Bad(ValueError):
    """A bad option value; the message names the option and the value."""


def seconds(text: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Bad(f"{option}: not a number of seconds: {text!r}") from None
    if not (0.0 <= value <= _MAX_SECONDS):  # also rejects nan
        raise _Bad(f"{option}: must be between 0 and {_MAX_SECONDS:.0f} seconds: {text!r}")
    return value


def exit_code(text: str, option: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 255:
        raise _Bad(f"{option}: not an exit status from 0 to 255: {text!r}")
    return int(text)


def remap(text: str, option: str, into: dict) -> None:
    source, colon, target = text.partition(":")
    into[exit_code(source, option)] = exit_code(target, option) if colon else 0


def rewrite(text: str, option: str, into: dict) -> None:
    source, colon, target = text.partition(":")
    if not colon:
        raise _Bad(f"{option}: expected FROM:TO, got {text!r}")
    try:
        source_signal = signals.parse(source)
        target_signal = signals.parse(target, allow_zero=True)
    except ValueError as error:
        raise _Bad(f"{option}: {error}") from None
    if source_signal in signals.UNCATCHABLE or source_signal == signals.SIGCHLD:
        raise _Bad(f"{option}: {signals.name(source_signal)} cannot be rewritten")
    into[source_signal] = target_signal


def signal_value(text: str, option: str) -> int:
    try:
        return signals.parse(text)
    except ValueError as error:
        raise _Bad(f"{option}: {error}") from None


def user(text: str, option: str) -> str:
    name, colon, group = text.partition(":")
    if not name or (colon and not group) or "\0" in text:
        raise _Bad(f"{option}: expected USER[:GROUP], got {text!r}")
    return text


def log_format(text: str, option: str) -> str:
    if text not in ("text", "json"):
        raise _Bad(f"{option}: expected text or json, got {text!r}")
    return "pyinit" if text == "text" else "json"


def flag(text: str, option: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise _Bad(f"{option}: expected 1 or 0, got {text!r}")


# Options every personality keeps in long form: {long name: (takes value, key)}.
SHARED_LONGS = {
    "grace": (True, "grace"),
    "kill-after": (True, "kill-after"),
    "wait-all": (False, "wait-all"),
    "pause": (False, "pause"),
    "user": (True, "user"),
    "log-format": (True, "log-format"),
    "pdeathsig": (True, "p"),
    "remap-exit": (True, "e"),
    "rewrite": (True, "r"),
}

_LONGS = dict(
    SHARED_LONGS,
    **{
        "single-child": (False, "c"),
        "process-group": (False, "g"),
        "subreaper": (False, "s"),
        "verbose": (False, "v"),
        "warn-on-reap": (False, "w"),
        "help": (False, "h"),
        "version": (False, "V"),
    },
)
_SHORTS = "cgsvwe:r:p:hV"

# PYINIT_* variable: the option it stands for. List-valued ones are split on spaces.
_ENVIRONMENT = {
    "PYINIT_SINGLE_CHILD": "c",
    "PYINIT_SUBREAPER": "s",
    "PYINIT_WARN_ON_REAP": "w",
    "PYINIT_REMAP_EXIT": "e",
    "PYINIT_REWRITE": "r",
    "PYINIT_PDEATHSIG": "p",
    "PYINIT_GRACE": "grace",
    "PYINIT_KILL_AFTER": "kill-after",
    "PYINIT_WAIT_ALL": "wait-all",
    "PYINIT_PAUSE": "pause",
    "PYINIT_USER": "user",
    "PYINIT_LOG_FORMAT": "log-format",
}
_SHARED_ENVIRONMENT = ("PYINIT_GRACE", "PYINIT_KILL_AFTER", "PYINIT_WAIT_ALL", "PYINIT_USER", "PYINIT_LOG_FORMAT")


def apply(key: str, value, fields: dict, option: str) -> bool:
    """Apply one shared option to `fields`; False if `key` is not a shared option.

    `value` is None for a flag given on the command line, a string otherwise.
    """
    on = True if value is None else None
    if key == "grace":
        fields["grace"] = seconds(value, option)
    elif key == "kill-after":
        fields["kill_after"] = seconds(value, option)
    elif key == "wait-all":
        fields["wait_all"] = on if on is not None else flag(value, option)
    elif key == "pause":
        fields["pause"] = on if on is not None else flag(value, option)
    elif key == "user":
        fields["user"] = user(value, option)
    elif key == "log-format":
        fields["log_style"] = log_format(value, option)
    elif key == "p":
        fields["pdeathsig"] = signal_value(value, option)
    elif key == "e":
        for item in value.split():
            remap(item, option, fields.setdefault("remap_exit", {}))
    elif key == "r":
        for item in value.split():
            rewrite(item, option, fields.setdefault("rewrite", {}))
    else:
        return False
    return True


def extras_from_environment(env, fields: dict) -> None:
    """The PYINIT_* variables of the shared options, for the other personalities."""
    for variable in _SHARED_ENVIRONMENT:
        if variable in env:
            apply(_ENVIRONMENT[variable], env[variable], fields, variable)


def usage_error(problem: str) -> EarlyExit:
    # The problem stays on one line whatever was typed: getopt quotes an unknown
    # option as given, and `--fo<newline>o` must not split the message.
    problem = "".join(c if c.isprintable() else repr(c)[1:-1] for c in problem)
    return EarlyExit(EXIT_USAGE, f"pyinit: {problem}\n{USAGE}\nTry 'pyinit --help' for more information.\n")


def parse(argv, env) -> Config:
    """pyinit's Config from argv (without argv[0]) and the environment."""
    fields: dict = {}
    try:
        _from_environment(env, fields)
        options, command = getopt(argv, _SHORTS, _LONGS, permute=False)
        for key, value in options:
            _apply_option(key, value, fields)
    except (GetoptError, _Bad) as error:
        raise usage_error(str(error)) from None
    fields["command"] = tuple(command)
    if fields.get("pause"):
        if command:
            raise usage_error("--pause runs no command, but one was given")
    elif not command:
        raise usage_error("no command given")
    return Config(**fields)


def _from_environment(env, fields: dict) -> None:
    for variable, key in _ENVIRONMENT.items():
        if variable not in env:
            continue
        value = env[variable]
        if key in ("c", "s", "w"):
            _apply_flag(key, flag(value, variable), fields)
        else:
            apply(key, value, fields, variable)
    if "PYINIT_VERBOSITY" in env:
        text = env["PYINIT_VERBOSITY"].strip()
        if not (text.isascii() and text.isdigit()) or int(text) > 3:
            raise _Bad(f"PYINIT_VERBOSITY: expected a count from 0 to 3, got {env['PYINIT_VERBOSITY']!r}")
        fields["verbosity"] = 1 + int(text)


def _apply_flag(key: str, on: bool, fields: dict) -> None:
    if key == "c":
        fields["forward_to_group"] = not on
    elif key == "s":
        fields["subreaper"] = on
    elif key == "w":
        fields["warn_on_reap"] = on


def _apply_option(key: str, value, fields: dict) -> None:
    if key == "h":
        raise EarlyExit(0, HELP, "stdout")
    if key == "V":
        raise EarlyExit(0, f"pyinit {__version__}\n", "stdout")
    if key == "v":
        fields["verbosity"] = min(fields.get("verbosity", 1) + 1, 4)
    elif key == "g":
        fields["forward_to_group"] = True
    elif key in ("c", "s", "w"):
        _apply_flag(key, True, fields)
    else:
        apply(key, value, fields, _option_name(key))


def _option_name(key: str) -> str:
    """The long form, whichever the user typed: messages name one spelling."""
    for long_name, (_, long_key) in _LONGS.items():
        if long_key == key:
            return f"--{long_name}"
    return f"-{key}"
