"""--user USER[:GROUP]: who the child runs as, resolved before anything starts.

Order of the drop, as setpriv(1), gosu and su-exec do it: supplementary groups,
then the gid, then the uid; after setuid the gid calls would be refused.
Numeric ids need no /etc/passwd entry (scratch and distroless images).
"""

import posix


class User:
    """A resolved --user: ids, supplementary groups and home, applied in the child."""

    __slots__ = ("uid", "gid", "groups", "home", "root_home", "spec")

    def __init__(self, uid: int, gid: int, groups: list, home, root_home, spec: str) -> None:
        self.uid, self.gid, self.groups = uid, gid, groups
        self.home, self.root_home, self.spec = home, root_home, spec

    def apply(self) -> None:
        """Drop to this user, in the forked child: any failure stops the exec."""
        posix.setgroups(self.groups)
        posix.setgid(self.gid)
        posix.setuid(self.uid)  # as root this sets real, effective and saved uid
        # Prove there is no way back before running anything as this user.
        if self.uid != 0:
            try:
                posix.setuid(0)
            except PermissionError:
                pass
            else:
                raise PermissionError(1, "privileges could be regained after setuid")


def resolve(spec: str) -> User:
    """Look up USER[:GROUP]; raise LookupError with a user-facing reason."""
    import grp
    import pwd

    user_part, _, group_part = spec.partition(":")
    entry = None
    if user_part.isascii() and user_part.isdigit():
        uid = int(user_part)
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            entry = None
    else:
        try:
            entry = pwd.getpwnam(user_part)
        except KeyError:
            raise LookupError(f"no such user: '{user_part}'") from None
        uid = entry.pw_uid
    if group_part:
        if group_part.isascii() and group_part.isdigit():
            gid = int(group_part)
        else:
            try:
                gid = grp.getgrnam(group_part).gr_gid
            except KeyError:
                raise LookupError(f"no such group: '{group_part}'") from None
    elif entry is not None:
        gid = entry.pw_gid
    else:
        # A bare numeric uid with no passwd entry: its own number as gid, never
        # root's group 0 (less than Docker's default of 0, on purpose).
        gid = uid
    if entry is not None and not group_part:
        groups = posix.getgrouplist(entry.pw_name, gid)  # initgroups(3) semantics
    else:
        groups = [gid] if group_part else []
    try:
        root_home = pwd.getpwuid(0).pw_dir.encode()
    except KeyError:
        root_home = b"/root"
    home = entry.pw_dir.encode() if entry is not None else None
    return User(uid, gid, groups, home, root_home, spec)
