"""Start the child: posix_spawn when it can, fork + exec when it must.

posix_spawn (a vfork-style clone in glibc and musl) is about 1.7 ms cheaper
than fork + exec from Python, and reports exec errors synchronously. fork + exec
is kept for what posix_spawn cannot do: make the child the terminal's
foreground group before it runs, drop privileges, rewrite LISTEN_PID, and the
/bin/sh retry of an executable with no #! line (libc's execvp does that retry,
Python's and posix_spawnp do not). That path is forkexec, imported only when used.
"""

import posix

from . import signals
from .config import EarlyExit

# errno values, from posix (errno module not needed for three numbers).
ENOENT, EACCES, ENOEXEC, ENOTTY, ENXIO = 2, 13, 8, 25, 6
_DEFAULT_PATH = "/bin:/usr/bin"  # glibc's execvp default when PATH is unset


class SpawnError(EarlyExit):
    """The command could not be started; `status` is what pyinit exits with."""


def spawn(config, original_mask: frozenset, inherited_ignores: frozenset, user=None) -> int:
    """Start config.command and return its pid; raise SpawnError if it cannot run.

    `user` is a resolved privileges.User, or None.
    """
    if not config.command[0]:
        raise spawn_error(config, ENOENT)  # as execvp(3); posix_spawnp raises ValueError
    child_mask = config.child_blocked
    to_default = signals.ALL - signals.UNCATCHABLE
    if not config.reset_inherited_signals:
        child_mask = child_mask | original_mask
        to_default = to_default - inherited_ignores
    env = posix.environ
    if config.rewrite_listen_pid and env.get(b"LISTEN_PID") == str(posix.getpid()).encode():
        env = dict(env)  # rewritten in the child, which knows its own pid
    else:
        env = _env_for_user(env, user)
    on_tty = config.child_isolation != "inherit" and posix.isatty(0)
    child_pdeathsig = config.pdeathsig is not None and config.pdeathsig_child
    if user is None and not on_tty and env is posix.environ and not child_pdeathsig:
        try:
            return _posix_spawn(config, child_mask, to_default, env)
        except OSError as error:
            if error.errno != ENOEXEC:
                raise spawn_error(config, error.errno) from None
            # No #! line: fork + exec below runs it through /bin/sh, as execvp does.
    from .forkexec import fork_exec  # only when posix_spawn cannot do it

    return fork_exec(config, child_mask, to_default, env, user, on_tty)


def _posix_spawn(config, child_mask, to_default, env) -> int:
    options = {"setsigmask": child_mask, "setsigdef": to_default}
    if config.child_isolation == "session":
        options["setsid"] = True
    elif config.child_isolation == "group":
        options["setpgroup"] = 0
    command = config.command
    spawner = posix.posix_spawn if "/" in command[0] else posix.posix_spawnp
    return spawner(command[0], list(command), env, **options)


def _env_for_user(env, user):
    """HOME follows the user we switch to when it was root's (or unset), as su does."""
    if user is None or user.home is None:
        return env
    home = env.get(b"HOME")
    if home is not None and home != user.root_home:
        return env
    changed = dict(env)
    changed[b"HOME"] = user.home
    return changed


def spawn_error(config, errno: int, step: str = "exec") -> SpawnError:
    reason = posix.strerror(errno)
    name = config.command[0] if config.command else ""
    # One line whatever the name holds: a newline in it must not split the message.
    name = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    if step == "user":
        return SpawnError(config.exit_not_executable, f"cannot run '{name}' as user {config.user}: {reason}")
    if step == "setsid":
        return SpawnError(config.exit_exec_other, f"cannot start '{name}' in its own process group: {reason}")
    if errno == ENOENT:
        status = config.exit_not_found
        interpreter = _interpreter_of(config.command[0])
        if interpreter is not None:  # the file is there: ENOENT was about its #! line
            reason = f"bad interpreter {interpreter!r}: {reason}"
    elif errno in (EACCES, ENOEXEC):
        status = config.exit_not_executable
    else:
        status = config.exit_exec_other
    return SpawnError(status, f"cannot run '{name}': {reason}")


def search_path(file: str, env) -> list:
    """Where execvp(3) looks for `file`, in order: the name itself if it holds a slash,
    else each directory of env's PATH (glibc's default without one; empty means ".")."""
    if "/" in file:
        return [file]
    path = env.get(b"PATH")
    path = path.decode("utf-8", "surrogateescape") if path is not None else _DEFAULT_PATH
    return [(directory or ".") + "/" + file for directory in path.split(":")]


def _interpreter_of(file: str):
    """The #! interpreter named by `file` (found as execvp finds it), or None."""
    for candidate in search_path(file, posix.environ):
        try:
            fd = posix.open(candidate, posix.O_RDONLY)
        except OSError:
            continue
        try:
            head = posix.read(fd, 256)
        except OSError:
            return None  # a directory, or unreadable: not a script
        finally:
            posix.close(fd)
        if not head.startswith(b"#!"):
            return None
        words = head[2:].split(b"\n", 1)[0].split()
        return words[0].decode("utf-8", "backslashreplace") if words else ""
    return None
