"""The container suite's engine: podman + runc, and images built from local material only.

Per session, in this order (each step is a fixture, each failure a skip that says
what failed, or a failure under PYINIT_REQUIRE_CONTAINERS=1):

1. podman is installed and answers;
2. a Debian bookworm base image exists, or is built: debootstrap from the
   machine's own apt mirror, then `podman import`. The rootfs tarball and the
   image are cached (PYINIT_CONTAINER_CACHE, default /var/cache/pyinit-test for
   root), so only the first run pays for debootstrap;
3. the engine settings this machine needs are found by trying them on that
   image, and written to a containers.conf of our own (CONTAINERS_CONF): the
   system's files are never edited;
4. the project's wheel is built, and the repository's own Dockerfiles are built
   on the base image with `--build-arg BASE=...`, `--pull=never` and
   `--network=none`: nothing comes from a container registry, and the builds
   use no network (only the wheel's build backend may come from the package
   index, when it is not installed).

Containers, pods and images made here carry a per-session prefix and are removed
afterwards.
"""

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs"
SUITE = "bookworm"
# python3 (not python3-minimal): ctypes and the full standard library. python3-pip:
# the Dockerfiles install the wheel with `python3 -m pip`, as on the python images.
# procps: ps for people debugging a failing scenario with `podman exec`.
BASE_PACKAGES = ("python3", "python3-pip", "procps")
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Bump when the way the base is made changes, so a stale cache is not reused.
BASE_RECIPE = 1
# Limits the runtime can always apply: podman's defaults (nproc=32768, nofile up to
# 1048576) exceed what runc may set on some hosts, and container start then fails.
LOW_ULIMITS = ("nofile=1024:1024", "nproc=4096:4096")
REQUIRE = os.environ.get("PYINIT_REQUIRE_CONTAINERS") == "1"
SESSION = f"pyinit-t{os.getpid()}-{uuid.uuid4().hex[:6]}"

_engine_notes: list = []


def unavailable(reason: str):
    """Skip (or fail, when the CI requires the engine) with the reason."""
    if REQUIRE:
        pytest.fail(f"container engine required (PYINIT_REQUIRE_CONTAINERS=1): {reason}", pytrace=False)
    pytest.skip(reason)


def tail(text: str, lines: int = 6) -> str:
    return " | ".join(line for line in (text or "").strip().splitlines()[-lines:])


def cache_dir() -> Path:
    configured = os.environ.get("PYINIT_CONTAINER_CACHE")
    if configured:
        path = Path(configured)
    elif os.geteuid() == 0:
        path = Path("/var/cache/pyinit-test")
    else:
        path = Path.home() / ".cache" / "pyinit-test"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- mirror


def _deb822_stanzas(text: str):
    stanza: dict = {}
    key = None
    for raw in text.splitlines() + [""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if stanza:
                yield stanza
            stanza, key = {}, None
        elif raw[0] in " \t" and key:
            stanza[key] += "\n" + raw.strip()
        elif ":" in raw:
            key, _, value = raw.partition(":")
            key = key.strip().lower()
            stanza[key] = value.strip()


def debian_mirror(suite: str = SUITE):
    """(URI, keyring or None) of the configured apt source that serves `suite` main.

    Read from the machine's own apt configuration, so the suite uses whatever
    mirror (or proxy-fronted snapshot) the machine is set up with.
    """
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in _deb822_stanzas(Path(path).read_text(errors="replace")):
            if stanza.get("enabled", "yes").lower() == "no":
                continue
            if (
                "deb" in stanza.get("types", "").split()
                and suite in stanza.get("suites", "").split()
                and "main" in stanza.get("components", "").split()
                and stanza.get("uris")
            ):
                keyring = stanza.get("signed-by", "")
                keyring = keyring if keyring.startswith("/") and "\n" not in keyring else None
                return stanza["uris"].split()[0], keyring
    lists = ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]
    for path in lists:
        if not os.path.exists(path):
            continue
        for line in Path(path).read_text(errors="replace").splitlines():
            line = line.split("#", 1)[0].strip()
            options = re.search(r"\[([^\]]*)\]", line)
            words = re.sub(r"\[[^\]]*\]", " ", line).split()
            if len(words) >= 4 and words[0] == "deb" and words[2] == suite and "main" in words[3:]:
                keyring = None
                if options:
                    found = re.search(r"signed-by=(\S+)", options.group(1))
                    keyring = found.group(1) if found else None
                return words[1], keyring
    return None, None


