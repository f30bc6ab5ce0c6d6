"""prctl(2) through the C library already loaded in the process; loaded only when needed.

Uses _ctypes, not ctypes: `import ctypes` costs about 7 ms of start-up, _ctypes
about 0.5 ms, and prctl needs nothing ctypes adds (it takes and returns ints).
dlopen(NULL) finds prctl in glibc and musl alike.
"""

import _ctypes
import posix

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_RTLD_NOW = 2


class _CFunction(_ctypes.CFuncPtr):
    # int-returning, int-taking C function that records errno for get_errno().
    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO


_prctl = _CFunction(_ctypes.dlsym(_ctypes.dlopen(None, _RTLD_NOW), "prctl"))


def prctl(option: int, arg: int = 0) -> int:
    """Call prctl(option, arg, 0, 0, 0); raise OSError with errno on failure."""
    result = _prctl(option, arg, 0, 0, 0)
    if result == -1:
        errno = _ctypes.get_errno()
        raise OSError(errno, posix.strerror(errno))
    return result


def set_child_subreaper() -> None:
    """Orphaned descendants are reparented to us, not to the real init (prctl(2))."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def set_pdeathsig(signum: int) -> None:
    """Ask the kernel to send us `signum` when our parent dies (PR_SET_PDEATHSIG)."""
    prctl(PR_SET_PDEATHSIG, signum)
