"""What pyinit was asked to do: the frozen Config, its defaults, and the exit statuses."""

# Exit statuses. The child's own status always wins once it has run; these are
# for the cases where pyinit has to answer for itself.
EXIT_OK = 0
EXIT_INTERNAL = 1  # setup failed after parsing (subreaper refused, privilege drop impossible)
EXIT_USAGE = 2  # bad command line, as getopt-style tools and argparse do
EXIT_CANNOT_EXECUTE = 126  # found but not runnable (EACCES, ENOEXEC, ...): as sh(1)
EXIT_COMMAND_NOT_FOUND = 127  # ENOENT: as sh(1)
EXIT_SIGNAL_BASE = 128  # a child killed by signal N gives 128+N, "as sh would"

# After SIGKILL, how long to wait for the killed to be reaped before leaving
# anyway. SIGKILL cannot be caught, so only a process stuck in the kernel
# (uninterruptible sleep) outlasts this; as PID 1 the kernel kills it as we exit.
KILL_REAP_SECONDS = 2.0

#: Config fields and their defaults: pyinit's own behaviour. Each personality
#: starts from these and changes what its init does differently.
DEFAULTS = {
    # What to run. Empty only in pause mode.
    "command": (),
    # Signals go to the child's whole process group (-pgid) rather than its pid.
    "forward_to_group": True,
    # How the child is detached: "group" (new process group, same session),
    # "session" (setsid: dumb-init) or "inherit" (stays in pyinit's group: dumb-init -c).
    "child_isolation": "group",
    # Become a child subreaper when not PID 1, so orphans are still reparented to us.
    "subreaper": True,
    # A refused PR_SET_CHILD_SUBREAPER stops pyinit (tini -s, catatonit) instead of warning.
    "subreaper_required": False,
    # Warn when neither PID 1 nor a subreaper: zombies will not reach us.
    "warn_not_reaper": True,
    # 0 errors, 1 warnings, 2 info, 3 debug, 4 trace.
    "verbosity": 1,
    # "pyinit", "json", or an anchor's log style: "tini", "dumb-init", "catatonit".
    "log_style": "pyinit",
    # Warn for every reaped process that is not the main child (tini -w).
    "warn_on_reap": False,
    # {child status: status pyinit exits with} (tini -e, pyinit -e FROM:TO).
    "remap_exit": {},
    # {signal received: signal forwarded}; 0 means drop it (dumb-init -r).
    "rewrite": {},
    # Synchronous fault signals (SEGV, BUS, ...) sent to pyinit are forwarded too
    # (dumb-init) instead of being left to the kernel.
    "forward_faults": False,
    # After forwarding SIGTSTP/SIGTTIN/SIGTTOU, stop ourselves with SIGSTOP (dumb-init).
    "stop_self_on_job_control": False,
    # In session mode with a terminal, ignore the first SIGHUP and SIGCONT: the kernel
    # sends them when the session leader detaches from its tty (dumb-init #136).
    "ignore_tty_handoff": False,
    # When the main child exits, send (rewritten) SIGTERM to where signals go (dumb-init).
    "term_on_child_exit": False,
    # Signals left blocked in the child (catatonit blocks TSTP, TTIN, TTOU).
    "child_blocked": frozenset(),
    # The child starts with an empty mask and every signal SIG_DFL (pyinit, dumb-init);
    # tini and catatonit pass on the mask and the SIG_IGNs pyinit itself inherited.
    "reset_inherited_signals": True,
    # catatonit: LISTEN_PID equal to our pid is rewritten to the child's pid.
    "rewrite_listen_pid": False,
    # chdir("/") in pyinit after the child starts so we hold no mount busy (dumb-init).
    "chdir_root": False,
    # After the main child exits: seconds the rest get between SIGTERM and SIGKILL;
    # None: do not wait for them at all (the anchors' behaviour).
    "grace": 5.0,
    # Seconds after a forwarded terminating signal before SIGKILL; None: never.
    "kill_after": None,
    # Keep reaping until every descendant is gone, not just the main child.
    "wait_all": False,
    # No command: reap and wait for SIGTERM/SIGINT, then exit 0 (pause container).
    "pause": False,
    # USER[:GROUP] the child runs as; None keeps ours.
    "user": None,
    # Signal the kernel sends us when our parent dies (PR_SET_PDEATHSIG).
    "pdeathsig": None,
    # The child gets pdeathsig too when pyinit dies (a SIGKILLed pyinit forwards
    # nothing); tini's -p sets it on tini alone.
    "pdeathsig_child": True,
    # Exit statuses when the command cannot be started.
    "exit_not_found": EXIT_COMMAND_NOT_FOUND,
    "exit_not_executable": EXIT_CANNOT_EXECUTE,
    "exit_exec_other": EXIT_CANNOT_EXECUTE,
}


class Config:
    """A frozen record of every choice the supervisor needs; see DEFAULTS for meanings."""

    __slots__ = tuple(DEFAULTS)

    def __init__(self, **fields: object) -> None:
        unknown = set(fields) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"unknown Config fields: {sorted(unknown)}")
        for name, default in DEFAULTS.items():
            object.__setattr__(self, name, fields.get(name, default))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Config is frozen; use replace()")

    def replace(self, **changes: object) -> "Config":
        fields = {name: getattr(self, name) for name in DEFAULTS}
        fields.update(changes)
        return Config(**fields)

    def __repr__(self) -> str:
        changed = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name, default in DEFAULTS.items()
            if getattr(self, name) != default
        )
        return f"Config({changed})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and all(
            getattr(self, n) == getattr(other, n) for n in DEFAULTS
        )


class EarlyExit(Exception):
    """Stop before anything starts: print `message` on `stream` and exit with `status`.

    Raised by the parsers for usage errors (status 2, or the anchor's) and for
    --help/--version (status 0): one type, so cli.main has one place that prints.
    """

    def __init__(self, status: int, message: str, stream: str = "stderr") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.stream = stream
