"""Confinement a process applies to itself, without namespaces: Landlock for files and signals, seccomp for sockets.

The process-level sandbox uses these where bubblewrap cannot run (Gradescope's containers): both work
unprivileged, inside containers, and last for the process and everything it starts. Standard library
only, and nothing of the judge: the sandboxed child imports this file on its own.

* Landlock (Linux 5.13+) allows reading only the listed trees and files and writing only the listed
  folders; from ABI 6 (Linux 6.12) it also stops signals to processes outside the domain, so a learner
  cannot kill the judge that runs as the same user; from ABI 4 it denies TCP bind and connect.
* seccomp refuses every socket but AF_UNIX (no UDP, raw or netlink sockets either) and io_uring, which
  could open sockets behind seccomp's back; for learners also what Landlock does not rule: changing a file's
  mode, owner, times and attributes, and System V IPC and message queues, which outlive the process.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct

LIBC = ctypes.CDLL(None, use_errno=True)
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446  # the same on every arch
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

# Landlock's file-system rights, by the ABI that introduced them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
MAKE_AND_REMOVE = sum(1 << b for b in range(4, 13))  # remove dir/file, make char/dir/reg/sock/fifo/block/sym
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the only ones a rule on a file may hold
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where it has none (or a seccomp policy forbids asking)."""
    abi = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(abi, 0)


def _fs_rights(abi: int) -> int:
    rights = EXECUTE | WRITE_FILE | READ_FILE | READ_DIR | MAKE_AND_REMOVE
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def restrict_files(read: list[str], write: list[str]) -> int:
    """Allow only reading (and executing) `read` and reading and writing `write`; return the ABI used.

    Paths that do not exist are skipped. Raises OSError where the kernel has no Landlock: the caller
    decides whether to go on without it.
    """
    abi = landlock_abi()
    if abi < 1:
        raise OSError(ctypes.get_errno() or 38, "this kernel has no Landlock")
    handled = _fs_rights(abi)
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("<QQQ", handled, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    reading = EXECUTE | READ_FILE | READ_DIR
    _restrict_self(attr, [(path, reading) for path in read] + [(path, handled) for path in write])
    return abi


def hide_listing(folder: str) -> None:
    """Keep the entries of `folder` from being listed, while they still open by exact name: a ruleset that
    handles only listing, allowed everywhere but there (it stacks on any other). Raises OSError where the
    kernel has no Landlock. Called before other confinement: it lists the folders on the way to `folder`."""
    elsewhere = [p for p in tree_except("/", [folder]) if os.path.isdir(p)]
    if landlock_abi() < 1:
        raise OSError(38, "this kernel has no Landlock")
    _restrict_self(struct.pack("<Q", READ_DIR), [(path, READ_DIR) for path in elsewhere])


def _restrict_self(attr: bytes, rules: list[tuple[str, int]]) -> None:
    """Make a ruleset that handles what `attr` says, allow each (path, rights), and apply it to this process."""
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = LIBC.syscall(SYS_LANDLOCK_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path, rights in rules:
            _allow(ruleset, path, rights)
        if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "could not set no_new_privs")
        if LIBC.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)):
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # nothing there to allow
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, fd), 12)  # packed path_beneath_attr
        if LIBC.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, 1, rule, ctypes.c_uint32(0)):  # LANDLOCK_RULE_PATH_BENEATH
            raise OSError(ctypes.get_errno(), f"landlock_add_rule {path} failed")
    finally:
        os.close(fd)


def tree_except(root: str, hidden: list[str]) -> list[str]:
    """Paths that together cover `root` but none of `hidden` (Landlock can only allow, never carve out)."""
    root = os.path.realpath(root)
    inside = [os.path.realpath(h) for h in hidden]
    inside = [h for h in inside if h == root or h.startswith(root.rstrip(os.sep) + os.sep)]  # "/" too
    if not inside:
        return [root]
    if root in inside:
        return []
    out = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    for name in names:
        out += tree_except(os.path.join(root, name), inside)
    return out