# --------------------------------------------------------------------------- podman


class Podman:
    """The podman CLI with our own containers.conf, bounded timeouts everywhere."""

    def __init__(self, conf: Path) -> None:
        self.conf = conf
        self.env = dict(os.environ, CONTAINERS_CONF=str(conf))

    def __call__(self, *args, timeout: float = 60, check: bool = True, input=None):
        cmd = ["podman", *map(str, args)]
        try:
            proc = subprocess.run(cmd, env=self.env, input=input, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"timed out after {timeout}s: {' '.join(cmd)}\n{e.stderr or ''}") from None
        if check and proc.returncode != 0:
            raise AssertionError(
                f"`{' '.join(cmd)}` exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def popen(self, *args, **kwargs):
        return subprocess.Popen(["podman", *map(str, args)], env=self.env, **kwargs)

    def write_conf(self, runtime, ulimits) -> None:
        lines = ["# Written by tests/container/conftest.py for this test session only."]
        if ulimits:
            lines += ["[containers]", f"default_ulimits = {json.dumps(list(ulimits))}"]  # TOML array
        if runtime:
            lines += ["[engine]", f'runtime = "{runtime}"']
        self.conf.write_text("\n".join(lines) + "\n")

    def image_exists(self, image: str) -> bool:
        return self("image", "exists", image, check=False, timeout=30).returncode == 0


@pytest.fixture(scope="session")
def podman_cli(tmp_path_factory) -> Podman:
    if shutil.which("podman") is None:
        unavailable("podman is not installed (apt-get install -y podman runc debootstrap)")
    podman = Podman(tmp_path_factory.mktemp("engine") / "containers.conf")
    podman.write_conf(None, None)
    try:
        info = podman("info", "--format", "{{.Host.CgroupsVersion}} {{.Store.GraphDriverName}}", timeout=60)
    except AssertionError as e:
        unavailable(f"`podman info` failed: {tail(str(e))}")
    _engine_notes.append(f"cgroups {info.stdout.split()[0]}, storage driver {info.stdout.split()[-1]}")
    return podman


# --------------------------------------------------------------------------- base image


@contextlib.contextmanager
def _locked(path: Path, timeout: float):
    """An exclusive lock across processes, so two sessions never debootstrap at once."""
    with open(path, "w") as f:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{path} stayed locked for {timeout}s") from None
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _run(cmd, timeout, what, **kwargs):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        unavailable(f"{what} did not finish within {timeout}s")
    except OSError as e:
        unavailable(f"{what} could not start: {e}")
    if proc.returncode != 0:
        unavailable(f"{what} exited {proc.returncode}: {tail(proc.stderr or proc.stdout)}")
    return proc


def build_base_image(podman: Podman) -> str:
    key = hashlib.sha256(repr((SUITE, BASE_PACKAGES, IMAGE_PATH, BASE_RECIPE)).encode()).hexdigest()[:12]
    image = f"localhost/pyinit-test-base:{SUITE}-{key}"
    cache = cache_dir()
    with _locked(cache / "build.lock", timeout=1800):
        if podman.image_exists(image):
            return image
        tarball = cache / f"rootfs-{SUITE}-{key}.tar"
        if not tarball.exists():
            if shutil.which("debootstrap") is None:
                unavailable("debootstrap is not installed (apt-get install -y debootstrap)")
            mirror, keyring = debian_mirror()
            if mirror is None:
                unavailable(f"no Debian '{SUITE}' main source in /etc/apt/sources.list(.d) to debootstrap from")
            rootfs = cache / f"rootfs-{SUITE}-{key}"
            shutil.rmtree(rootfs, ignore_errors=True)  # left by an interrupted run
            cmd = ["debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES)]
            if keyring and os.path.exists(keyring):
                cmd.append(f"--keyring={keyring}")
            cmd += [SUITE, str(rootfs), mirror]
            _run(cmd, timeout=1500, what=f"debootstrap of {SUITE} from {mirror}")
            # The downloaded .debs are a third of the rootfs and of no use inside.
            for deb in glob.glob(str(rootfs / "var/cache/apt/archives/*.deb")):
                os.unlink(deb)
            partial = tarball.with_suffix(".tar.partial")
            _run(
                ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."],
                timeout=600,
                what="tar of the debootstrap rootfs",
            )
            os.replace(partial, tarball)
            shutil.rmtree(rootfs, ignore_errors=True)
        try:
            podman(
                "import",
                "--change", f"ENV PATH={IMAGE_PATH}",
                "--change", 'CMD ["/bin/bash"]',
                "--message", f"debootstrap --variant=minbase {SUITE} + {','.join(BASE_PACKAGES)}",
                tarball, image,
                timeout=600,
            )  # fmt: skip
        except AssertionError as e:
            unavailable(f"podman import of the base rootfs failed: {tail(str(e))}")
    return image


@pytest.fixture(scope="session")
def base_image(podman_cli) -> str:
    started = time.monotonic()
    image = build_base_image(podman_cli)
    _engine_notes.append(f"base image {image} ready in {time.monotonic() - started:.1f}s")
    return image


# --------------------------------------------------------------------------- engine settings


@pytest.fixture(scope="session")
def podman(podman_cli, base_image) -> Podman:
    """podman with the settings this machine needs, found by trying them in order.

    Fewest settings first: a setting is kept only if the engine fails without it.
    The probe checks what every scenario relies on: the command runs as PID 1 of
    its own PID namespace.
    """
    runtimes = [r for r in ("crun", "runc") if shutil.which(r)]
    if not runtimes:
        unavailable("no OCI runtime (crun or runc) is installed")
    failures = []
    for ulimits in (None, LOW_ULIMITS):
        for runtime in runtimes:
            podman_cli.write_conf(runtime, ulimits)
            probe = podman_cli(
                "run", "--rm", "--pull=never", "--network=none", base_image,
                "python3", "-c", "import ctypes, os; print(os.getpid())",
                check=False, timeout=90,
            )  # fmt: skip
            setting = f"runtime={runtime}" + (f", default_ulimits={list(ulimits)}" if ulimits else "")
            if probe.returncode == 0 and probe.stdout.strip() == "1":
                _engine_notes.append(f"engine settings: {setting}")
                _engine_notes.extend(f"  without it: {f}" for f in failures)
                return podman_cli
            failures.append(f"[{setting}] exit {probe.returncode}: {tail(probe.stderr or probe.stdout, 2)}")
    unavailable("no engine setting could run a container: " + " ;; ".join(failures))


# --------------------------------------------------------------------------- wheel and images


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy of the tree so the shared checkout gets no build/."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "setup.py"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "pyinit", src / "pyinit", ignore=shutil.ignore_patterns("__pycache__"))
    if not (src / "README.md").exists():
        # pyproject.toml names README.md as the long description; the container
        # suite needs the package, not its description.
        (src / "README.md").write_text("pyinit\n")
    out = tmp_path_factory.mktemp("wheel")
    # Offline with the build backend already installed; otherwise pip fetches
    # setuptools and wheel from the package index into an isolated build env.
    errors = []
    for isolation in (["--no-build-isolation", "--no-index"], []):
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(out), str(src)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if proc.returncode == 0:
            break
        errors.append(f"pip wheel {' '.join(isolation)}: {tail(proc.stdout + proc.stderr, 4)}")
    assert proc.returncode == 0, "could not build the wheel:\n" + "\n".join(errors)
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="session")
def build_context(tmp_path_factory, wheel) -> Path:
    """A build context laid out like the repository root after `pip wheel --no-deps -w dist .`."""
    ctx = tmp_path_factory.mktemp("context")
    (ctx / "dist").mkdir()
    shutil.copy2(wheel, ctx / "dist" / wheel.name)
    shutil.copytree(REPO / "examples", ctx / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return ctx


class Images:
    """The repository's Dockerfiles, each built at most once per session on the base image."""

    def __init__(self, podman: Podman, base: str, context: Path) -> None:
        self.podman, self.base, self.context = podman, base, context
        self.built: dict = {}

    def build(self, dockerfile: str) -> str:
        if dockerfile not in self.built:
            tag = f"localhost/{SESSION}-{re.sub(r'[^a-z0-9]+', '-', dockerfile.lower()).strip('-')}"
            self.podman(
                "build", "--pull=never", "--network=none", "--layers=false",
                "--build-arg", f"BASE={self.base}",
                "-f", REPO / dockerfile, "-t", tag, self.context,
                timeout=300,
            )  # fmt: skip
            self.built[dockerfile] = tag
        return self.built[dockerfile]


@pytest.fixture(scope="session")
def images(podman, base_image, build_context):
    imgs = Images(podman, base_image, build_context)
    yield imgs
    for tag in imgs.built.values():
        podman("rmi", "-f", tag, check=False, timeout=60)


@pytest.fixture(scope="session")
def pyinit_image(images) -> str:
    """The top-level Dockerfile: ENTRYPOINT ["pyinit", "--"], CMD the zombie example."""
    return images.build("Dockerfile")


# --------------------------------------------------------------------------- per test


class Run:
    """One test's containers and pods: unique names, always removed afterwards."""

    def __init__(self, podman: Podman, test_name: str) -> None:
        self.podman = podman
        self.prefix = f"{SESSION}-{re.sub(r'[^a-z0-9]+', '-', test_name.lower())[:40].strip('-')}"
        self.containers: list = []
        self.kube_files: list = []
        self.count = 0

    def unique(self) -> str:
        self.count += 1
        return f"{self.prefix}-{self.count}"

    def name(self) -> str:
        """A container name, removed with `podman rm -f` after the test."""
        name = self.unique()
        self.containers.append(name)
        return name

    def logs(self, name: str) -> str:
        proc = self.podman("logs", name, check=False, timeout=30)
        return proc.stdout + proc.stderr

    def wait_for_log(self, name: str, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            logs = self.logs(name)
            if text in logs:
                return logs
            if time.monotonic() > deadline:
                state = self.podman("inspect", "--format", "{{.State.Status}}", name, check=False).stdout
                raise AssertionError(f"{text!r} not in logs of {name} after {timeout}s (state {state}):\n{logs}")
            time.sleep(0.1)

    def state(self, name: str) -> dict:
        out = self.podman("inspect", "--format", "{{json .State}}", name, timeout=30).stdout
        return json.loads(out)

    def wait_exit(self, name: str, timeout: float = 30) -> int:
        """The container's exit code, as `podman wait` reports it."""
        return int(self.podman("wait", name, timeout=timeout).stdout.strip().splitlines()[-1])

    def cleanup(self) -> None:
        for kube in self.kube_files:
            self.podman("kube", "down", kube, check=False, timeout=60)
        for name in self.containers:
            self.podman("rm", "-f", "-t", "0", name, check=False, timeout=60)


@pytest.fixture
def run(podman, request):
    r = Run(podman, request.node.name)
    yield r
    r.cleanup()


@pytest.fixture(scope="session")
def programs() -> str:
    """`-v` argument mounting the test programs read-only at /t."""
    return f"{PROGRAMS}:/t:ro"


def pytest_terminal_summary(terminalreporter):
    if _engine_notes:
        terminalreporter.write_sep("-", "container engine")
        for note in _engine_notes:
            terminalreporter.write_line(note)
