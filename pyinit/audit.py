"""`pyinit audit [--json] -- COMMAND`: does this program need an init to be PID 1?

Runs COMMAND twice, each time in a fresh PID namespace: once as a bare PID 1,
once under pyinit. Before COMMAND starts, `pyinit.testing.orphan_maker`
leaves two short-lived orphans behind, as a daemonizing helper would, so they
are re-parented to PID 1 and exit after 0.2 s. After a settle time we count
the zombies inside (psutil), send SIGTERM to PID 1 as `docker stop` does, and
time how long it takes to exit. Every step has a deadline; whatever is still
running at the end is SIGKILLed, and the namespace goes with it.

Why the bare run fails so often: the kernel drops every signal sent to a
namespace's PID 1 for which it has no handler (pid_namespaces(7)), so a program
relying on SIGTERM's default action never sees it; and orphans are re-parented
to PID 1, which must wait() for them or they stay zombies.

Exit status: 0 no init needed, 1 needs an init, 2 bad command line, 3 the
audit could not run (no PID namespaces, psutil missing), 130 interrupted.
"""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
import time

EXIT_NO_INIT_NEEDED, EXIT_NEEDS_INIT, EXIT_USAGE, EXIT_CANNOT_AUDIT = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C; also for SIGTERM and SIGHUP

USAGE = ("Usage: pyinit audit [--json] [--ready TEXT] [--settle SECONDS] [--timeout SECONDS] "
         "[--] COMMAND [ARGS...]")

HELP = f"""{USAGE}

Run COMMAND as a bare PID 1 and under pyinit, each in a fresh PID namespace, and
report whether it exits on SIGTERM (and how fast), whether it leaves zombies when
orphans are re-parented to it, and its exit status in each case.

Options:
  --json              one JSON object on stdout instead of the table
  --ready TEXT        examine COMMAND as soon as it prints TEXT (stdout or stderr),
                      at the latest after --settle seconds (then default 30)
  --settle SECONDS    how long COMMAND runs before it is examined (default 1)
  --timeout SECONDS   how long to wait for an exit after SIGTERM (default 5)
  -h, --help          show this help and exit

Exit status: 0 no init needed, 1 needs an init, 2 bad command line,
3 the audit could not run here.
"""

ORPHANS = 2
ORPHAN_MAKER = "pyinit.testing.orphan_maker"
MAX_SECONDS = 600.0


class _Usage(Exception):
    pass


def parse(argv: list[str]) -> dict:
    options = {"json": False, "ready": None, "settle": None, "timeout": 5.0, "command": []}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            options["command"] = args
            break
        if arg in ("-h", "--help"):
            options["help"] = True
            return options
        if arg == "--json":
            options["json"] = True
        elif arg.split("=", 1)[0] == "--ready":
            name, equals, value = arg.partition("=")
            if not equals:
                if not args:
                    raise _Usage("option '--ready' requires an argument")
                value = args.pop(0)
            if not value:
                raise _Usage("--ready: the text must not be empty")
            options["ready"] = value
        elif arg.split("=", 1)[0] in ("--settle", "--timeout"):
            name, _, value = arg.partition("=")
            if not value:
                if not args:
                    raise _Usage(f"option '{name}' requires an argument")
                value = args.pop(0)
            try:
                seconds = float(value)
            except ValueError:
                raise _Usage(f"{name}: not a number of seconds: {value!r}") from None
            if not 0 < seconds <= MAX_SECONDS:  # also rejects nan
                raise _Usage(f"{name}: must be more than 0 and at most {MAX_SECONDS:g}: {value!r}")
            options[name[2:]] = seconds
        elif arg.startswith("-"):
            raise _Usage(f"unrecognized option '{arg}'")
        else:
            options["command"] = [arg] + args
            break
    if not options["command"]:
        raise _Usage("no command given")
    if options["settle"] is None:
        options["settle"] = 1.0 if options["ready"] is None else 30.0
    return options


def _meaning(status: int | None) -> str:
    if status is None:
        return "none"
    if status > 128:
        try:
            return f"{status} (128+{signal.Signals(status - 128).name})"
        except ValueError:
            pass
    return str(status)


