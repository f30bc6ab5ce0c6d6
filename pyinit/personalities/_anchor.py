"""What the tini, dumb-init and catatonit personalities share.

C's number parsing (their users' scripts rely on what strtol, atoi and sscanf
accept), pyinit's shared long options under keys that cannot clash with an
anchor's own letters, the getopt loop that acts on options in command-line
order, and the licence text that `tini -l` and `catatonit -L` print.
"""

from .. import __version__
from . import pyinit as _pyinit
from ._getopt import GetoptError, getopt

_C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def _c_integer(text: str, start: int = 0):
    """strtol(3) base 10 from `start`: (value, end), or (None, start) when no digits."""
    index = start
    while index < len(text) and text[index] in _C_SPACE:
        index += 1
    sign = 1
    if index < len(text) and text[index] in "+-":
        sign = -1 if text[index] == "-" else 1
        index += 1
    digits = index
    while index < len(text) and text[index] in "0123456789":
        index += 1
    if index == digits:
        return None, start  # no conversion: endptr is the string itself
    value = sign * int(text[digits:index])
    return min(max(value, _LONG_MIN), _LONG_MAX), index  # strtol clamps (ERANGE)


def _to_int(value: int) -> int:
    """A long stored into a C int: the low 32 bits, signed (what atoi and %d do)."""
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def strtol_whole(text: str):
    """The value if strtol consumes all of `text` (tini's -e check), else None.

    As in C, an empty string converts to 0 with nothing left over.
    """
    value, end = _c_integer(text)
    if value is None:
        return 0 if text == "" else None
    return value if end == len(text) else None


def atoi(text: str) -> int:
    """atoi(3): leading digits with optional space and sign; 0 when there are none."""
    value, _ = _c_integer(text)
    return 0 if value is None else _to_int(value)


def scan_pair(text: str):
    """sscanf(text, "%d:%d") == 2: (first, second), else None; trailing text is ignored."""
    first, end = _c_integer(text)
    if first is None or text[end:end + 1] != ":":
        return None
    second, _ = _c_integer(text, end + 1)
    if second is None:
        return None
    return _to_int(first), _to_int(second)


def with_shared_longs(own: dict) -> dict:
    """The anchor's long options plus pyinit's shared ones the anchor lacks.

    Shared options are keyed "--name" so they never collide with an anchor's
    letters. A prefix that the anchor's own options resolve on their own keeps
    resolving to them (`dumb-init --re 15:10` is still --rewrite, not an
    ambiguity with --remap-exit): the anchor's command lines mean what they meant.
    """
    longs = {name: (takes, "--" + name) for name, (takes, _) in _pyinit.SHARED_LONGS.items() if name not in own}
    for name, spec in own.items():
        for length in range(1, len(name)):
            prefix = name[:length]
            own_matches = {key for full, (_, key) in own.items() if full.startswith(prefix)}
            if len(own_matches) == 1 and any(full.startswith(prefix) for full in longs):
                longs[prefix] = spec
    longs.update(own)
    return longs


def apply_shared(key: str, value, fields: dict) -> bool:
    """Apply a shared long option; False if `key` is not one. Bad values raise ValueError."""
    if not key.startswith("--"):
        return False
    _pyinit.apply(_pyinit.SHARED_LONGS[key[2:]][1], value, fields, key)
    return True


def environment_extras(env, fields: dict) -> None:
    """PYINIT_GRACE and the other shared variables, where the command line set nothing."""
    from_env: dict = {}
    _pyinit.extras_from_environment(env, from_env)
    for name, value in from_env.items():
        fields.setdefault(name, value)


def parse_in_order(argv, shorts: str, longs: dict, permute: bool, handle, on_error):
    """getopt, handing each option to handle(key, value) in command-line order.

    As a C getopt loop does: an option before a bad one still acts, so
    `tini -h -x` shows help. on_error(message) returns the exception to raise.
    Returns the operands.
    """
    try:
        options, operands = getopt(argv, shorts, longs, permute)
    except GetoptError as error:
        for key, value in error.options:
            handle(key, value)
        raise on_error(str(error)) from None
    for key, value in options:
        handle(key, value)
    return operands


def version_suffix() -> str:
    return f" - pyinit {__version__}"


LICENCE = """pyinit is distributed under the MIT License.

Copyright (c) the pyinit authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""
