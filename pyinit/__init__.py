"""pyinit: a tiny init for containers. Public API: pyinit.run and pyinit.testing."""

# A constant, not importlib.metadata: that import costs start-up time a PID 1 pays.
__version__ = "0.1.0"

__all__ = ["__version__", "run"]


def run(command, **options) -> int:
    """Supervise `command` as pyinit would and return its exit status.

    `options` are Config fields (grace=2.0, forward_to_group=False, ...).
    Blocks the calling thread's signals for the duration; meant for a Python
    entrypoint that does its own set-up and then hands over to pyinit.
    """
    from .config import Config
    from .supervisor import run as supervise

    return supervise(Config(command=tuple(command), **options))
