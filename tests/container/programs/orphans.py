"""Make orphans, see who adopts them, and count the zombies left; print one JSON line.

Run as an init's main child. It forks N children that each fork a grandchild and
exit at once, so each grandchild is orphaned. A grandchild reports the pid it
was re-parented to, then exits: from then on only its adopter can reap it. After
the grandchildren are gone, /proc is scanned for zombies. Under a working init
(PID 1 or subreaper) adopted_by is the init's pid, which is our parent, and no
zombie is left; under a bare PID 1 that never reaps, every grandchild stays a
zombie.
"""

import json
import os
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def cmdline(pid) -> list:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def zombies() -> list:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if state == "Z":
            found.append({"pid": int(entry), "ppid": int(ppid)})
    return found


def main() -> int:
    read_end, write_end = os.pipe()
    for _ in range(N):
        child = os.fork()
        if child == 0:
            parent = os.getpid()
            if os.fork() == 0:
                os.close(read_end)
                deadline = time.monotonic() + 5
                while os.getppid() == parent and time.monotonic() < deadline:
                    time.sleep(0.01)
                os.write(write_end, f"{os.getppid()}\n".encode())
                os._exit(0)
            os._exit(0)
        os.waitpid(child, 0)  # our own children: we reap them, they are not the test
    os.close(write_end)
    with os.fdopen(read_end) as f:
        adopted_by = sorted(int(line) for line in f)  # EOF: every grandchild has written and exited
    time.sleep(0.5)  # time for the adopter to reap the exited grandchildren
    print(
        json.dumps(
            {
                "pid": os.getpid(),
                "ppid": os.getppid(),
                "parent_cmdline": cmdline(os.getppid()),
                "pid1_cmdline": cmdline(1),
                "adopted_by": adopted_by,
                "zombies": zombies(),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
