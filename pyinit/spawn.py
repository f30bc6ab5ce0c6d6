"""Start the child: posix_spawn when it can, fork + exec when it must.

posix_spawn (a vfork-style clone in glibc and musl) is about 1.7 ms cheaper
than fork + exec from Python, and reports exec errors synchronously. fork + exec
is kept for what posix_spawn cannot do: make the child the terminal's
foreground group before it runs, drop privileges, rewrite LISTEN_PID, and the
/bin/sh retry of an executable with no #! line (libc's execvp does that retry,
Python's and posix_spawnp do not).
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
        raise _spawn_error(config, ENOENT)  # as execvp(3); posix_spawnp raises ValueError
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
                raise _spawn_error(config, error.errno) from None
            # No #! line: fork + exec below runs it through /bin/sh, as execvp does.
    return _fork_exec(config, child_mask, to_default, env, user, on_tty)


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


def _fork_exec(config, child_mask, to_default, env, user, on_tty) -> int:
    # The error pipe is O_CLOEXEC (Python's default, PEP 446): a successful exec
    # closes it and the parent reads EOF; a failure writes "step:errno" first.
    read_end, write_end = posix.pipe()
    parent = posix.getpid()
    pid = posix.fork()
    if pid == 0:  # in the child: never return into pyinit's code
        step = "exec"
        try:
            posix.close(read_end)
            step = "setsid"
            _isolate(config, on_tty)
            if user is not None:
                step = "user"
                user.apply()
            if config.pdeathsig is not None and config.pdeathsig_child:
                # Tie the child to pyinit as --pdeathsig ties pyinit to its parent: a
                # SIGKILLed pyinit forwards nothing, so the kernel sends the signal
                # (prctl(2); set after the user switch, which clears it; kept by exec).
                step = "pdeathsig"
                from . import _linux

                _linux.set_pdeathsig(config.pdeathsig)
                if posix.getppid() != parent:
                    posix.kill(posix.getpid(), config.pdeathsig)  # pyinit died before prctl
            if config.rewrite_listen_pid and env.get(b"LISTEN_PID") == str(posix.getppid()).encode():
                env[b"LISTEN_PID"] = str(posix.getpid()).encode()
            step = "exec"
            # Undo what pyinit did to itself: dispositions first, then the mask,
            # so no signal is delivered to a handler that exec is about to drop.
            for signum in to_default:
                try:
                    signals.reset(signum)
                except (OSError, ValueError):
                    pass
            signals.set_mask(child_mask)
            _execvp(config.command[0], list(config.command), env)
        except OSError as error:
            _report(write_end, step, error.errno or 1)
        except BaseException:  # noqa: BLE001 - anything else must still end the child
            _report(write_end, step, 1)
        posix._exit(127)
    posix.close(write_end)
    report = _read_all(read_end)
    posix.close(read_end)
    if report:
        step, _, errno = report.decode().partition(":")
        raise _spawn_error(config, int(errno), step)
    return pid


def _isolate(config, on_tty: bool) -> None:
    """New process group or session, and the terminal's foreground, as tini and dumb-init."""
    if config.child_isolation == "session":
        posix.setsid()
        if on_tty:
            import fcntl
            import termios

            try:
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            except OSError:
                pass  # the tty belongs to another session: run without one (dumb-init)
    elif config.child_isolation == "group":
        posix.setpgid(0, 0)
        if on_tty:
            # SIGTTOU is still blocked here (inherited from pyinit), so tcsetpgrp
            # from a background group is allowed instead of stopping us (tcsetpgrp(3)).
            try:
                posix.tcsetpgrp(0, posix.getpgrp())
            except OSError as error:
                if error.errno not in (ENOTTY, ENXIO):
                    raise


def _execvp(file: str, argv: list, env) -> None:
    """execvp(3) as glibc does it: PATH search, EACCES remembered, ENOEXEC run by /bin/sh."""
    if "/" in file:
        candidates = [file]
    else:
        path = env.get(b"PATH")
        path = path.decode("utf-8", "surrogateescape") if path is not None else _DEFAULT_PATH
        candidates = [(directory or ".") + "/" + file for directory in path.split(":")]
    denied = None
    last = OSError(ENOENT, "No such file or directory")
    for candidate in candidates:
        try:
            posix.execve(candidate, argv, env)
        except OSError as error:
            if error.errno == ENOEXEC:
                posix.execve("/bin/sh", ["sh", candidate] + argv[1:], env)
            if error.errno == EACCES:
                denied = error
            elif error.errno not in (ENOENT, 20):  # 20: ENOTDIR, keep searching
                raise
            last = error
    raise denied or last


def _spawn_error(config, errno: int, step: str = "exec") -> SpawnError:
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


def _interpreter_of(file: str):
    """The #! interpreter named by `file` (found as execvp finds it), or None."""
    if "/" in file:
        candidates = [file]
    else:
        path = posix.environ.get(b"PATH", _DEFAULT_PATH.encode()).decode("utf-8", "surrogateescape")
        candidates = [(directory or ".") + "/" + file for directory in path.split(":")]
    for candidate in candidates:
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


def _report(fd: int, step: str, errno: int) -> None:
    try:
        posix.write(fd, f"{step}:{errno}".encode())
    except OSError:
        pass


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = posix.read(fd, 256)
        except InterruptedError:
            continue
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
