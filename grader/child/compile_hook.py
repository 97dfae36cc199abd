"""The learner's side of the compile service: on a compilation-cache miss, have the judge's service compile.

Part of the child side (standard library only; JAX is reached through the module it patches). The
learner's process reads the shared cache but never writes it. Where JAX would compile a program it
did not find there, this sends the program (MLIR bytecode) over the connection on fd 4 to the
service, which compiles it into the cache under a key it computes itself, and answers with that key.
When the key is the one this process computed, the executable is loaded from the cache; otherwise
(refused, timed out, another key, no service) the program is compiled here as before, unwritten.
"""

from __future__ import annotations

import importlib.machinery
import json
import socket
import struct
import sys
import threading
import time
from typing import Any

if __package__:  # grader.child.compile_hook, imported by the judge's tests
    from grader.child import protocol
else:  # in the sandbox: loaded by worker.py from the child package's folder
    import protocol  # type: ignore[import-not-found,no-redef]

FD = 4  # where the learner's process finds its connection
MAX_REQUEST = protocol.COMPILE_REQUEST_MAX  # the service's own bound: a larger program is compiled here, unasked
WAIT_S = 3.0  # for one answer (a learner waits within its own time limit); a slower service is not asked again


class Client:
    def __init__(self, sock: socket.socket):
        self.sock, self.lock, self.broken = sock, threading.Lock(), False

    def key_for(self, request: bytes) -> str | None:
        """The key the service stored the program under, or None (and the connection is given up on errors)."""
        with self.lock:
            if self.broken or len(request) > MAX_REQUEST:
                return None
            try:
                deadline = time.monotonic() + WAIT_S
                self.sock.settimeout(WAIT_S)
                self.sock.sendall(struct.pack(">I", len(request)) + request)
                (n,) = struct.unpack(">I", self._read(4, deadline))
                if n > 4096:
                    raise ValueError("answer too long")
                answer = json.loads(self._read(n, deadline))
            except (OSError, ValueError, EOFError):
                self.broken = True  # a late answer would be read as the next one's
                return None
        key = answer.get("key") if isinstance(answer, dict) else None
        return key if isinstance(key, str) else None

    def _read(self, n: int, deadline: float) -> bytes:
        data = b""
        while len(data) < n:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data


def request(compiler: Any, computation: Any, options: Any) -> bytes:
    """The program and the facts of its options the service cannot see in it: nothing else (no flags, paths)."""
    build = options.executable_build_options
    header = json.dumps(
        {
            "tuple": bool(options.parameter_is_tupled_arguments),
            "params": [bool(b) for b in build.allow_spmd_sharding_propagation_to_parameters],
            "outputs": [bool(b) for b in build.allow_spmd_sharding_propagation_to_output],
        }
    ).encode()
    return struct.pack(">I", len(header)) + header + compiler.mlir.module_to_bytecode(computation)


def patch(compiler: Any, client: Client) -> None:
    """Replace JAX's compile-and-write-the-cache step (called only after a cache miss) in this process."""

    def compile_shared(backend, computation, executable_devices, compile_options, host_callbacks, module_name, key):
        if not host_callbacks:  # their programs hold pointers into this process: the service refuses them
            try:
                asked = client.key_for(request(compiler, computation, compile_options))
            except Exception:
                asked = None
            if asked == key:
                loaded, _ = compiler._cache_read(module_name, key, compile_options, backend, executable_devices)
                if loaded is not None:
                    return loaded
        return compiler.backend_compile_and_load(
            backend, computation, executable_devices, compile_options, host_callbacks
        )  # here, as without the service: never written to the cache

    compiler._compile_and_write_cache = compile_shared


class AfterImport:
    """A meta-path finder that patches a module once it is imported (JAX may be imported by learner code)."""

    def __init__(self, name: str, then: Any):
        self.name, self.then = name, then

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            self.then(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install(fd: int = FD) -> None:
    """Use the service on this connection for every compile from now on, whether JAX is imported yet or not."""
    try:
        client = Client(socket.socket(fileno=fd))
    except OSError:
        return
    name = "jax._src.compiler"
    if name in sys.modules:
        patch(sys.modules[name], client)
    else:
        sys.meta_path.insert(0, AfterImport(name, lambda module: patch(module, client)))
