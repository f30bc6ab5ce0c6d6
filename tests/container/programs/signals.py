"""Print each signal received, one line each, until SIGTERM (left at its default: 143).

Usage: signals.py LABEL. Prints "LABEL ready pid=P pgid=G" first, then
"LABEL got SIGNAME" per signal, so a test can tell which process got what.
"""

import os
import signal
import sys
import time

LABEL = sys.argv[1] if len(sys.argv) > 1 else "app"
CAUGHT = (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH)


def report(signum, frame):
    print(f"{LABEL} got {signal.Signals(signum).name}", flush=True)


for s in CAUGHT:
    signal.signal(s, report)
print(f"{LABEL} ready pid={os.getpid()} pgid={os.getpgrp()}", flush=True)
deadline = time.monotonic() + 120  # never outlive a forgotten container by much
while time.monotonic() < deadline:
    time.sleep(0.5)
sys.exit(3)
