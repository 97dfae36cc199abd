"""The child side of sandboxed runs. Runs as `python -I -c <this file's text> CONFIG`.

It imports nothing of the judge (the judge's package is not visible in the
sandbox). It runs in two parts:

* the zygote (`main`): trusted, it pre-imports the libraries (numpy, jax, flax)
  once, then waits for requests on its control socket and forks one keeper per
  request. It never runs learner code and never sees a job: it only forks.
* the keeper and the learner's process, forked from it: the keeper (trusted)
  puts the learner's process in fresh namespaces where the level allows (PID,
  mount, network, IPC, UTS), waits for it, kills it when the judge says so or
  goes away, and reports its exit status and peak memory. The learner's process
  mounts its own /proc, /tmp and /dev/shm, drops to its own uid without
  capabilities, sets its rlimits, closes every descriptor but its own, says
  READY, reads one job from stdin, imports the learner's file, calls the
  function on every case and streams raw outputs back on the channel fd.

Nothing the learner's process sends is trusted: the parent parses arrays
strictly and computes every verdict itself.

Frames, both directions: <u32 header length><u64 payload length><JSON header><payload>.
"""

import ctypes
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import time
import traceback

LIBC = ctypes.CDLL(None, use_errno=True)


def write_frame(channel, header, payload=b""):
    data = json.dumps(header).encode()
    channel.write(struct.pack("<IQ", len(data), len(payload)) + data + payload)
    channel.flush()


def read_frame(stream):
    head = stream.read(12)
    if len(head) < 12:
        raise EOFError("no job")
    n_header, n_payload = struct.unpack("<IQ", head)
    return json.loads(stream.read(n_header)), stream.read(n_payload)


def set_limits(limits):
    import resource

    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def learner_traceback(exc, filename):
    """The exception as the learner needs it: frames of their own file, then the error line."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename == filename]
    lines = []
    if own:
        lines.append("Traceback (your code, most recent call last):\n")
        lines.extend(traceback.format_list(own))
        if frames and frames[-1].filename != filename:
            lines.append(f"  (raised inside {shorten(frames[-1].filename)})\n")
        lines.append(operand_shapes(exc, filename, own[-1].line or ""))
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines).replace(filename, os.path.basename(filename))


def operand_shapes(exc, filename, line):
    """The shapes of the arrays named on the learner's failing line ("  shapes there: q (2, 3, 4)")."""
    import re

    try:  # the values are the learner's: anything may fail, and nothing here may hide the real error
        frame = [f for f, _ in traceback.walk_tb(exc.__traceback__) if f.f_code.co_filename == filename][-1]
        names = dict.fromkeys(re.findall(r"[A-Za-z_]\w*", line))
        named = [(n, frame.f_locals[n]) for n in names if n in frame.f_locals]
        shapes = [f"{n} {tuple(v.shape)}" for n, v in named  # library arrays only: no learner property runs
                  if str(type(v).__module__).split(".")[0] in ("numpy", "jaxlib", "jax") and isinstance(v.shape, tuple)]
    except Exception:
        return ""
    return f"  shapes there: {', '.join(shapes)}\n" if shapes else ""


def shorten(path):
    marker = "site-packages" + os.sep
    return path.split(marker, 1)[1] if marker in path else os.path.basename(path)


def classify(exc):
    """The status of an exception raised by learner code, and a one-line message."""
    name = type(exc).__name__
    if isinstance(exc, MemoryError) or "RESOURCE_EXHAUSTED" in str(exc):
        return "memory", f"{name}: ran out of memory"
    if isinstance(exc, SystemExit):
        return "error", f"called sys.exit({exc.code!r}); return the result instead of exiting"
    text = str(exc).strip().splitlines()
    return "error", f"{name}: {text[0]}" if text else name


