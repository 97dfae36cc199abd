"""Landlock and seccomp as the process-level sandbox applies them, each tried in a forked child."""

import json
import os
import socket
import sys

import pytest

from grader.child import confine

needs_landlock = pytest.mark.skipif(confine.landlock_abi() < 1, reason="this kernel has no Landlock")


def in_child(fn) -> dict:
    """Run fn in a forked child (confinement is for life) and return what it reported."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = fn()
        except BaseException as e:
            out = {"error": repr(e)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def attempt(f) -> str:
    try:
        f()
        return "ok"
    except OSError as e:
        return f"denied {e.errno}"


@needs_landlock
def test_only_allowed_trees_are_readable_and_only_the_work_folder_writable(tmp_path):
    allowed, secret, work = tmp_path / "allowed", tmp_path / "secret", tmp_path / "work"
    for d in (allowed, secret, work):
        d.mkdir()
    (allowed / "a.txt").write_text("a")
    (secret / "answer.py").write_text("42")

    def child():
        confine.restrict_files([str(allowed), sys.prefix, "/usr", "/lib", "/lib64"], [str(work)])
        return {
            "allowed": attempt(lambda: open(allowed / "a.txt").read()),
            "secret": attempt(lambda: open(secret / "answer.py").read()),
            "write work": attempt(lambda: (work / "x").write_text("1")),
            "write allowed": attempt(lambda: (allowed / "x").write_text("1")),
            "list secret": attempt(lambda: os.listdir(secret)),
        }

    got = in_child(child)
    assert got == {
        "allowed": "ok",
        "secret": "denied 13",
        "write work": "ok",
        "write allowed": "denied 13",
        "list secret": "denied 13",
    }


@pytest.mark.skipif(confine.landlock_abi() < 6, reason="signal scoping needs Landlock ABI 6 (Linux 6.12)")
def test_a_confined_process_cannot_signal_the_judge(tmp_path):
    parent = os.getpid()

    def child():
        confine.restrict_files([sys.prefix], [str(tmp_path)])
        return {"kill judge": attempt(lambda: os.kill(parent, 0)), "itself": attempt(lambda: os.kill(os.getpid(), 0))}

    assert in_child(child) == {"kill judge": "denied 1", "itself": "ok"}


SOCKETS = {"tcp": "denied 13", "udp6": "denied 13", "netlink": "denied 13", "unix": "ok"}


def sockets() -> dict[str, str]:
    return {
        "tcp": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()),
        "udp6": attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()),
        "netlink": attempt(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW).close()),
        "unix": attempt(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()),
    }


def test_only_unix_sockets_can_be_opened():
    def child():
        confine.deny_sockets()
        return sockets()

    assert in_child(child) == SOCKETS


def test_a_learner_changes_no_file_metadata_and_makes_no_ipc_that_outlives_it(tmp_path):
    """Landlock does not rule a file's mode, owner, times or attributes, nor System V IPC: seccomp refuses them,
    and still refuses sockets (the filter's jumps cover both)."""
    import ctypes
    import fcntl

    victim = tmp_path / "victim"
    victim.write_text("x")
    before = os.stat(victim)
    libc = ctypes.CDLL(None, use_errno=True)

    def shm() -> None:
        if libc.shmget(0, 1 << 20, 0o1000 | 0o600) < 0:  # IPC_PRIVATE, IPC_CREAT
            raise OSError(ctypes.get_errno(), "shmget")

    def child():
        confine.deny_syscalls(confine.LEARNER_REFUSED)
        fd = os.open(victim, os.O_RDONLY)
        return {
            "chmod": attempt(lambda: os.chmod(victim, 0o4777)),
            "fchmod": attempt(lambda: os.fchmod(fd, 0)),
            "chown": attempt(lambda: os.chown(victim, 1234, 1234)),
            "utime": attempt(lambda: os.utime(victim, (0, 0))),
            "setxattr": attempt(lambda: os.setxattr(victim, "user.judge", b"1")),
            "setflags": attempt(lambda: fcntl.ioctl(fd, 0x40086602, b"\x20\0\0\0\0\0\0\0")),
            "shmget": attempt(shm),
            "read": attempt(lambda: os.read(fd, 1)),
            **sockets(),
        }

    denied = {k: "denied 1" for k in ("chmod", "fchmod", "chown", "utime", "setxattr", "setflags", "shmget")}
    assert in_child(child) == {**denied, "read": "ok", **SOCKETS}
    after = os.stat(victim)
    assert (after.st_mode, after.st_uid, after.st_mtime_ns) == (before.st_mode, before.st_uid, before.st_mtime_ns)


def test_tree_except_covers_everything_but_the_hidden_paths(tmp_path):
    for p in ("lib/site/numpy/core.py", "lib/site/reference/ans.py", "lib/site/judge.pth", "bin/python"):
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / p).write_text("")
    hidden = [str(tmp_path / "lib/site/reference"), str(tmp_path / "lib/site/judge.pth"), "/elsewhere"]
    got = confine.tree_except(str(tmp_path), hidden)
    assert sorted(got) == sorted(str(tmp_path / p) for p in ("bin", "lib/site/numpy"))
    assert confine.tree_except(str(tmp_path), [str(tmp_path)]) == []
    assert confine.tree_except(str(tmp_path / "bin"), hidden) == [str(tmp_path / "bin")]
