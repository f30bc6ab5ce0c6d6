"""pyinit.testing: run commands as PID 1 of a fresh PID namespace and check what is left.

Importing this costs next to nothing: psutil and hypothesis are imported only
by the functions that use them. The hypothesis strategies for process trees are
in pyinit.testing.strategies; the pytest fixtures in pyinit.testing.plugin.
"""

from .namespace import (
    NamespaceProcess,
    NamespaceUnavailable,
    describe_process,
    namespace_support,
    pyinit_command,
    run_in_namespace,
)

__all__ = [
    "NamespaceProcess",
    "NamespaceUnavailable",
    "describe_process",
    "namespace_support",
    "pyinit_command",
    "run_in_namespace",
]