def _examine(ns, result: dict, timeout: float, describe) -> dict:
    zombies = ns.zombies()
    result["zombies"] = len(zombies)
    result["zombie_processes"] = [describe(z) for z in zombies]
    sent = time.monotonic()
    ns.send_signal(signal.SIGTERM)
    result["sigterm"] = "sent"
    try:
        status = ns.wait(timeout)
        result.update(sigterm="handled", seconds=round(time.monotonic() - sent, 3), status=status)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: wait() has killed it
        result.update(sigterm="ignored", seconds=round(timeout, 3), status=ns.returncode)
    return result


def run_once(command: list[str], init, settle: float, timeout: float, live: list | None = None,
             ready: str | None = None, stopping: threading.Event | None = None) -> dict:
    """One namespace: orphans, settle, count zombies, SIGTERM, time the exit. Never hangs.

    The namespace is appended to `live` as soon as it exists, so a caller that
    is interrupted can still tear it down; one that exists only after the caller
    set `stopping` (it was still starting) is torn down here at once.
    """
    from .testing.namespace import describe_process, run_in_namespace

    argv = [sys.executable, "-m", ORPHAN_MAKER, "-n", str(ORPHANS), "--"] + command
    result = {"exited_by_itself": False, "ready": None, "sigterm": "not sent", "seconds": None,
              "zombies": None, "zombie_processes": [], "status": None}
    with run_in_namespace(argv, init=init) as ns:
        if live is not None:
            live.append(ns)
        if stopping is not None and stopping.is_set():
            ns.kill()
            raise RuntimeError("interrupted while starting")
        started = time.monotonic()
        _settle(ns, started + settle, ready)
        result["ready"] = None if ready is None else (ready in ns.stdout or ready in ns.stderr)
        if ns.returncode is not None:
            ns.wait(5)
            result.update(exited_by_itself=True, status=ns.returncode,
                          seconds=round(time.monotonic() - started, 3))
            return result
        return _examine(ns, result, timeout, describe_process)


def _settle(ns, deadline: float, ready: str | None) -> None:
    """Until `ready` is printed (or, without it, the deadline), then until the orphans are gone."""
    while time.monotonic() < deadline and ns.returncode is None:
        if ready is not None and (ready in ns.stdout or ready in ns.stderr):
            break
        time.sleep(0.02)
    # The orphans live ORPHAN_SECONDS; on a loaded machine they may outlast the
    # settle time, and counting zombies before they exit would find none.
    orphans_deadline = time.monotonic() + 5
    while time.monotonic() < orphans_deadline and ns.returncode is None and _orphans_running(ns):
        time.sleep(0.02)


def _orphans_running(ns) -> bool:
    import psutil

    for process in ns.processes():
        try:
            # Its argv, not the init's (whose argv holds it further on).
            if process.status() != psutil.STATUS_ZOMBIE and process.cmdline()[1:3] == ["-m", ORPHAN_MAKER]:
                return True
        except psutil.Error:
            pass  # gone, or a zombie, while we looked
    return False


def _kill_all(live: list) -> None:
    """Tear every namespace down; a run's own thread may be ending the same one right now,
    and an error from that race must not replace the KeyboardInterrupt being handled."""
    for ns in list(live):
        try:
            ns.kill()
        except Exception:  # noqa: BLE001 - e.g. EBADF on a pidfd the other thread just closed
            pass


def audit(command: list[str], settle: float = 1.0, timeout: float = 5.0, ready: str | None = None) -> dict:
    """Both runs (at the same time, each bounded) and the verdict, as one dict."""
    modes = {"bare": None, "pyinit": "pyinit"}
    results: dict = {}
    errors: dict = {}
    live: list = []
    stopping = threading.Event()

    def one(name: str, init) -> None:
        try:
            results[name] = run_once(command, init, settle, timeout, live, ready, stopping)
        except Exception as error:  # noqa: BLE001 - reported, never a traceback
            errors[name] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=one, args=item, daemon=True) for item in modes.items()]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            # settle + timeout + the kill and teardown, with room: the runner bounds each step.
            thread.join(settle + timeout + 40)
    finally:
        # Interrupted (Ctrl-C, SIGTERM) or out of time: the namespaces live in
        # sessions of their own, so nothing else would end them. A run still
        # starting its namespace sees `stopping` and ends it itself: wait for that.
        stopping.set()
        _kill_all(live)
        for thread in threads:
            thread.join(20)
        _kill_all(live)
    for name in modes:
        if name not in results:
            raise RuntimeError(f"{name} run failed: {errors.get(name, 'did not finish in time')}")
    report = {"command": command, "ready": ready, "settle": settle, "timeout": timeout, **results}
    report["needs_init"], report["verdict"] = verdict(results["bare"], results["pyinit"])
    return report


