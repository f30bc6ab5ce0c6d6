"""One way to say things: `log(level, event, message, **fields)`, prose or JSON lines.

Writes straight to the file descriptor and never raises: a PID 1 must not die
because stderr is closed, full, or a pipe nobody reads (EBADF, EPIPE, EAGAIN).
"""

import posix

ERROR, WARN, INFO, DEBUG, TRACE = 0, 1, 2, 3, 4
_LEVEL_NAMES = ("ERROR", "WARN", "INFO", "DEBUG", "TRACE")
_STDOUT, _STDERR = 1, 2

_style = "pyinit"
_verbosity = WARN
_json = None


def configure(style: str, verbosity: int) -> None:
    """Set the style ("pyinit", "json", "tini", "dumb-init", "catatonit") and the level."""
    global _style, _verbosity, _json
    _style, _verbosity = style, verbosity
    if style == "json" and _json is None:
        import json as _json_module  # only when asked for: json costs start-up

        _json = _json_module


def enabled(level: int) -> bool:
    return level <= _verbosity


def log(level: int, event: str, message: str, **fields: object) -> None:
    """Say `message` if `level` is enabled; `event` and `fields` are for JSON lines."""
    if level > _verbosity:
        return
    try:
        fd, line = _format(level, event, message, fields)
        write(fd, line)
    except Exception:  # noqa: BLE001 - logging is never worth dying for
        pass


def _format(level: int, event: str, message: str, fields: dict):
    level_name = _LEVEL_NAMES[level]
    if _style == "json":
        record = {"level": level_name.lower(), "event": event, "pid": posix.getpid()}
        record.update(fields)
        record["message"] = message
        return _STDERR, _json.dumps(record, default=str) + "\n"
    if _style == "tini":
        # tini prints INFO and chattier levels to stdout, WARN and FATAL to stderr.
        fd = _STDOUT if level >= INFO else _STDERR
        tag = "FATAL" if level == ERROR else level_name
        return fd, f"[{tag:<5} tini ({posix.getpid()})] {message}\n"
    if _style == "dumb-init":
        return _STDERR, f"[dumb-init] {message}\n"
    if _style == "catatonit":
        return _STDERR, f"{level_name} (catatonit:{posix.getpid()}): {message}\n"
    if level == ERROR:
        return _STDERR, f"pyinit: {message}\n"  # the shape of any Unix tool's error
    return _STDERR, f"[pyinit] {message}\n"


def write(fd: int, text: str) -> None:
    """Write all of `text` to `fd`, giving up silently if the fd is unusable."""
    data = text.encode("utf-8", "backslashreplace")
    while data:
        if not _writable(fd):
            return  # a full pipe nobody reads: drop the line rather than block PID 1
        try:
            written = posix.write(fd, data)
        except InterruptedError:
            continue
        except BrokenPipeError:
            # Blocked, the SIGPIPE this raised waits for the loop, which would
            # forward it and kill the child: take it back now.
            from .signals import discard_own_sigpipe

            discard_own_sigpipe()
            return
        except OSError:
            return  # closed, broken or full: drop the line, keep the init alive
        data = data[written:]


def _writable(fd: int) -> bool:
    """Whether write(fd) would not block: a blocking write to a full pipe waits for a
    reader (pipe(7)), and a PID 1 waiting there reaps and forwards nothing. stderr is
    shared with the child, so it cannot be made O_NONBLOCK; poll(2) asks instead. A
    closed or broken fd reports ready, and write then fails with EBADF or EPIPE.
    """
    import select  # only once something is logged

    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    try:
        return bool(poller.poll(0))
    except OSError:
        return True  # let write report it
