#!/usr/bin/env python3
"""A stand-in for nginx's shutdown signals: SIGQUIT is graceful, SIGTERM is not.

nginx(8): TERM and INT mean "fast shutdown" (in-flight requests are cut off),
QUIT means "graceful shutdown" (finish what is in flight, then exit). Docker
and Kubernetes stop a container with SIGTERM, so nginx images say
`STOPSIGNAL SIGQUIT`; an init that rewrites signals does the same from inside:

    pyinit -r TERM:QUIT -- python3 examples/nginx_like.py
    dumb-init --rewrite 15:3 python3 examples/nginx_like.py

It "serves" one request every REQUEST_SECONDS (default 0.2), prints `ready PID`
once its handlers are set, and on shutdown one line saying which kind it was:
`graceful shutdown: finished N requests, dropped 0` or
`fast shutdown: finished N requests, dropped 1 in flight`. Both exit 0, as nginx.
"""

import os
import signal
import sys
import time


class FastShutdown(Exception):
    """SIGTERM or SIGINT: stop now, whatever is in flight."""


graceful = False


def on_quit(signum, frame):
    global graceful
    graceful = True  # finish the request in flight; the loop checks between requests


def on_term(signum, frame):
    raise FastShutdown


def main() -> int:
    request_seconds = float(os.environ.get("REQUEST_SECONDS", "0.2"))
    signal.signal(signal.SIGQUIT, on_quit)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    served = 0
    try:
        # Inside the try: a signal can arrive while `ready` is still being written.
        print(f"ready {os.getpid()}", flush=True)
        while not graceful:
            time.sleep(request_seconds)  # one request's work; a signal handler runs in between
            served += 1
    except FastShutdown:
        print(f"fast shutdown: finished {served} requests, dropped 1 in flight", flush=True)
        return 0
    print(f"graceful shutdown: finished {served} requests, dropped 0", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
