"""Who pyinit is being: its own command line, or a drop-in for tini, dumb-init or catatonit.

Each personality is a module with parse(argv, env) -> Config and nothing else:
they differ only in how they fill Config and in their usage texts and statuses.
"""

from ..config import EXIT_USAGE, EarlyExit

# Personality name: module that parses its command line.
MODULES = {"pyinit": "pyinit", "tini": "tini", "dumb-init": "dumb_init", "catatonit": "catatonit"}


def choose(argv0: str, argv: list, env) -> tuple:
    """(personality, remaining argv): from argv[0]'s name, a leading --compat, or PYINIT_COMPAT."""
    invoked_as = argv0.rsplit("/", 1)[-1]
    if invoked_as in MODULES and invoked_as != "pyinit":
        return invoked_as, argv
    name = env.get("PYINIT_COMPAT") or None
    if argv and argv[0].startswith("--compat"):
        if argv[0] == "--compat" and len(argv) > 1:
            name, argv = argv[1], argv[2:]
        elif argv[0].startswith("--compat="):
            name, argv = argv[0][len("--compat="):], argv[1:]
        elif argv[0] == "--compat":
            raise EarlyExit(EXIT_USAGE, "pyinit: option '--compat' requires an argument\n")
    if name is None:
        return "pyinit", argv
    if name not in MODULES:
        choices = ", ".join(MODULES)
        raise EarlyExit(EXIT_USAGE, f"pyinit: --compat: unknown personality {name!r} (one of {choices})\n")
    return name, argv


def parse(name: str, argv: list, env):
    """The Config for `name`'s command line; raises EarlyExit for help, version, errors."""
    module = __import__(f"{__name__}.{MODULES[name]}", fromlist=["parse"])
    return module.parse(argv, env)
