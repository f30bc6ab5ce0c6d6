"""Write pyinit as one file: `python -m pyinit.bundle OUT [--python PATH | --pyc]`.

The file is a zipapp (PEP 441): a `#!` line followed by a zip archive of the
runtime modules only (no pyinit.testing, no audit, no bundle), so an image
needs nothing but python3 to run it, as tini ships one static binary:

    COPY pyinit /usr/local/bin/pyinit
    ENTRYPOINT ["/usr/local/bin/pyinit", "--"]

The `#!` line is `#!/usr/bin/env python3` by default. With --python PATH it
is `#!PATH -IS`: isolated mode and no site module, so nothing installed in the
image can shadow the bundled modules and start-up skips site-packages
(python(1)). The kernel passes at most one argument from a `#!` line
(execve(2)), hence the flags in one word.

Like the console script, the file picks its personality from the name it is
run as: a copy or symlink called tini, dumb-init or catatonit behaves as one.
Each module is stored uncompressed (zipimport then needs no zlib) next to an
unchecked-hash .pyc from the building Python (PEP 552); another Python
version ignores the .pyc and compiles the source instead.

With --pyc the file is bytecode instead, for the building Python only (its
magic number), run as `python3 -I -S OUT -- COMMAND`: every runtime module is
stored in it, marshalled, and served from memory. That skips what a zip costs
(CPython runs a zipapp through runpy, about 4.5 ms) and what a directory costs
(a finder, stats and a file read per module): it is the quickest way pyinit
starts, within tini's start-up cost as PID 1 (see the README's Performance).
"""

from __future__ import annotations

import argparse
import importlib.util
import marshal
import os
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# Toolkit modules that need pytest, psutil or hypothesis, or only build things.
EXCLUDED = {"testing", "audit.py", "bundle.py"}
# 1980-01-01, the earliest zip time: the same sources give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# binfmt_script reads at most this many bytes of the #! line (BINPRM_BUF_SIZE - 1).
_SHEBANG_MAX = 255

MAIN = '''\
"""pyinit, single-file build: the same as the pyinit console script."""
import sys

from pyinit.cli import main

sys.exit(main())
'''

# `pyinit audit` needs the toolkit, which is left out; say so in one line.
AUDIT_STUB = '''\
"""Placeholder: pyinit audit is not part of the single-file build."""
import sys


def main(argv) -> int:
    sys.stderr.write("pyinit audit: not in the single-file build; use the installed package: "
                     "pip install 'pyinit-pid1[testing]'\\n")
    return 2
'''


# What `pyinit COMMAND` imports before the child starts, in dependency order. The
# --pyc file makes these modules itself, which is quicker than the import system
# (about 0.1 ms of start-up); every other module its finder serves when imported.
START_PATH = ("pyinit", "pyinit.config", "pyinit.signals", "pyinit.log", "pyinit.cli",
              "pyinit.spawn", "pyinit.supervisor")

# The --pyc file's own code. pyinit.bundle fills in _MODULES; Python runs the rest.
PYC_MAIN = '''\
"""pyinit, one bytecode file for one Python version: python3 -I -S FILE -- COMMAND."""
import gc
import sys
from marshal import loads

gc.disable()  # as pyinit.cli.main does, from here: start-up makes no garbage worth collecting

_MODULES = {}  # module name: (is a package, its marshalled code)
_START_PATH = ()  # pyinit.bundle.START_PATH


class _Finder:
    """The import system's finder and loader for the modules in this file."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in _MODULES:
            return None
        spec_type = sys.modules["_frozen_importlib"].ModuleSpec  # no importlib import needed
        return spec_type(name, cls, origin=__file__, is_package=_MODULES[name][0])

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        module.__file__ = __file__
        exec(loads(_MODULES[module.__name__][1]), module.__dict__)


def _preload(name):
    module = type(sys)(name)
    module.__loader__ = _Finder
    # __spec__ as the import system would set it: relative imports resolve through it
    # (__package__ alone is deprecated for that since Python 3.13).
    module.__spec__ = _Finder.find_spec(name)
    module.__package__ = module.__spec__.parent
    if _MODULES[name][0]:
        module.__path__ = []
    sys.modules[name] = module
    try:
        _Finder.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


sys.meta_path.insert(0, _Finder)
for _name in _START_PATH:
    if _name not in sys.modules:
        _preload(_name)
from pyinit.cli import main  # noqa: E402

sys.exit(main())
'''


