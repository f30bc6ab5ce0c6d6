"""A background worker that keeps its work in memory and writes it out on SIGTERM.

It stands for the helper an entrypoint script starts next to the main process
(a log shipper, a metrics buffer, an upload queue): its work survives a
`docker stop` only if something sends it SIGTERM and then waits while it
flushes. A bare PID 1 does neither; pyinit does both.

Environment: WORKER_OUT (directory, default /data), WORKER_FLUSH_SECONDS (how
long the flush takes, default 1: a slow disk or network upload).
"""

import os
import signal
import sys
import time

stopping = False


def on_sigterm(signum, frame):
    global stopping
    stopping = True
    # A second SIGTERM (an init's shutdown of the rest after the main process
    # has exited) must not cut the flush short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def main() -> int:
    out_dir = os.environ.get("WORKER_OUT", "/data")
    flush_seconds = float(os.environ.get("WORKER_FLUSH_SECONDS", "1"))
    signal.signal(signal.SIGTERM, on_sigterm)
    records = []
    print(f"worker {os.getpid()}: ready, parent {os.getppid()}", flush=True)
    while not stopping:
        records.append(f"{time.time():.3f} record {len(records)}")
        time.sleep(0.1)
    time.sleep(flush_seconds)
    path = os.path.join(out_dir, "worker-flush.txt")
    # Write then rename, so a reader never sees half a file.
    with open(path + ".tmp", "w") as f:
        f.write("".join(r + "\n" for r in records))
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)
    print(f"worker {os.getpid()}: flushed {len(records)} records to {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
