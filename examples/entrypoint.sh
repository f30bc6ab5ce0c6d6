#!/bin/sh
# An entrypoint script as many images have one: start a background worker,
# then exec the main process, which takes over this shell's pid.
#
#   ENTRYPOINT ["pyinit", "--grace", "5", "--", "/entrypoint.sh"]
#   CMD ["python3", "-m", "http.server"]
#
# The worker keeps records in memory and writes them out when it gets SIGTERM;
# the write takes WORKER_FLUSH_SECONDS (default 1), as an upload or a slow disk
# would. On `docker stop`, pyinit forwards SIGTERM to the child's process group,
# which the worker is in (a shell without job control starts background jobs in
# its own group); the main process exits, and pyinit then gives the rest up to
# --grace seconds before SIGKILL: the worker finishes its flush. tini and
# catatonit signal only the main process and exit as soon as it does; the kernel
# then kills everything left in the namespace (pid_namespaces(7)), mid-flush.
set -eu

out=${WORKER_OUT:-/tmp}
flush_seconds=${WORKER_FLUSH_SECONDS:-1}

worker() {
  records=0
  stopping=
  trap 'stopping=1' TERM
  echo "worker: ready"
  while [ -z "$stopping" ]; do
    records=$((records + 1))
    # `wait` returns as soon as a trapped signal arrives; a plain `sleep` would
    # delay the trap until it ends (sh(1), "Signals").
    sleep 0.1 &
    wait $! || true
  done
  # The init's shutdown of the rest sends a second SIGTERM: it must not cut the
  # flush short. An ignored signal stays ignored in the children too.
  trap '' TERM
  sleep "$flush_seconds"
  echo "$records records" > "$out/worker-flush.txt.tmp"
  mv "$out/worker-flush.txt.tmp" "$out/worker-flush.txt"  # a reader never sees half a file
  echo "worker: flushed $records records to $out/worker-flush.txt"
}

worker &

exec "$@"