def to_array(out, np):
    """The learner's return value as a plain numeric ndarray, or a message saying why not."""
    if out is None or isinstance(out, (str, bytes, dict, set)):
        return None, f"returned {type(out).__name__}; expected an array of numbers"
    try:
        arr = np.array(np.asarray(out), copy=True)  # drops ndarray subclasses
    except Exception as e:
        return None, f"returned {type(out).__name__} that is not an array of numbers ({type(e).__name__}: {e})"
    if arr.dtype.kind not in "biuf":
        kind = "ragged or non-numeric" if arr.dtype.kind == "O" else str(arr.dtype)
        return None, f"returned {type(out).__name__} of {kind} values; expected an array of real numbers"
    return arr, None


def call(fn, arg_names, kwargs):
    """Call by keyword when the learner's signature allows, else positionally in declared order."""
    import inspect

    try:
        inspect.signature(fn).bind(**kwargs)
    except (TypeError, ValueError):
        return fn(*[kwargs[n] for n in arg_names if n in kwargs])
    return fn(**kwargs)


CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 0x4000, 0x40000
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
CHANNEL_FD = 3  # where the learner's process finds its channel


def main():
    """The zygote: pre-import once, then fork a keeper for every request, until the judge hangs up."""
    config = json.loads(sys.argv[1])
    control = socket.socket(fileno=config["control_fd"])
    import site

    for d in config["site_dirs"]:
        if d not in sys.path:  # those already there had their .pth files read at start-up
            site.addsitedir(d)
    sys.path[:] = [p for p in sys.path if not any(p.startswith(x) for x in config["hidden_paths"])]
    # An editable install of the judge finds its packages through a meta-path hook, not sys.path.
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
    try:
        import numpy  # noqa: F401

        for name in config["preimport"]:
            try:
                __import__(name)
            except ImportError:
                pass  # not installed here: a learner importing it gets the same error as without the judge
    except BaseException as e:  # not the learner's fault: no learner code is loaded here
        control.send(json.dumps({"kind": "internal", "message": f"the sandbox could not import {e!r}"}).encode())
        os._exit(70)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    control.send(json.dumps({"kind": "ready"}).encode())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 65536, 8)
        except OSError:
            os._exit(0)
        if not message:
            os._exit(0)  # the judge is gone
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                keeper(json.loads(message), fds)
            finally:
                os._exit(70)
        for fd in fds:  # never left open here, where the next keeper would inherit them
            os.close(fd)
        control.send(b"forked")


def keeper(spec, fds):
    """Trusted parent of one learner's process: isolate it, wait for it, kill it on demand, report."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    stdin, stdout, stderr, channel, status, kill = fds
    if spec["isolate"] and LIBC.unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS):
        os.write(status, json.dumps({"error": f"unshare failed: {os.strerror(ctypes.get_errno())}"}).encode() + b"\n")
        os._exit(70)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(status)
            os.close(kill)
            learner(spec, stdin, stdout, stderr, channel)
        except BaseException as e:
            try:
                write_frame(os.fdopen(CHANNEL_FD, "wb", buffering=0),
                            {"kind": "internal", "message": f"the sandbox could not start: {e!r}"})
            finally:
                os._exit(70)
    for fd in (stdin, stdout, stderr, channel):
        os.close(fd)
    os.write(status, json.dumps({"pid": pid}).encode() + b"\n")
    pidfd = os.pidfd_open(pid)
    ready, _, _ = select.select([kill, pidfd], [], [])
    if kill in ready:  # a byte, or the judge hung up: either way the run is over
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except OSError:
                pass
    _, wstatus, rusage = os.wait4(pid, 0)
    if not spec["isolate"]:
        try:
            os.killpg(pid, signal.SIGKILL)  # what the learner left running in its group
        except OSError:
            pass
    code = os.waitstatus_to_exitcode(wstatus)
    os.write(status, json.dumps({"exit": code, "maxrss_kb": rusage.ru_maxrss}).encode() + b"\n")
    os._exit(0)


def learner(spec, stdin, stdout, stderr, channel):
    """Become the learner's process: own mounts, descriptors, uid and limits, then run the job."""
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2), (channel, CHANNEL_FD)):
        os.dup2(fd, target)
    os.closerange(CHANNEL_FD + 1, os.sysconf("SC_OPEN_MAX"))
    os.setsid()
    workdir = spec["workdir"]
    if spec["isolate"]:
        mounts = [(b"none", b"/", None, MS_REC | MS_PRIVATE, None),
                  (b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
                  (b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, f"size={spec['tmp_mb']}m,mode=1777".encode()),
                  (b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, f"size={spec['shm_mb']}m,mode=1777".encode())]
        for source, target, fstype, flags, data in mounts:
            if LIBC.mount(source, target, fstype, flags, data):
                raise OSError(ctypes.get_errno(), f"mount {target.decode()}: {os.strerror(ctypes.get_errno())}")
    drop_privileges(spec["uid"])
    os.environ.update({"HOME": workdir, "TMPDIR": workdir})
    os.chdir(workdir)
    set_limits(spec["limits"])
    run_job(os.fdopen(CHANNEL_FD, "wb", buffering=0), workdir)


def drop_privileges(uid):
    """No capabilities left in any set (the zygote has them, in bwrap's user namespace when not root), and
    the learner's own uid when the judge is root."""
    for cap in range(64):
        if LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) and ctypes.get_errno() != 22:  # EINVAL: no such capability
            raise OSError(ctypes.get_errno(), "could not drop capabilities")
    if LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) and ctypes.get_errno() != 22:
        raise OSError(ctypes.get_errno(), "could not clear ambient capabilities")
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    if LIBC.capset(header, (ctypes.c_uint32 * 6)()):  # effective, permitted, inheritable: all empty
        raise OSError(ctypes.get_errno(), "could not clear capabilities")
    if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0):
        raise OSError(ctypes.get_errno(), "could not set no_new_privs")


