"""Bad input tried: fuzzed command lines and PYINIT_* variables, and commands that cannot run.

The parser is fuzzed in-process for breadth (personalities.parse is a pure
function of argv and the environment), then a smaller set goes through the
real program and must agree with it. Commands that are directories, empty,
unreadable, or scripts with a bad #! line, odd names, and argument lists at
ARG_MAX go through the real program and must give the documented status and
one clear line.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyinit import cli, personalities
from pyinit.config import Config, EarlyExit
from pyinit.personalities import pyinit as pyinit_personality
from pyinit.testing import pyinit_command
from tests.stress.stresskit import PY, assert_no_traceback

pytestmark = pytest.mark.stress

USAGE_TAIL = [pyinit_personality.USAGE, "Try 'pyinit --help' for more information.", ""]

OPTIONS = [
    "-c", "-g", "-s", "-v", "-w", "-e", "-r", "-p", "-h", "-V", "-vv", "-vc", "-cgsw", "-e143", "-r15:3",
    "-pTERM", "-x", "-", "--", "---", "--single-child", "--single", "--process-group", "--subreaper",
    "--verbose", "--warn-on-reap", "--remap-exit", "--rewrite", "--pdeathsig", "--grace", "--kill-after",
    "--wait-all", "--pause", "--user", "--log-format", "--compat", "--help", "--version", "--ver", "--re",
    "--gr", "--grace=", "--grace=1", "--wait-all=1", "--help=x", "--log-format=json", "--rewrite=1:0",
    "--nosuch", "--compat=tini",
]
VALUES = [
    "", " ", "0", "1", "15", "255", "256", "-1", "007", "1e400", "nan", "inf", "-0", "0.5", "1_000",
    "TERM", "SIGTERM", "sigterm", "KILL", "RTMIN+1", "SIGRTMAX-0", "RTMIN+99", "SIGCHLD", "0:0",
    "15:0", "15:10", "TERM:QUIT", "9:15", "143", "143:0", "1:2:3", "x:y", ":", "root", "0:0", "nobody",
    "nobody:", ":nogroup", "text", "json", "tini", "dumb-init", "catatonit", "pyinit", "\n", "\t",
    "a\nb", "é", "日本", "\u202e", "--", "-", "99999999999999999999999999999999",
]
# Text without NUL: argv and environment strings are C strings.
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
values = st.one_of(st.sampled_from(VALUES), text,
                   st.integers(min_value=-10**40, max_value=10**40).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr))
arguments = st.one_of(st.sampled_from(OPTIONS), values)
VARIABLES = [
    "PYINIT_SINGLE_CHILD", "PYINIT_SUBREAPER", "PYINIT_VERBOSITY", "PYINIT_WARN_ON_REAP",
    "PYINIT_REMAP_EXIT", "PYINIT_REWRITE", "PYINIT_PDEATHSIG", "PYINIT_GRACE", "PYINIT_KILL_AFTER",
    "PYINIT_WAIT_ALL", "PYINIT_PAUSE", "PYINIT_USER", "PYINIT_LOG_FORMAT", "PYINIT_COMPAT", "PYINIT_NOSUCH",
]
environments = st.dictionaries(st.sampled_from(VARIABLES), values, max_size=4)


def _outcome(argv: list[str], env: dict, argv0: str = "pyinit"):
    """What pyinit's command line comes to: a Config, or the EarlyExit it stops with."""
    try:
        name, rest = personalities.choose(argv0, argv, env)
        return personalities.parse(name, rest, env)
    except EarlyExit as early:
        return early


def _assert_clean_early_exit(early: EarlyExit) -> None:
    if early.status == 0:  # --help or --version
        assert early.stream == "stdout"
        assert early.message in (pyinit_personality.HELP, f"pyinit {pyinit_personality.__version__}\n")
        return
    assert early.status == 2, early.message
    assert early.stream == "stderr"
    lines = early.message.split("\n")
    assert lines[0].startswith("pyinit: ") and lines[0].isprintable(), lines[0]
    assert lines[1:] in (USAGE_TAIL, [""]), early.message  # --compat errors come without the usage


FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(argv=st.lists(arguments, max_size=8), env=environments)
def test_fuzzed_command_line_starts_a_command_or_exits_2_with_one_line(argv, env):
    """Any argv and PYINIT_* environment gives a Config with a command (or --pause), help, or exit 2."""
    env = {key: value for key, value in env.items() if key != "PYINIT_COMPAT"}
    while argv[:1] and argv[0].startswith("--compat"):
        argv = argv[1:]  # another personality's rules: the next test
    result = _outcome(argv, env)
    if isinstance(result, EarlyExit):
        _assert_clean_early_exit(result)
        return
    assert isinstance(result, Config)
    assert bool(result.pause) != bool(result.command), result
    # The command is the tail of argv, word for word: nothing dropped, added or reordered.
    assert tuple(argv[len(argv) - len(result.command):]) == result.command


