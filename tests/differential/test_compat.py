"""`ln -s pyinit tini` and `pyinit --compat tini` are the same personality; so is PYINIT_COMPAT."""

from __future__ import annotations

import signal

import pytest

from pyinit.testing.plugin import require_namespaces

from .harness import ANCHORS, Scenario, observe

pytestmark = pytest.mark.differential

S = signal.Signals

# One scenario per kind of observation: signals and groups, statuses, usage, streams.
SCENARIOS = {
    "tini": [
        Scenario("tini", options=("-g",), signals=(S.SIGUSR1, S.SIGTSTP, S.SIGTERM)),
        Scenario("tini", options=("-e", "3", "-vv"), command=("sh", "-c", "exit 3")),
        Scenario("tini", options=("-x",), command=("true",)),
        Scenario("tini", options=("-l",), dashdash=False, command=()),
        Scenario("tini", pid1=False, command=("no-such-command-here",)),
    ],
    "dumb-init": [
        Scenario("dumb-init", options=("-r", "10:12"), signals=(S.SIGUSR1, S.SIGTTIN, S.SIGCONT)),
        Scenario("dumb-init", options=("-c",), pid1=False, signals=(S.SIGTSTP,)),
        Scenario("dumb-init", options=("--ver",), command=("true",)),
        Scenario("dumb-init", options=("-V",), dashdash=False, command=()),
        Scenario("dumb-init", command=("/etc/passwd",)),
    ],
    "catatonit": [
        Scenario("catatonit", options=("-g",), signals=(S.SIGHUP, S.SIGTSTP, S.SIGINT)),
        Scenario("catatonit", options=("-P",), signals=(S.SIGUSR1, S.SIGTERM)),
        Scenario("catatonit", env=(("CATATONIT_DEBUG", ""),), command=("sh", "-c", "exit 9")),
        Scenario("catatonit", dashdash=False, command=("sh", "-c", "exit 3", "-l")),
        Scenario("catatonit", options=("-V",), dashdash=False, command=()),
    ],
}


@pytest.mark.parametrize("name", ANCHORS)
def test_symlink_and_compat_flag_give_the_same_personality(name: str) -> None:
    """Invoked as `tini` (a symlink) or as `pyinit --compat tini`, pyinit should behave the same."""
    require_namespaces()
    for scenario in SCENARIOS[name]:
        by_name, by_flag = observe(scenario, "pyinit"), observe(scenario, "compat")
        assert by_name == by_flag, f"{scenario}:\n  " + "\n  ".join(by_name.differences(by_flag))


@pytest.mark.parametrize("name", ANCHORS)
def test_pyinit_compat_variable_gives_the_same_personality(name: str) -> None:
    """PYINIT_COMPAT=tini pyinit ... should behave as the symlink does."""
    require_namespaces()
    scenario = SCENARIOS[name][0]
    by_name = observe(scenario, "pyinit")
    by_variable = observe(Scenario(**{**scenario.__dict__, "env": scenario.env + (("PYINIT_COMPAT", name),)}),
                          "plain")
    assert by_name == by_variable, f"{scenario}:\n  " + "\n  ".join(by_name.differences(by_variable))


@pytest.mark.parametrize("name", ANCHORS)
def test_pyinit_long_options_work_under_every_personality(name: str) -> None:
    """`tini --grace 2 --wait-all -- app` should keep pyinit's meaning where the anchor has no such option."""
    from pyinit import personalities

    config = personalities.parse(name, ["--grace", "2", "--wait-all", "--log-format=json", "--", "app"], {})
    assert (config.grace, config.wait_all, config.log_style, config.command) == (2.0, True, "json", ("app",))
    from_env = personalities.parse(name, ["app"], {"PYINIT_GRACE": "3", "PYINIT_WAIT_ALL": "1"})
    assert (from_env.grace, from_env.wait_all) == (3.0, True)
    overridden = personalities.parse(name, ["--grace", "1", "app"], {"PYINIT_GRACE": "3"})
    assert overridden.grace == 1.0  # the command line wins


def test_dumb_init_rewrite_keeps_dumb_inits_meaning_and_prefixes() -> None:
    """dumb-init's own --rewrite (and --re, --r) should win over pyinit's --rewrite and --remap-exit."""
    from pyinit import personalities

    for spelling in (["--rewrite", "15:10"], ["--re=15:10"], ["--r", "15:10"]):
        config = personalities.parse("dumb-init", spelling + ["app"], {})
        assert config.rewrite[signal.SIGTERM] == signal.SIGUSR1, spelling
    assert personalities.parse("dumb-init", ["--remap-exit", "3", "app"], {}).remap_exit == {3: 0}