def verdict(bare: dict, under: dict) -> tuple[bool, str]:
    """(needs an init?, one line saying why)."""
    problems = []
    if bare["sigterm"] == "ignored":
        if under["sigterm"] == "handled":
            problems.append("SIGTERM ignored as PID 1")
        else:
            problems.append("SIGTERM ignored as PID 1 and under pyinit too (the program ignores it: "
                            "fix its handler, or use pyinit --kill-after)")
    if bare["zombies"]:
        problems.append(f"orphans left as zombies ({bare['zombies']})")
    if problems:
        return True, "needs an init: " + "; ".join(problems)
    if bare["exited_by_itself"]:
        return False, (f"exited by itself in {bare['seconds']:g}s with status {bare['status']} before "
                       "SIGTERM could be tried; run it with a longer-lived command to judge")
    return False, "no init needed: exits on SIGTERM and reaps orphans as PID 1"


def _cell_sigterm(result: dict) -> str:
    if result["exited_by_itself"]:
        return f"exited by itself ({result['seconds']:g}s)"
    if result["sigterm"] == "handled":
        return f"yes, in {result['seconds']:g}s"
    return f"no: ignored for {result['seconds']:g}s, then SIGKILL"


def table(report: dict) -> str:
    rows = [("", "bare PID 1", "under pyinit")]
    cells = {
        "exits on SIGTERM": _cell_sigterm,
        "zombies from orphans": lambda r: "n/a (already exited)" if r["zombies"] is None else str(r["zombies"]),
        "exit status": lambda r: _meaning(r["status"]),
    }
    if report.get("ready") is not None:
        cells = {f"printed {report['ready']!r}": lambda r: "yes" if r["ready"] else "no (settle ran out)", **cells}
    for label, cell in cells.items():
        rows.append((label, cell(report["bare"]), cell(report["pyinit"])))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"pyinit audit: {shlex.join(report['command'])}"]
    lines += ["  ".join(text.ljust(widths[i]) for i, text in enumerate(row)).rstrip() for row in rows]
    for name in ("bare", "pyinit"):
        for line in report[name]["zombie_processes"]:
            lines.append(f"  zombie ({name}): {line}")
    lines.append(f"verdict: {report['verdict']}")
    return "\n".join(lines) + "\n"


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def _cannot_audit() -> str | None:
    """Why this machine cannot run an audit, or None."""
    try:
        import psutil  # noqa: F401 - needed by the zombie count; fail here with a clear line
    except ImportError:
        return "needs psutil: pip install 'pyinit-pid1[testing]'"
    from .testing.namespace import namespace_support

    reason = namespace_support()
    return f"cannot make a PID namespace here: {reason}" if reason else None


def main(argv: list[str]) -> int:
    """pyinit audit's entry point (cli.py dispatches here); returns the exit status."""
    try:
        options = parse(argv)
    except _Usage as problem:
        sys.stderr.write(f"pyinit audit: {problem}\n{USAGE}\n")
        return EXIT_USAGE
    if options.get("help"):
        sys.stdout.write(HELP)
        return 0
    # SIGTERM and SIGHUP unwind like Ctrl-C, through audit()'s teardown. From here on,
    # since the namespace check below already runs a process of its own.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupted)
    try:
        reason = _cannot_audit()
    except KeyboardInterrupt:
        sys.stderr.write("pyinit audit: interrupted before the runs started\n")
        return EXIT_INTERRUPTED
    if reason:
        sys.stderr.write(f"pyinit audit: {reason}\n")
        return EXIT_CANNOT_AUDIT
    try:
        report = audit(options["command"], options["settle"], options["timeout"], options["ready"])
    except KeyboardInterrupt:
        sys.stderr.write("pyinit audit: interrupted; namespaces torn down\n")
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        sys.stderr.write(f"pyinit audit: {error}\n")
        return EXIT_CANNOT_AUDIT
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if options["json"] else table(report))
    return EXIT_NEEDS_INIT if report["needs_init"] else EXIT_NO_INIT_NEEDED
