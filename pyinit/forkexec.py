"""fork + exec, for what posix_spawn cannot do (see spawn): a terminal's foreground or a
session made before the child runs, a privilege drop, a parent-death signal for the
child, LISTEN_PID rewritten, and the /bin/sh retry of a file with no #! line.

Exec errors stay exact: the child reports the failing step and its errno through
a close-on-exec pipe, which a successful exec closes unread.
"""

import posix

from . import signals
from .spawn import EACCES, ENOENT, ENOEXEC, ENOTTY, ENXIO, search_path, spawn_error


def fork_exec(config, child_mask, to_default, env, user, on_tty) -> int:
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
        raise spawn_error(config, int(errno), step)
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
    denied = None
    last = OSError(ENOENT, "No such file or directory")
    for candidate in search_path(file, env):
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
