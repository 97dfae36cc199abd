"""The compile service's process: compiles learners' XLA programs into the shared compilation cache.

Trusted, outside any sandbox, and the only writer of the cache besides the judge's own reference runs.
Run as a script (``python -I compile_server.py CONTROL_FD``) by `compile_service.CompileService`;
standard library, numpy and jax only. Each sandbox's learner gets a connection of its own (passed in
over the control socket); on it the learner sends a program it failed to find in the cache, and gets
back the key the program was stored under, or a refusal. The learner then loads the executable
with its own key, and compiles locally when the two differ.

What the learner sends is only the program (MLIR bytecode) and the three sharding-propagation
facts JAX's options carry for it (booleans). The service builds every compile option itself, with
the judge's XLA flags (its environment), computes the key from what it parsed with JAX's own
`get_cache_key`, and stores the executable under that key only: a learner can make it compile its
own program, never place an entry under another program's key. Programs with a custom call not on
ALLOWED_TARGETS (host callbacks hold pointers into the learner's process) are refused. A parser or
compiler crash ends this process only; the judge starts another.
"""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import struct
import sys
import threading
import time

if __package__:  # grader.child.compile_server, imported by the judge's tests
    from grader.child import confine, protocol
else:  # run as a script (trusted, outside any sandbox): its siblings are plain modules beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import confine  # type: ignore[import-not-found,no-redef]
    import protocol  # type: ignore[import-not-found,no-redef]

    del sys.path[0]

MAX_REQUEST = protocol.COMPILE_REQUEST_MAX  # bytes of one request: a program with large constants fits, a flood not
MAX_FLAGS = 4096  # arguments or results of one program
COMPILE_S = 30.0  # a compile running longer ends this process: the judge starts a fresh one
MEMORY_BYTES = 8 << 30  # address space; JAX's CPU client alone reserves about 1.5 GB of it
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")  # a module name, as part of a file name in the cache
# Custom calls that run code compiled into jaxlib (sharding markers, 64-bit splitting, LAPACK, FFT), never
# code named by the learner: host callbacks carry a pointer into the learner's process.
ALLOWED_TARGETS = {"Sharding", "SPMDFullToShardShape", "SPMDShardToFullShape", "X64Combine", "X64SplitLow"}
ALLOWED_TARGETS |= {"X64SplitHigh", "annotate_device_placement", "ducc_fft"}
ALLOWED_PREFIXES = ("lapack_",)
REFUSED_OPS = {"infeed", "outfeed", "send", "recv"}  # host transfers: nothing on the other end


class Refused(Exception):
    """The request is not compiled; the learner compiles it locally."""


class AtomicFiles:
    """The cache's files, as JAX's own file cache lays them out, written whole or not at all: a learner
    reading an entry while it is written sees none. Readable by every uid (learners have their own)."""

    def __init__(self, path: str):
        self._path = path

    def get(self, key: str) -> bytes | None:
        try:
            with open(os.path.join(self._path, f"{key}-cache"), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def put(self, key: str, value: bytes) -> None:
        final = os.path.join(self._path, f"{key}-cache")
        if os.path.exists(final):
            return
        tmp = os.path.join(self._path, f".tmp-{os.getpid()}-{threading.get_ident()}")
        with open(tmp, "wb") as f:
            f.write(value)
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)

    def clear(self) -> None:
        pass


