"""The child side of a sandboxed run. Runs as `python -I -c <this file's text> CONFIG`.

It imports nothing of the judge (the judge's package is not visible in the
sandbox) and is single-use: set limits, pre-import libraries, say READY, read
one job from stdin, import the learner's file, call the function on every
case, and stream raw outputs back on the channel fd. Nothing it sends is trusted: the
parent parses arrays strictly and computes every verdict itself.

Frames, both directions: <u32 header length><u64 payload length><JSON header><payload>.
"""

import io
import json
import os
import struct
import sys
import time
import traceback


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
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines).replace(filename, os.path.basename(filename))


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


def main():
    config = json.loads(sys.argv[1])
    channel = os.fdopen(config["channel_fd"], "wb", buffering=0)
    set_limits(config["limits"])
    import site

    for d in config["site_dirs"]:
        if d not in sys.path:  # those already there had their .pth files read at start-up
            site.addsitedir(d)
    sys.path[:] = [p for p in sys.path if not any(p.startswith(x) for x in config["hidden_paths"])]
    # An editable install of the judge finds its packages through a meta-path hook, not sys.path.
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
    os.chdir(config["workdir"])
    try:
        for name in config["preimport"]:
            __import__(name)
        import numpy as np
    except BaseException as e:  # not the learner's fault: their code is not loaded yet
        write_frame(channel, {"kind": "internal", "message": f"the sandbox could not import {e!r}"})
        os._exit(70)
    write_frame(channel, {"kind": "ready"})

    job, payload = read_frame(sys.stdin.buffer)
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}  # all read before learner code can break the readers
    filename = os.path.join(config["workdir"], job["filename"])
    with open(filename, "w") as f:
        f.write(job["source"])
    sys.path.insert(0, config["workdir"])

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
