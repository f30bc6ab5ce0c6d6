"""The repository's pod manifest under `podman kube play`: pyinit as a subreaper under a pause process.

examples/k8s/pod.yaml is played as a user would play it, with three things
replaced at test time: the image (the local build of examples/docker/Dockerfile.slim),
the hostPath (a temporary directory) and the pod's name (unique per test).

Deletion is done in the kubelet's order: the app containers get SIGTERM and
terminationGracePeriodSeconds, then the sandbox goes. `podman kube down` alone
cannot be used for that on podman 4.3: it SIGKILLs at once (podman #22397,
fixed by #22398 in podman 5.1), and, as `podman pod stop` does here, it stops
the pause process alongside the app; with a shared PID namespace the pause
process is PID 1, and its exit SIGKILLs everything in the namespace (measured:
pyinit forwarded SIGTERM, then died with 137 before the worker's flush).
"""

import json
import os
import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.container

MANIFEST = Path(__file__).resolve().parents[2] / "examples" / "k8s" / "pod.yaml"

# Run inside the app container: the shared PID namespace's process table as JSON.
PROCESS_TABLE = r"""
import json, os
rows = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        continue
    state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
    rows.append({"pid": int(pid), "ppid": int(ppid), "state": state,
                 "argv": [a.decode() for a in argv if a]})
print(json.dumps(rows))
"""


def replace_once(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == 1, f"{MANIFEST.name}: expected one match of {pattern!r}, found {count}"
    return new


def manifest_value(text: str, key: str) -> str:
    found = re.search(rf"^\s*{key}:\s*(.+?)\s*$", text, flags=re.MULTILINE)
    assert found, f"{MANIFEST.name} has no {key}"
    return found.group(1)


def play(podman, run, tmp_path, image, command=None):
    """Play the manifest with the test's image, volume and name; return (container, grace, pyinit argv)."""
    text = MANIFEST.read_text()
    pod = run.unique()  # removed with the manifest's `kube down` after the test
    text = replace_once(text, r"^(  name:) pyinit-example$", rf"\1 {pod}")
    text = replace_once(text, r"^(\s+image:) .*$", rf"\1 {image}")
    text = replace_once(text, r"^(\s+path:) /var/lib/pyinit-example$", rf"\1 {tmp_path / 'data'}")
    if command is not None:
        text = replace_once(text, r"^(\s+command:) .*$", rf"\1 {json.dumps(command)}")
    (tmp_path / "data").mkdir()
    os.chown(tmp_path / "data", 10001, 10001)  # the image's user "app"
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(text)
    run.kube_files.append(manifest)
    podman("kube", "play", "--network", "none", manifest, timeout=120)
    container = f"{pod}-app"
    run.containers.append(container)
    grace = int(manifest_value(text, "terminationGracePeriodSeconds"))
    argv = json.loads(manifest_value(text, "command"))  # a YAML flow sequence of strings is JSON
    return manifest, container, grace, argv


def process_table(podman, container) -> list:
    return json.loads(podman("exec", container, "python3", "-c", PROCESS_TABLE).stdout)


def delete_like_the_kubelet(podman, manifest, container, grace) -> float:
    started = time.monotonic()
    podman("stop", "-t", grace, container, timeout=grace + 30)
    podman("kube", "down", manifest, timeout=60)
    return time.monotonic() - started


def test_kube_pod_pyinit_subreaper_adopts_worker_and_pod_ends_in_grace_with_flush(podman, images, run, tmp_path):
    image = images.build("examples/docker/Dockerfile.slim")
    manifest, container, grace, argv = play(podman, run, tmp_path, image)
    pyinit_grace = float(argv[argv.index("--grace") + 1])
    assert pyinit_grace < grace, "pyinit's --grace must end before the kubelet's SIGKILL"
    run.wait_for_log(container, "worker")

    procs = process_table(podman, container)
    by_pid = {p["pid"]: p for p in procs}
    assert by_pid[1]["argv"] == ["/catatonit", "-P"], "the pod's pause process is not PID 1"
    (pyinit,) = [p for p in procs if any(os.path.basename(a) == "pyinit" for a in p["argv"][:2])]
    assert pyinit["pid"] != 1
    (worker,) = [p for p in procs if any(a.endswith("/worker.py") for a in p["argv"])]
    # Detached by entrypoint.sh, the worker was re-parented to pyinit, not to
    # the pause process: pyinit is a child subreaper.
    assert worker["ppid"] == pyinit["pid"], procs
    assert [p for p in procs if p["state"] == "Z"] == []

    elapsed = delete_like_the_kubelet(podman, manifest, container, grace)
    flushed = tmp_path / "data" / "worker-flush.txt"
    assert flushed.exists(), "the worker's flush was lost"
    assert flushed.stat().st_uid == 10001
    assert len(flushed.read_text().splitlines()) >= 1  # what it had in memory (count depends on load)
    # The flush takes 1 s. Ending well before pyinit's own grace shows pyinit
    # reaped the adopted worker as it exited, instead of waiting its grace out.
    assert elapsed < pyinit_grace, f"pod deletion took {elapsed:.1f}s"


def test_kube_pod_without_pyinit_loses_the_workers_flush(podman, images, run, tmp_path):
    # The control: the same pod with pyinit taken out of the command. The
    # worker is adopted by the pause process, nobody waits for it, and the
    # container's teardown kills it mid-flush.
    image = images.build("examples/docker/Dockerfile.slim")
    manifest, container, grace, _ = play(podman, run, tmp_path, image, command=["/usr/local/bin/entrypoint.sh"])
    run.wait_for_log(container, "worker")
    (worker,) = [p for p in process_table(podman, container) if any(a.endswith("/worker.py") for a in p["argv"])]
    assert worker["ppid"] == 1
    delete_like_the_kubelet(podman, manifest, container, grace)
    assert not (tmp_path / "data" / "worker-flush.txt").exists()
