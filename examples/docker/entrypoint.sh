#!/bin/sh
# The usual entrypoint script: start a helper in the background, then exec the
# main process so it takes over this shell's pid.
#
# The worker is started detached (a subshell that exits at once), the way a
# daemonizing helper detaches itself: it is then re-parented to the init. Only
# an init that adopts orphans and waits for them at shutdown (pyinit as PID 1,
# or as a subreaper under a pod's pause process) gives it the time to flush.
set -eu

( python3 /usr/local/lib/pyinit-example/worker.py & )

exec "$@"