@FUZZ
@given(argv=st.lists(arguments, max_size=8), env=environments)
def test_fast_path_and_full_parser_agree(argv, env):
    """`pyinit COMMAND` skips the option parser; whenever it does, both must give the same Config."""
    environ = {key.encode(): value.encode("utf-8", "surrogateescape") for key, value in env.items()}
    fast = cli._plain_command(["pyinit"] + argv, environ)
    if fast is None:
        return  # not the plain form: the parser answers it
    assert fast == pyinit_personality.parse(argv, env)


@pytest.mark.parametrize("argv", [["app", "-v"], ["--", "app"], ["--", "-v", "x"]])
def test_plain_command_skips_the_parser(argv):
    """The ENTRYPOINT forms take the fast path, with or without "--"."""
    assert cli._plain_command(["/usr/bin/pyinit"] + argv, {b"PATH": b"/bin"}) == Config(
        command=tuple(argv[1:] if argv[0] == "--" else argv))


@pytest.mark.parametrize("args, environ", [
    (["/sbin/tini", "app"], {}), (["dumb-init", "app"], {}), (["pyinit", "-v", "app"], {}),
    (["pyinit", "--compat", "tini", "app"], {}), (["pyinit", "app"], {b"PYINIT_GRACE": b"1"}),
    (["pyinit"], {}), (["pyinit", "--"], {}),
])
def test_anything_but_the_plain_command_goes_to_the_parser(args, environ):
    assert cli._plain_command(args, environ) is None


def test_fast_path_knows_every_anchor_name():
    assert set(cli._ANCHOR_NAMES) == set(personalities.MODULES) - {"pyinit"}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv0=st.sampled_from(["tini", "dumb-init", "catatonit", "/sbin/tini", "pyinit"]),
       argv=st.lists(arguments, max_size=8), env=environments)
def test_every_personality_answers_any_command_line_without_a_traceback(argv0, argv, env):
    """The drop-ins parse any input into a Config or an EarlyExit with 0, 1 (theirs) or 2 (pyinit's)."""
    result = _outcome(argv, env, argv0)
    if isinstance(result, EarlyExit):
        assert result.status in (0, 1, 2), result.message
        assert result.message.endswith("\n")
    else:
        assert bool(result.pause) != bool(result.command) or result.pause


# --- the same, through the real program -------------------------------------------------


@pytest.fixture(scope="module")
def marker():
    """An executable anyone (even uid 65534, for --user nobody) can run: prints marker-started."""
    where = tempfile.mkdtemp(prefix="pyinit-stress-")
    os.chmod(where, 0o755)
    path = os.path.join(where, "marker")
    with open(path, "w") as script:
        script.write("#!/bin/sh\necho marker-started\n")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(where)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(options=st.lists(arguments, max_size=6), separator=st.booleans(),
       tail=st.lists(values, max_size=2), env=environments)
