"""The child side of sandboxed runs: the zygote, and the keeper it forks for each learner's process.

Run as a script, ``python -I worker.py CONFIG``, from a read-only copy or mount of the child package
(grader/child) and nothing else; it imports nothing of the judge, whose package is not visible in the
sandbox.

* the zygote (`main`): trusted, it pre-imports the libraries (numpy, jax, flax) once, then
  waits for requests on its control socket and forks one keeper per request. It never runs
  learner code and never sees a job: it only forks.
* the keeper (`keeper`), forked from it: trusted, it puts the learner's process in fresh
  namespaces where the level allows (PID, mount, network, IPC, UTS), waits for it, kills it
  when the judge says so or goes away, and reports its exit status and peak memory.
* the learner's process (`learner`), forked from the keeper: mounts its own /proc, /tmp and
  /dev/shm, covers the child's code, drops to its own uid without capabilities, sets its
  rlimits, closes every descriptor but its own, then runs `runner.run_job`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import resource
import select
import signal
import socket
import sys

if __package__:  # grader.child.worker, imported by the judge's tests
    from grader.child import compile_hook
    from grader.child import confine
    from grader.child import protocol
    from grader.child import runner
    from grader.child import watch
else:  # run as a script in the sandbox: its siblings are plain modules beside it, loaded once here
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import compile_hook  # type: ignore[import-not-found,no-redef]
    import confine  # type: ignore[import-not-found,no-redef]
    import protocol  # type: ignore[import-not-found,no-redef]
    import runner  # type: ignore[import-not-found,no-redef]
    import watch  # type: ignore[import-not-found,no-redef]

    del sys.path[0]  # a learner's own modules may share the names
    for name in ("compile_hook", "confine", "forever", "protocol", "runner", "traced", "watch"):
        del sys.modules[name]

LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = (
    0x20000,
    0x4000000,
    0x8000000,
    0x20000000,
    0x40000000,
)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 0x4000, 0x40000
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
PR_SET_KEEPCAPS, CAP_SETUID = 8, 7
CHANNEL_FD = 3  # where the learner's process finds its channel
COMPILE_FD = compile_hook.FD  # and its connection to the compile service, when the judge runs one


def main() -> None:
    """The zygote: pre-import once, then fork a keeper for every request, until the judge hangs up."""
    config = protocol.ZygoteConfig.from_argv(sys.argv[1])
    control = socket.socket(fileno=config.control_fd)
    import site

    for d in config.site_dirs:
        if d not in sys.path:  # those already there had their .pth files read at start-up
            site.addsitedir(d)
    # The judge's checkout leaves sys.path, but not the runtime's own folders inside it (a venv in the checkout).
    keep, hidden = tuple(config.site_dirs), tuple(config.hidden_paths)
    sys.path[:] = [p for p in sys.path if p.startswith(keep) or not (hidden and p.startswith(hidden))]
    # An editable install of the judge finds its packages through a meta-path hook, not sys.path.
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
    try:
        import numpy  # noqa: F401

        for name in config.preimport:
            try:
                __import__(name)
            except ImportError:
                pass  # not installed here: a learner importing it gets the same error as without the judge
    except BaseException as e:  # not the learner's fault: no learner code is loaded here
        failed = protocol.Frame(protocol.Kind.INTERNAL, fault=protocol.Fault(protocol.Why.CANNOT_IMPORT, text=repr(e)))
        control.send(protocol.encode(failed))
        os._exit(70)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    control.send(protocol.encode(protocol.Frame(protocol.Kind.READY)))
    for message, fds in protocol.requests(control, 65536, 16):
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                keeper(protocol.Spawn.from_bytes(message), fds)
            finally:
                os._exit(70)
        for fd in fds:  # never left open here, where the next keeper would inherit them
            os.close(fd)
        control.send(protocol.FORKED)
    os._exit(0)  # the judge is gone


def report(status: int, line: protocol.KeeperReport) -> None:
    os.write(status, line.to_line())


def keeper(spec: protocol.Spawn, fds: list[int]) -> None:
    """Trusted parent of one learner's process: isolate it, wait for it, kill it on demand, report.

    Where no cgroup bounds the sandbox (spec.watch), it also sums the memory, CPU time and tasks of every process
    the learner starts, every 0.1 s, and kills the sandbox when one goes over its limit."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    stdin, stdout, stderr, channel, status, kill = fds[:6]
    joins = fds[6 : 6 + spec.joins]  # cgroup.procs files, written by the learner's process
    service = fds[6 + spec.joins :]  # the compile service's connection, when the judge runs one
    if spec.isolate and LIBC.unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS):
        report(status, protocol.KeeperReport(error=f"unshare failed: {os.strerror(ctypes.get_errno())}"))
        os._exit(70)
    if spec.watch is not None and not spec.isolate:
        LIBC.prctl(
            protocol.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0
        )  # orphans stay below the keeper, where the watch sums them
    proc = watch.open_proc() if spec.watch is not None else -1
    pid = os.fork()
    if pid == 0:
        try:
            os.close(status)
            os.close(kill)
            learner(spec, stdin, stdout, stderr, channel, joins, *service)
        except BaseException as e:
            try:
                failed = protocol.Frame(
                    protocol.Kind.INTERNAL, fault=protocol.Fault(protocol.Why.CANNOT_START, text=repr(e))
                )
                os.write(CHANNEL_FD, protocol.encode(failed))
            finally:
                os._exit(70)
    for fd in (stdin, stdout, stderr, channel, *joins, *service):
        os.close(fd)
    report(status, protocol.KeeperReport(pid=pid))
    pidfd = os.pidfd_open(pid)
    guard = watch.Watch(spec.watch, proc) if spec.watch is not None else None
    limit = None
    while True:
        ready, _, _ = select.select([kill, pidfd], [], [], watch.TICK_S if guard else None)
        if not ready and guard is not None:
            guard.reap_orphans(pid)
            limit = guard.sample()
            if limit is None:
                continue
        if kill in ready and os.read(kill, 1) == b"w":  # the judge asks where the learner's code is
            try:
                os.kill(pid, signal.SIGUSR1)
            except OSError:
                pass
            continue
        break
    if kill in ready or limit:  # "k", the judge hung up, or over a limit: either way the run is over
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except OSError:
                pass
    _, wstatus, rusage = os.wait4(pid, 0)
    if not spec.isolate:
        try:
            os.killpg(pid, signal.SIGKILL)  # what the learner left running in its group
        except OSError:
            pass
    end = protocol.KeeperReport(exit=os.waitstatus_to_exitcode(wstatus), maxrss_kb=rusage.ru_maxrss, limit=limit)
    if guard is not None:
        watch.kill_all(proc)  # the orphans it adopted
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = max(guard.cpu_s, reaped.ru_utime + reaped.ru_stime)
        end = dataclasses.replace(end, peak_kb=guard.peak // 1024, cpu_ms=int(cpu_s * 1000))
    report(status, end)
    os._exit(0)


def mount(source: bytes, target: bytes, fstype: bytes | None, flags: int, data: bytes | None) -> None:
    if LIBC.mount(source, target, fstype, flags, data):
        raise OSError(ctypes.get_errno(), f"mount {target.decode()}: {os.strerror(ctypes.get_errno())}")


def learner(
    spec: protocol.Spawn, stdin: int, stdout: int, stderr: int, channel: int, joins: list[int], service: int = -1
) -> None:
    """Become the learner's process: own cgroup, mounts, descriptors, uid and limits, then run the job."""
    for fd in joins:  # into the sandbox's cgroup, in each hierarchy, before any learner code: all it forks follows
        os.write(fd, b"0")
        os.close(fd)
    pairs = [(stdin, 0), (stdout, 1), (stderr, 2), (channel, CHANNEL_FD)]
    pairs += [(service, COMPILE_FD)] if service >= 0 else []
    for fd, target in pairs:  # the service's fd last: it was received last, so it is the highest
        os.dup2(fd, target)
    os.closerange(pairs[-1][1] + 1, os.sysconf("SC_OPEN_MAX"))
    os.setsid()
    if spec.isolate:
        mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
        mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, f"size={spec.tmp_mb}m,mode=1777".encode())
        mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, f"size={spec.shm_mb}m,mode=1777".encode())
        for folder in spec.hide:  # the child's own code: loaded already, and none of the learner's business
            mount(b"tmpfs", folder.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=0555")
    try:  # learners open the compiled code they computed a key for, but cannot list the others' programs
        if spec.isolate or spec.read is not None:  # not where the judge grades as without Landlock
            confine.hide_listing(os.environ["JAX_COMPILATION_CACHE_DIR"])
    except (KeyError, OSError):
        pass  # no Landlock: as root, the folder's mode (0711) still hides them from a learner's own uid
    drop_privileges(spec.uid, spec.files_as_root)
    if spec.read is not None and spec.write is not None:  # the process level: no namespaces to hide things in
        confine.restrict_files(spec.read, spec.write)
        confine.deny_syscalls(confine.LEARNER_REFUSED)
    else:  # bwrap's namespaces have no network to refuse; and IPC there would still escape the memory bounds
        confine.deny_syscalls(confine.LEARNER_REFUSED, sockets=False)
    os.environ.update({"HOME": spec.workdir, "TMPDIR": spec.workdir})
    os.chdir(spec.workdir)
    set_limits(spec.limits)
    if service >= 0:
        compile_hook.install(COMPILE_FD)
    runner.run_job(os.fdopen(CHANNEL_FD, "wb", buffering=0), spec.workdir)


def set_limits(limits: dict[str, int]) -> None:
    import resource

    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def drop_privileges(uid: int | None, files_as_root: bool = False) -> None:
    """No capabilities left in any set (the zygote has them, in bwrap's user namespace when not root), and
    the learner's own uid when the judge is root: its real, effective and saved uid, and its file-system uid
    too unless `files_as_root` (then only the files it opens are checked as uid 0's, within Landlock's rules)."""
    for cap in range(64):
        if LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) and ctypes.get_errno() != 22:  # EINVAL: no such capability
            raise OSError(ctypes.get_errno(), "could not drop capabilities")
    if LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) and ctypes.get_errno() != 22:
        raise OSError(ctypes.get_errno(), "could not clear ambient capabilities")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    if uid is not None:
        os.setgroups([])
        if files_as_root and LIBC.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0):
            raise OSError(ctypes.get_errno(), "could not keep capabilities")
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # the file-system uid follows
        if files_as_root:  # CAP_SETUID, kept for this one call: back to opening files as uid 0
            setuid_only = (ctypes.c_uint32 * 6)(1 << CAP_SETUID, 1 << CAP_SETUID, 0, 0, 0, 0)
            if LIBC.capset(header, setuid_only):
                raise OSError(ctypes.get_errno(), "could not raise CAP_SETUID")
            LIBC.setfsuid(0)
            if LIBC.setfsuid(-1) != 0:  # setfsuid returns the previous value: -1 changes nothing, so it reads it
                raise OSError(1, "could not set the file-system uid")
    if LIBC.capset(header, (ctypes.c_uint32 * 6)()):  # effective, permitted, inheritable: all empty
        raise OSError(ctypes.get_errno(), "could not clear capabilities")
    if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
        raise OSError(ctypes.get_errno(), "could not set no_new_privs")


if __name__ == "__main__":
    main()