# ---------------------------------------------------------------- seccomp

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# System call numbers by architecture (aarch64 has no chmod, chown, lchown, utime, utimes nor futimesat).
SYSCALLS = {
    "x86_64": {
        "socket": 41, "io_uring_setup": 425, "ioctl": 16,
        "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452,
        "chown": 92, "fchown": 93, "lchown": 94, "fchownat": 260,
        "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
        "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "setxattrat": 463,
        "removexattr": 197, "lremovexattr": 198, "fremovexattr": 199, "removexattrat": 466,
        "shmget": 29, "semget": 64, "msgget": 68, "mq_open": 240,
    },
    "aarch64": {
        "socket": 198, "io_uring_setup": 425, "ioctl": 29,
        "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55, "fchownat": 54, "utimensat": 88,
        "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "setxattrat": 463,
        "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16, "removexattrat": 466,
        "shmget": 194, "semget": 190, "msgget": 186, "mq_open": 180,
    },
}  # fmt: skip
# What a learner's process is refused besides sockets. Landlock rules opening files, not changing what they
# are: as the file's owner, a process changes its mode, owner, times and attributes without opening it. System V
# IPC objects and POSIX message queues outlive the process that made them, outside its memory limit.
LEARNER_REFUSED = (
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "utime", "utimes", "futimesat", "utimensat",
    "setxattr", "lsetxattr", "fsetxattr", "setxattrat", "removexattr", "lremovexattr", "fremovexattr", "removexattrat",
    "shmget", "semget", "msgget", "mq_open",
)  # fmt: skip
# ioctl commands that change a file's flags (append-only, no-atime...) and project attributes: owners may.
FILE_FLAG_IOCTLS = (0x40086602, 0x401C5820)  # FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR
AF_UNIX = 1
BPF_LD_W_ABS, BPF_JEQ, BPF_JGE, BPF_RET = 0x20, 0x15, 0x35, 0x06
RET_ALLOW, RET_EACCES, RET_EPERM = 0x7FFF0000, 0x00050000 | 13, 0x00050000 | 1


def deny_sockets() -> None:
    """Refuse (EACCES) every socket but AF_UNIX, and io_uring. Raises OSError on an unknown architecture."""
    deny_syscalls(())


def deny_syscalls(refused: tuple[str, ...], sockets: bool = True) -> None:
    """Refuse (EPERM) each system call in `refused` and, when it holds any, the ioctls that change a file's flags;
    and io_uring, and with `sockets` (EACCES) every socket but AF_UNIX. Raises OSError on an unknown architecture."""
    arch = platform.machine()
    if arch not in AUDIT_ARCH:
        raise OSError(95, f"no seccomp filter for the {arch} architecture")
    nr = SYSCALLS[arch]
    numbers = [nr[name] for name in refused if name in nr]

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("<HBBI", code, jt, jf, k)

    program = [
        op(BPF_LD_W_ABS, 4),  # seccomp_data.arch
        op(BPF_JEQ, AUDIT_ARCH[arch], 1, 0),  # our arch: go on; another (x32, compat): refuse
        op(BPF_RET, RET_EACCES),
        op(BPF_LD_W_ABS, 0),  # seccomp_data.nr
        op(BPF_JGE, 0x40000000, 0, 1),  # x32 syscall numbers: refuse
        op(BPF_RET, RET_EACCES),
        op(BPF_JEQ, nr["io_uring_setup"], 0, 1),
        op(BPF_RET, RET_EACCES),
    ]
    for number in numbers:
        program += [op(BPF_JEQ, number, 0, 1), op(BPF_RET, RET_EPERM)]
    if numbers:  # ioctl(fd, cmd): args[1]'s low half is the command
        program += [op(BPF_JEQ, nr["ioctl"], 0, 2 + 2 * len(FILE_FLAG_IOCTLS))]  # else: past the ioctl block
        program += [op(BPF_LD_W_ABS, 24)]
        for cmd in FILE_FLAG_IOCTLS:
            program += [op(BPF_JEQ, cmd, 0, 1), op(BPF_RET, RET_EPERM)]
        program += [op(BPF_RET, RET_ALLOW)]
    if not sockets:
        program += [op(BPF_RET, RET_ALLOW)]
    program += [
        op(BPF_JEQ, nr["socket"], 0, 3),  # not socket(): allow
        op(BPF_LD_W_ABS, 16),  # args[0], the family (low half)
        op(BPF_JEQ, AF_UNIX, 1, 0),
        op(BPF_RET, RET_EACCES),
        op(BPF_RET, RET_ALLOW),
    ]
    filters = ctypes.create_string_buffer(b"".join(program))
    fprog = struct.pack("<HxxxxxxQ", len(program), ctypes.addressof(filters))
    prog = ctypes.create_string_buffer(fprog, len(fprog))
    if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
        raise OSError(ctypes.get_errno(), "could not set no_new_privs")
    if LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0):
        raise OSError(ctypes.get_errno(), "could not install the seccomp filter")
