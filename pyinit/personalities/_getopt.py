"""GNU getopt_long, as tini, dumb-init and catatonit parse their argv.

Their users' scripts depend on its corners: permutation (`tini echo -l` runs
tini's -l), `+` mode stopping at the first operand (dumb-init), bundling
(`-vc`), unambiguous long prefixes (`--single`), `--opt=value`. Written here
rather than with getopt/argparse, which differ in those corners and cost
start-up time. Messages follow glibc's wording, so greps for them keep working.
"""


class GetoptError(Exception):
    """A bad command line; the message is glibc's line, without the program name.

    `options` holds what was parsed before the error: getopt(3) callers act on
    each option as it comes, so `tini -h -x` prints help and exits 0.
    """

    options: list = []


def getopt(argv, shorts: str, longs: dict, permute: bool):
    """Parse argv (without argv[0]).

    shorts: "hvc" with ':' after options that take a value ("e:").
    longs: {"name": (takes_value, key)}; key is what the option is reported as.
    Returns ([(key, value or None), ...], operands). With permute, options after
    operands are still options (GNU default); without, the first operand stops
    parsing (getopt's "+" mode, or POSIXLY_CORRECT). "--" always stops it.
    """
    options, operands = [], []
    index = 0
    try:
        while index < len(argv):
            arg = argv[index]
            index += 1
            if arg == "--":
                operands.extend(argv[index:])
                break
            if arg.startswith("--"):
                index = _long(arg[2:], argv, index, longs, options)
            elif arg.startswith("-") and arg != "-":
                index = _short(arg[1:], argv, index, shorts, options)
            elif permute:
                operands.append(arg)
            else:
                operands.extend(argv[index - 1:])
                break
    except GetoptError as error:
        error.options = options
        raise
    return options, operands


def _short(cluster: str, argv, index: int, shorts: str, options: list) -> int:
    position = 0
    while position < len(cluster):
        letter = cluster[position]
        position += 1
        spec = shorts.find(letter)
        if spec < 0 or letter == ":":
            raise GetoptError(f"invalid option -- '{letter}'")
        if shorts[spec + 1:spec + 2] != ":":
            options.append((letter, None))
            continue
        if position < len(cluster):
            options.append((letter, cluster[position:]))
        elif index < len(argv):
            options.append((letter, argv[index]))
            index += 1
        else:
            raise GetoptError(f"option requires an argument -- '{letter}'")
        break
    return index


def _long(text: str, argv, index: int, longs: dict, options: list) -> int:
    name, has_equals, value = text.partition("=")
    if name in longs:
        match = name
    else:
        candidates = [full for full in longs if full.startswith(name)]
        if not candidates:
            raise GetoptError(f"unrecognized option '--{name}'")
        if len({longs[full] for full in candidates}) > 1:
            listed = " ".join(f"'--{full}'" for full in candidates)
            raise GetoptError(f"option '--{name}' is ambiguous; possibilities: {listed}")
        match = candidates[0]
    takes_value, key = longs[match]
    if not takes_value:
        if has_equals:
            raise GetoptError(f"option '--{match}' doesn't allow an argument")
        options.append((key, None))
        return index
    if has_equals:
        options.append((key, value))
    elif index < len(argv):
        options.append((key, argv[index]))
        index += 1
    else:
        raise GetoptError(f"option '--{match}' requires an argument")
    return index