def run_job(channel, workdir):
    import numpy as np

    write_frame(channel, {"kind": "ready"})
    job, payload = read_frame(sys.stdin.buffer)
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}  # all read before learner code can break the readers
    filename = os.path.join(workdir, job["filename"])
    with open(filename, "w") as f:
        f.write(job["source"])
    sys.path.insert(0, workdir)

    import importlib.util

    try:
        spec = importlib.util.spec_from_file_location(job["module"], filename)
        module = importlib.util.module_from_spec(spec)
        sys.modules[job["module"]] = module
        spec.loader.exec_module(module)
        fn = getattr(module, job["function"], None)
        if not callable(fn):
            raise LookupError
    except LookupError:
        import difflib

        names = [n for n in vars(module) if not n.startswith("__")]
        near = difflib.get_close_matches(job["function"], names, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; it defines: {', '.join(names) or 'nothing'}"
        write_frame(channel, {"kind": "load_error", "status": "error",
                              "message": f"{job['filename']} has no function {job['function']!r}{hint}"})
        finish(channel)
    except BaseException as e:
        status, message = classify(e)
        if isinstance(e, SyntaxError):
            message = f"SyntaxError in {job['filename']} line {e.lineno}: {e.msg}"
        write_frame(channel, {"kind": "load_error", "status": status, "message": message,
                              "traceback": learner_traceback(e, filename)})
        finish(channel)
    write_frame(channel, {"kind": "imported"})

    for i, case in enumerate(job["cases"]):
        kwargs = dict(case["scalars"])
        kwargs.update({name: arrays[f"{i}.{name}"] for name in case["arrays"]})
        start = time.perf_counter()
        try:
            arr, problem = to_array(call(fn, job["arg_names"], kwargs), np)
        except BaseException as e:
            status, message = classify(e)
            write_frame(channel, {"kind": "case", "index": i, "status": status, "message": message,
                                  "traceback": learner_traceback(e, filename)})
            continue
        elapsed = time.perf_counter() - start
        if problem:
            write_frame(channel, {"kind": "case", "index": i, "status": "error", "message": problem})
            continue
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        write_frame(channel, {"kind": "case", "index": i, "status": "ok", "time": elapsed}, buf.getvalue())
    finish(channel)


def finish(channel):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    write_frame(channel, {"kind": "done"})
    os._exit(0)  # skip atexit hooks and non-daemon threads the learner left behind


if __name__ == "__main__":
    main()