class Compiler:
    """JAX's compile path, with every option the service's own."""

    def __init__(self) -> None:
        import numpy as np
        from jax._src import compilation_cache, compiler, xla_bridge
        from jax._src.interpreters import mlir
        from jax._src.lib import xla_client
        from jax._src.lib.mlir import ir

        self.np, self.cc, self.compiler, self.mlir, self.ir = np, compilation_cache, compiler, mlir, ir
        self.backend = xla_bridge.get_backend("cpu")
        self.device = self.backend.local_devices()[0]
        self.device_list = xla_client.DeviceList((self.device,))
        path = os.environ["JAX_COMPILATION_CACHE_DIR"]
        compilation_cache._cache = AtomicFiles(path)  # type: ignore[assignment]  # duck-typed: get, put
        compilation_cache._cache_initialized = True
        self.started: dict[int, float] = {}  # thread -> when its compile began, for the watchdog

    def request(self, body: bytes) -> str:
        """Compile one request's program into the cache (unless it is there already); return its key."""
        me = threading.get_ident()
        self.started[me] = time.monotonic()  # the watchdog's deadline covers parsing as well as compiling
        try:
            return self._request(body)
        finally:
            del self.started[me]

    def _request(self, body: bytes) -> str:
        if len(body) < 4:
            raise Refused("short request")
        (n,) = struct.unpack(">I", body[:4])
        header, bytecode = json.loads(body[4 : 4 + n]), body[4 + n :]
        tupled, params, outputs = header.get("tuple"), header.get("params"), header.get("outputs")
        if not isinstance(tupled, bool) or not all(flags(x) for x in (params, outputs)):
            raise Refused("bad header")
        with self.mlir.make_ir_context():
            module = self.ir.Module.parse(bytecode)
            if not module.operation.verify():
                raise Refused("invalid module")
            name = self.ir.StringAttr(module.operation.attributes["sym_name"]).value
            if not NAME.fullmatch(name):
                raise Refused("module name")
            check_ops(module)
            options = self.compiler.get_compile_options(
                num_replicas=1,
                num_partitions=1,
                device_assignment=self.np.array([[self.device]]),
                detailed_logging=self.compiler.use_detailed_logging(module),
                backend=self.backend,
            )
            options.parameter_is_tupled_arguments = tupled
            options.executable_build_options.allow_spmd_sharding_propagation_to_parameters = params
            options.executable_build_options.allow_spmd_sharding_propagation_to_output = outputs
            devices = self.np.array([[self.device]])
            key: str = self.cc.get_cache_key(module, devices, options, self.backend)
            if self.cc.is_executable_in_cache(self.backend, key):
                return key
            start = time.monotonic()
            executable = self.compiler.backend_compile_and_load(self.backend, module, self.device_list, options, [])
            self.cc.put_executable_and_time(key, name, executable, self.backend, int(time.monotonic() - start))
        return key

    def watchdog(self) -> None:
        while True:
            time.sleep(1.0)
            now = time.monotonic()
            if any(now - t > COMPILE_S for t in list(self.started.values())):
                os._exit(75)  # the judge starts another; the learners waiting compile locally


def flags(value: object) -> bool:
    return isinstance(value, list) and len(value) <= MAX_FLAGS and all(isinstance(v, bool) for v in value)


def check_ops(module: object) -> None:
    """Refuse custom calls not on the allow-list (host callbacks among them) and host transfers."""
    bad: list[str] = []

    def visit(op: object) -> object:
        name = op.name  # type: ignore[attr-defined]
        dialect, _, short = name.partition(".")
        if short in REFUSED_OPS and dialect in ("stablehlo", "mhlo"):
            bad.append(name)
        elif short == "custom_call":
            target = op.attributes["call_target_name"]  # type: ignore[attr-defined]
            value = str(target).strip('"')
            if value not in ALLOWED_TARGETS and not value.startswith(ALLOWED_PREFIXES):
                bad.append(f"custom call {value[:60]}")
        return WALK_ADVANCE

    from jax._src.lib.mlir import ir

    WALK_ADVANCE = ir.WalkResult.ADVANCE
    module.operation.walk(visit)  # type: ignore[attr-defined]
    if bad:
        raise Refused(bad[0])


def read_exact(conn: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(min(n - len(data), 1 << 20))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def serve(conn: socket.socket, compiler: Compiler) -> None:
    """One learner's connection: requests one at a time, until it hangs up or breaks the framing."""
    with conn:
        while True:
            try:
                (n,) = struct.unpack(">I", read_exact(conn, 4))
                if n > MAX_REQUEST:
                    conn.sendall(reply({"no": "too large"}))
                    return  # the rest of the stream is not read: the learner compiles locally from now on
                body = read_exact(conn, n)
            except (OSError, EOFError):
                return
            if not waiting(conn):
                return  # gone, or sending more before its answer: no learner keeps the service busy but while it waits
            try:
                answer = {"key": compiler.request(body)}
            except Refused as e:
                answer = {"no": str(e)}
            except Exception as e:  # the learner's program: any failure is a refusal, never the service's end
                answer = {"no": type(e).__name__}
            try:
                conn.sendall(reply(answer))
            except OSError:
                return


def waiting(conn: socket.socket) -> bool:
    """Whether the learner is waiting for this answer: still connected, and nothing sent after its request."""
    try:
        conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # returns b"" if it hung up, a byte if it sent more
    except BlockingIOError:
        return True
    except OSError:
        pass
    return False


def reply(doc: dict[str, str]) -> bytes:
    data = json.dumps(doc).encode()
    return struct.pack(">I", len(data)) + data


def confine_self(spec: str | None) -> None:
    """Where the judge asks (Landlock works): read only the runtime, write only the cache, open no socket but
    AF_UNIX. The service parses hostile bytes; a bug there reaches no more than the cache."""
    if not spec:
        return
    paths = json.loads(spec)
    confine.restrict_files(paths["read"], paths["write"])
    confine.deny_sockets()


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    compiler = Compiler()
    confine_self(os.environ.get("JUDGE_SERVICE_CONFINE"))
    threading.Thread(target=compiler.watchdog, daemon=True).start()
    for _, fds in protocol.requests(control, 16, 4):
        for fd in fds:
            threading.Thread(target=serve, args=(socket.socket(fileno=fd), compiler), daemon=True).start()
    os._exit(0)  # the judge is gone


if __name__ == "__main__":
    main()
