"""pyinit's own command line, run through the installed console script."""

from __future__ import annotations

import subprocess

import pytest

from pyinit import __version__


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, **kwargs)


def test_help_prints_usage_on_stdout_and_exits_0(pyinit):
    result = run(pyinit + ["--help"])
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: pyinit [OPTIONS] [--] COMMAND [ARGS...]")
    for option in ("--single-child", "--grace", "--kill-after", "--wait-all", "--user", "--log-format"):
        assert option in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_version(pyinit, flag):
    result = run(pyinit + [flag])
    assert (result.returncode, result.stdout) == (0, f"pyinit {__version__}\n")


@pytest.mark.parametrize(
    "argv, problem",
    [
        ([], "pyinit: no command given"),
        (["--"], "pyinit: no command given"),
        (["-v"], "pyinit: no command given"),
        (["--bogus", "true"], "pyinit: unrecognized option '--bogus'"),
        (["-x", "true"], "pyinit: invalid option -- 'x'"),
        (["--grace"], "pyinit: option '--grace' requires an argument"),
        (["--grace", "-1", "true"], "pyinit: --grace: must be between 0 and"),
        (["--grace", "nan", "true"], "pyinit: --grace: must be between 0 and"),
        (["--kill-after", "soon", "true"], "pyinit: --kill-after: not a number of seconds: 'soon'"),
        (["--rewrite", "FOO:BAR", "true"], "pyinit: --rewrite: no such signal: 'FOO'"),
        (["-r", "TERM", "true"], "pyinit: --rewrite: expected FROM:TO, got 'TERM'"),
        (["-r", "KILL:TERM", "true"], "pyinit: --rewrite: SIGKILL cannot be rewritten"),
        (["--user", "", "true"], "pyinit: --user: expected USER[:GROUP], got ''"),
        (["--user", "alice:", "true"], "pyinit: --user: expected USER[:GROUP], got 'alice:'"),
        (["-e", "300", "true"], "pyinit: --remap-exit: not an exit status from 0 to 255: '300'"),
        (["--log-format", "xml", "true"], "pyinit: --log-format: expected text or json, got 'xml'"),
        (["--pause", "true"], "pyinit: --pause runs no command, but one was given"),
        (["--compat", "runit", "true"], "pyinit: --compat: unknown personality 'runit'"),
    ],
)
def test_bad_command_line_is_one_line_plus_usage_exit_2_and_starts_nothing(pyinit, tmp_path, argv, problem):
    marker = tmp_path / "started"
    # Where the command line names a command, make it one that leaves a trace.
    command = argv[:-1] + ["touch", str(marker)] if argv[-1:] == ["true"] else argv
    result = run(pyinit + command)
    assert result.returncode == 2
    first, *rest = result.stderr.splitlines()
    assert first.startswith(problem)
    assert not marker.exists()
    assert result.stdout == ""
    if not argv or not argv[0].startswith("--compat"):
        assert rest[0] == "Usage: pyinit [OPTIONS] [--] COMMAND [ARGS...]"


@pytest.mark.parametrize(
    "variable, value, problem",
    [
        ("PYINIT_GRACE", "-3", "PYINIT_GRACE: must be between 0 and"),
        ("PYINIT_SINGLE_CHILD", "maybe", "PYINIT_SINGLE_CHILD: expected 1 or 0, got 'maybe'"),
        ("PYINIT_VERBOSITY", "loud", "PYINIT_VERBOSITY: expected a count from 0 to 3"),
        ("PYINIT_REWRITE", "TERM:NOPE", "PYINIT_REWRITE: no such signal: 'NOPE'"),
        ("PYINIT_LOG_FORMAT", "yaml", "PYINIT_LOG_FORMAT: expected text or json"),
    ],
)
def test_bad_environment_value_names_the_variable_and_exits_2(pyinit, tmp_path, variable, value, problem):
    marker = tmp_path / "started"
    result = run(pyinit + ["touch", str(marker)], env={"PATH": "/usr/bin:/bin", variable: value})
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == f"pyinit: {problem}" or result.stderr.startswith(f"pyinit: {problem}")
    assert not marker.exists()


def test_command_needs_no_double_dash_and_its_options_are_its_own(pyinit):
    result = run(pyinit + ["sh", "-c", "echo $0 $1", "-v", "--grace"])
    assert (result.returncode, result.stdout) == (0, "-v --grace\n")


def test_command_line_wins_over_environment(pyinit):
    # PYINIT_REMAP_EXIT says 3 -> 0, the command line says 3 -> 9.
    result = run(pyinit + ["-e", "3:9", "--", "sh", "-c", "exit 3"], env={"PATH": "/usr/bin:/bin",
                                                                         "PYINIT_REMAP_EXIT": "3"})
    assert result.returncode == 9


def test_environment_sets_options(pyinit):
    result = run(pyinit + ["sh", "-c", "exit 3"], env={"PATH": "/usr/bin:/bin", "PYINIT_REMAP_EXIT": "3:0 4"})
    assert result.returncode == 0


def test_no_traceback_when_command_is_missing(pyinit):
    result = run(pyinit + ["--", "/nonexistent/cmd"])
    assert result.returncode == 127
    assert result.stderr == "pyinit: cannot run '/nonexistent/cmd': No such file or directory\n"