def test_real_program_agrees_and_never_starts_a_child_on_a_rejected_line(marker, options, separator,
                                                                         tail, env):
    """pyinit the program does what the parser says: exit 2 (nothing started) or run the command."""
    argv = options + (["--"] if separator else []) + [marker] + tail
    env = dict(env, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    expected = _outcome(argv, env)
    if isinstance(expected, Config) and (expected.pause or expected.command[0] != marker):
        return  # --pause runs forever, and a stray word as the command is not ours to run
    result = subprocess.run(pyinit_command() + argv, env=env, capture_output=True, text=True,
                            timeout=30, stdin=subprocess.DEVNULL, errors="replace")
    assert_no_traceback(result.stderr, result.stdout)
    if isinstance(expected, EarlyExit):
        assert result.returncode == expected.status
        assert (result.stdout if expected.stream == "stdout" else result.stderr) == expected.message
        assert "marker-started" not in result.stdout
        return
    started = "marker-started" in result.stdout
    if started:
        assert result.returncode == expected.remap_exit.get(0, 0)
    else:  # only a --user that does not resolve may stop it, with its one line
        assert expected.user is not None, result.stderr
        assert result.returncode == expected.remap_exit.get(126, 126)
        assert [line for line in result.stderr.splitlines() if line.startswith("pyinit: ")] == [
            next(line for line in result.stderr.splitlines() if line.startswith("pyinit: cannot run as"))]


# --- commands that cannot run ------------------------------------------------------------


def _script(path: str, text: str, mode: int = 0o755) -> str:
    with open(path, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)
    return path


def _run(argv: list[str], env=None) -> subprocess.CompletedProcess:
    return subprocess.run(pyinit_command() + argv, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env=env)


CASES = {
    # name: (make(tmp) -> command word, status, stderr, or None for "ran")
    "directory": (lambda tmp: str(tmp), 126, "pyinit: cannot run '{cmd}': Permission denied\n"),
    "empty-file": (lambda tmp: _script(f"{tmp}/empty", ""), 0, ""),
    "not-executable": (lambda tmp: _script(f"{tmp}/plain", "#!/bin/sh\n", 0o644), 126,
                       "pyinit: cannot run '{cmd}': Permission denied\n"),
    "missing-interpreter": (lambda tmp: _script(f"{tmp}/bad", "#!/nonexistent/interpreter -x\necho no\n"), 127,
                            "pyinit: cannot run '{cmd}': bad interpreter '/nonexistent/interpreter': "
                            "No such file or directory\n"),
    "interpreter-not-executable": (lambda tmp: _script(f"{tmp}/bad2", "#!/etc/passwd\n"), 126,
                                   "pyinit: cannot run '{cmd}': Permission denied\n"),
    "interpreter-a-directory": (lambda tmp: _script(f"{tmp}/bad3", f"#!{tmp}\n"), 126,
                                "pyinit: cannot run '{cmd}': Permission denied\n"),
    "missing": (lambda tmp: f"{tmp}/no such command", 127,
                "pyinit: cannot run '{cmd}': No such file or directory\n"),
    "missing-with-newline": (lambda tmp: f"{tmp}/no\nsuch", 127,
                             "pyinit: cannot run '{shown}': No such file or directory\n"),
    "empty-name": (lambda tmp: "", 127, "pyinit: cannot run '': No such file or directory\n"),
    "not-on-path": (lambda tmp: "no-such-command-pyinit-stress", 127,
                    "pyinit: cannot run '{cmd}': No such file or directory\n"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_command_that_cannot_run_gives_its_status_and_one_clear_line(case, tmp_path):
    make, status, message = CASES[case]
    command = make(tmp_path)
    result = _run(["--", command])
    assert result.returncode == status
    assert result.stderr == message.format(cmd=command, shown=command.replace("\n", "\\n"))
    assert_no_traceback(result.stderr)


def test_a_command_named_with_spaces_and_a_newline_runs(tmp_path):
    command = _script(f"{tmp_path}/my prog\nwith newline", '#!/bin/sh\necho "ran with $# args: $1"\nexit 3\n')
    result = _run(["--", command, "an arg", ""])
    assert (result.returncode, result.stdout, result.stderr) == (3, "ran with 2 args: an arg\n", "")


# --- ARG_MAX -------------------------------------------------------------------------------

CHUNK = 64 * 1024  # each argument under MAX_ARG_STRLEN (32 pages, execve(2))


def _padding(size: int) -> list[str]:
    return ["a" * CHUNK] * (size // CHUNK) + ["b" * (size % CHUNK)]


def _largest_that_execs(prefix: list[str], env: dict) -> int:
    """The most padding bytes after `prefix` with which pyinit itself can still be exec'd."""
    low, high = 0, os.sysconf("SC_ARG_MAX")
    while high - low > 16:
        middle = (low + high) // 2
        try:
            subprocess.run(pyinit_command() + ["--version"] + prefix[1:] + _padding(middle),
                           env=env, capture_output=True, timeout=60)
            low = middle
        except OSError as error:  # E2BIG: raised by our own exec of pyinit
            assert error.errno == 7, error
            high = middle
    return low


# The child says how many arguments it got and a digest of them all.
CHECK = ("import sys, hashlib; "
         "print(len(sys.argv) - 1, hashlib.sha256(b'|'.join(a.encode() for a in sys.argv[1:])).hexdigest())")


def test_an_argument_list_near_arg_max_reaches_the_child_whole():
    """pyinit passes on an argument list as long as its own exec allowed, byte for byte."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    prefix = ["--", PY, "-c", CHECK]
    size = _largest_that_execs(prefix, env) - 256  # the child's argv lacks pyinit's launcher words
    padding = _padding(size)
    result = _run(prefix + padding, env=env)
    digest = hashlib.sha256(b"|".join(a.encode() for a in padding)).hexdigest()
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{len(padding)} {digest}\n"
    assert size > os.sysconf("SC_ARG_MAX") // 2


def test_an_argument_list_too_long_for_the_child_gives_126_and_one_line(tmp_path):
    """A #! script found on PATH in a deep directory: the kernel adds its path and interpreter to argv,
    so an argv that fitted pyinit's own exec no longer fits the child's (E2BIG, execve(2))."""
    deep = tmp_path
    for _ in range(14):
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    _script(str(deep / "s"), "#!/bin/sh\nexit 0\n")
    env = {"PATH": f"{deep}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    size = _largest_that_execs(["--", "s"], env)
    result = _run(["--", "s"] + _padding(size), env=env)
    assert result.returncode == 126, result.stderr[:300]
    assert result.stderr == "pyinit: cannot run 's': Argument list too long\n"
    assert stat.S_ISDIR(os.stat(deep).st_mode)