def runtime_modules() -> list[tuple[str, Path]]:
    """(archive name, source path) for every runtime module, sorted."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in EXCLUDED or "__pycache__" in relative.parts:
            continue
        found.append((f"pyinit/{relative.as_posix()}", path))
    return found


def shebang(python: str | None) -> bytes:
    line = "#!/usr/bin/env python3" if python is None else f"#!{python} -IS"
    if python is not None and (not python.startswith("/") or any(c.isspace() for c in python)):
        raise ValueError(f"--python must be an absolute path without spaces: {python!r}")
    if len(line) > _SHEBANG_MAX:
        raise ValueError(f"#! line longer than {_SHEBANG_MAX} bytes: {line!r}")
    return line.encode() + b"\n"


def _pyc(source: str, name: str, scratch: Path) -> bytes:
    src = scratch / "module.py"
    out = scratch / "module.pyc"
    src.write_text(source)
    py_compile.compile(str(src), cfile=str(out), dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return out.read_bytes()


def build(out: str | os.PathLike, python: str | None = None) -> Path:
    """Write the single-file build to `out` (mode 0755) and return its path."""
    out = Path(out)
    members = [(name, path.read_text()) for name, path in runtime_modules()]
    members.append(("pyinit/audit.py", AUDIT_STUB))
    members.append(("__main__.py", MAIN))
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory() as scratch:
        with open(tmp, "wb") as f:
            f.write(shebang(python))
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as archive:
                for name, source in members:
                    for member, data in ((name, source.encode()), (name + "c", _pyc(source, name, Path(scratch)))):
                        info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
                        info.external_attr = 0o644 << 16
                        archive.writestr(info, data)
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)  # never a half-written file at OUT
    return out


def build_pyc(out: str | os.PathLike) -> Path:
    """Write the bytecode single file (this Python's version only) to `out`; return its path."""
    out = Path(out)
    modules = {}
    for name, path in runtime_modules() + [("pyinit/audit.py", None)]:
        source = AUDIT_STUB if path is None else path.read_text()
        dotted = name[:-len(".py")].replace("/", ".")
        is_package = dotted.endswith(".__init__")
        if is_package:
            dotted = dotted[:-len(".__init__")]
        # optimize=2 drops docstrings (the runtime reads none) and asserts (it has none):
        # less to unmarshal at every start.
        code = compile(source, name, "exec", dont_inherit=True, optimize=2)
        modules[dotted] = (is_package, marshal.dumps(code))
    source = PYC_MAIN.replace("_MODULES = {}", f"_MODULES = {modules!r}", 1).replace(
        "_START_PATH = ()", f"_START_PATH = {START_PATH!r}", 1)
    code = compile(source, "pyinit-bundle", "exec", dont_inherit=True, optimize=2)
    body = marshal.dumps(code)
    # PEP 552 header: unchecked hash-based (flags 0b01); python runs the file by its magic number.
    header = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little") + importlib.util.source_hash(body)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(header + body)
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyinit.bundle", description=__doc__.splitlines()[0])
    parser.add_argument("out", help="file to write (made executable, but for --pyc)")
    parser.add_argument("--python", metavar="PATH",
                        help="interpreter for the #! line, run with -IS (default: /usr/bin/env python3)")
    parser.add_argument("--pyc", action="store_true",
                        help="write bytecode for this Python only, run as: python3 -I -S OUT -- COMMAND")
    options = parser.parse_args(argv)
    if options.pyc and options.python:
        parser.error("--pyc files have no #! line: run them with the Python that built them")
    try:
        path = build_pyc(options.out) if options.pyc else build(options.out, options.python)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"pyinit.bundle: {error}\n")
        return 1
    sys.stdout.write(f"wrote {path} ({path.stat().st_size} bytes)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
