"""The compile service: only trusted code writes the shared compilation cache, under keys it computes itself.

The first tests talk to the service's process directly, as a hostile learner would; the last ones grade
in real sandboxes at both levels.
"""

import json
import os
import socket
import struct
import threading
import time

import pytest
from conftest import SUBMISSIONS, context, strong_level

from grader.child import compile_hook
from grader.child.compile_server import MAX_REQUEST
from grader.sandbox.compile_service import CompileService

MASK = "cross_attention_mask"


def grade_with(ctx, zygote, path):
    """A file graded on the public cases in a sandbox forked from `zygote` (the compile service's, when it has
    one), as a batch grades it."""
    from grader.grading.pipeline import grade_submission
    from grader.grading.submission import Submission
    from grader.sets.hidden import grading_cases

    problem = ctx.problems.load(MASK)
    return grade_submission(
        problem,
        ctx.problems,
        Submission.read(path),
        lambda: zygote,
        cases=grading_cases(problem, ctx.problems, None),
        limits=problem.meta.limits,
        level=zygote.level,
    )


@pytest.fixture
def service(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "cache"))
    from grader.sandbox.policy import prepare_compile_cache

    cache = context().cache  # the one $JUDGE_CACHE_DIR names
    folder = prepare_compile_cache(cache)
    svc = CompileService(cache)
    # Its first worker imports JAX (2 s, more on a busy machine): the tests time answers, not that.
    deadline = time.monotonic() + 60
    while True:
        with svc.connect() as warm:
            warm.sendall(struct.pack(">I", 1) + b"x")  # refused by a worker ("short request"), or "busy"
            if b"short request" in warm.recv(100):
                break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    yield svc, folder
    svc.close()


def program(fn, name=None):
    """A jitted function's program as a learner sends it, renamed to `name` if given."""
    import jax
    import jax.numpy as jnp
    from jax._src.interpreters import mlir
    from jax._src.lib.mlir import ir

    module = jax.jit(fn).lower(jnp.ones(4, jnp.float32)).compiler_ir("stablehlo")
    if name is not None:
        with mlir.make_ir_context():
            module = ir.Module.parse(mlir.module_to_bytecode(module))
            module.operation.attributes["sym_name"] = ir.StringAttr.get(name)
    return mlir.module_to_bytecode(module)


def request(bytecode, **extra):
    header = json.dumps({"tuple": False, "params": [True], "outputs": [True], **extra}).encode()
    return struct.pack(">I", len(header)) + header + bytecode


def ask(client, bytecode, **extra):
    return client.key_for(request(bytecode, **extra))


def answer(sock, body):
    """The service's answer to one request on a connection of ours: {"key": ...} or {"no": why}."""
    sock.settimeout(60)
    sock.sendall(struct.pack(">I", len(body)) + body)
    (n,) = struct.unpack(">I", sock.recv(4))
    return json.loads(sock.recv(n))


def compiled(sock, body, reply=None):
    """Whether the request is compiled once a worker is free (until then the service answers "busy")."""
    deadline = time.monotonic() + 30
    reply = reply or answer(sock, body)
    while reply == {"no": "busy"} and time.monotonic() < deadline:
        time.sleep(0.1)
        reply = answer(sock, body)
    return "key" in reply


def stored(folder):
    return sum(p.stat().st_size for p in folder.iterdir())


def workers(pid):
    """The service's worker processes."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as f:
                if name.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(name))
        except (OSError, ValueError):
            pass
    return found


def stored_hlo(folder, key):
    """The program of the executable stored under `key`, as XLA compiled it."""
    import numpy as np
    from jax._src import compilation_cache, compiler, xla_bridge
    from jax._src.lib import xla_client

    data = compilation_cache.decompress_executable((folder / f"{key}-cache").read_bytes())
    serialized, _ = compilation_cache.extract_executable_and_time(data)
    backend = xla_bridge.get_backend("cpu")
    device = backend.local_devices()[0]
    options = compiler.get_compile_options(1, 1, device_assignment=np.array([[device]]), backend=backend)
    loaded = backend.deserialize_executable(serialized, xla_client.DeviceList((device,)), options)
    return loaded.hlo_modules()[0].to_string()


def test_an_entry_is_stored_only_under_the_key_of_the_program_compiled(service):
    svc, folder = service
    client = compile_hook.Client(svc.connect())
    other = ask(client, program(lambda x: x + 5.0))
    assert other and "add" in stored_hlo(folder, other)
    before = (folder / f"{other}-cache").read_bytes()
    # A forged request: another program under the first one's name, claiming its key in every field it can.
    forged = ask(client, program(lambda x: x * 3.0, name=other.rsplit("-", 1)[0]), key=other, name=other)
    assert forged and forged != other and forged.startswith(other.rsplit("-", 1)[0] + "-")
    assert "multiply" in stored_hlo(folder, forged) and "add" not in stored_hlo(folder, forged)
    assert (folder / f"{other}-cache").read_bytes() == before  # the first entry is untouched
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{other}-cache", f"{forged}-cache"])


def test_refused_garbage_and_oversized_requests_get_no_and_nothing_is_stored(service):
    import jax
    import numpy as np

    svc, folder = service
    client = compile_hook.Client(svc.connect())
    callback = program(lambda x: jax.pure_callback(np.sin, x, x))  # a pointer into the learner's process
    assert ask(client, callback) is None and not client.broken
    assert ask(client, b"ML\xefR" + os.urandom(4000)) is None and not client.broken
    assert ask(client, program(lambda x: x - 1.0, name="../../escape")) is None  # a module name that is a path
    assert client.key_for(b"\x00\x00\x00\x05{}") is None and not client.broken  # not even a header
    assert list(folder.iterdir()) == []
    named = ask(client, program(lambda x: x - 1.0), name="../../escape")  # a header field: ignored
    assert named and "/" not in named and [p.name for p in folder.iterdir()] == [f"{named}-cache"]
    raw = svc.connect()
    raw.sendall(struct.pack(">I", MAX_REQUEST + 1))
    assert b"too large" in raw.recv(100)
    assert ask(compile_hook.Client(svc.connect()), program(lambda x: x * 7.0))  # still serving the others


def test_a_learner_keeps_the_service_busy_only_while_it_waits(service):
    """Requests queued behind one another are not compiled: the connection is dropped unanswered."""
    svc, folder = service
    pipelined = svc.connect()
    header = json.dumps({"tuple": False, "params": [True], "outputs": [True]}).encode()
    frames = [struct.pack(">I", len(header)) + header + program(lambda x, c=c: x * c) for c in (11.0, 12.0)]
    pipelined.sendall(b"".join(struct.pack(">I", len(f)) + f for f in frames))
    try:
        answer = pipelined.recv(100)
    except ConnectionResetError:  # dropped with the second request unread
        answer = b""
    assert answer == b""
    assert ask(compile_hook.Client(svc.connect()), program(lambda x: x * 13.0))  # one that waits is served
    assert len(list(folder.iterdir())) == 1


def test_a_dead_service_is_started_again_and_its_learners_give_up_on_it(service, monkeypatch):
    svc, _ = service
    client = compile_hook.Client(svc.connect())
    assert ask(client, program(lambda x: x * 2.0))
    os.kill(svc.pid, 9)
    assert ask(client, program(lambda x: x * 4.0)) is None and client.broken
    assert compiled(svc.connect(), request(program(lambda x: x * 4.0)))  # once the new one's worker has started
    assert svc.starts == 2


def test_a_silent_service_costs_a_learner_only_its_wait(monkeypatch):
    monkeypatch.setattr(compile_hook, "WAIT_S", 0.3)
    ours, theirs = socket.socketpair()
    client = compile_hook.Client(ours)
    assert client.key_for(b"x" * 100) is None and client.broken
    assert client.key_for(b"x") is None  # not asked again: a late answer would be taken for the next one
    theirs.close()


def test_a_flood_of_programs_on_one_connection_stops_at_its_budget(service):
    """Distinct programs with 12 MB of constants each, one after another: the cache grows by no more than one
    learner's budget of stored bytes, and other learners are still served."""
    import numpy as np

    from grader.child import compile_server

    svc, folder = service
    learner, answers = svc.connect(), []
    for seed in range(5):
        constants = np.random.default_rng(seed).standard_normal(3 << 20).astype(np.float32)
        answers.append(answer(learner, request(program(lambda x, c=constants: x.sum() + c))))
        if seed == 3:
            full = stored(folder)
    assert "key" in answers[0] and answers[-2:] == [{"no": "budget"}] * 2, answers
    assert stored(folder) == full <= compile_server.MAX_STORED  # nothing stored after the budget ran out
    assert ask(compile_hook.Client(svc.connect()), program(lambda x: x * 17.0))  # another learner: served


def test_a_program_that_stalls_the_parser_delays_no_other_learner(service):
    """MLIR text with a 20,000-digit integer: the parser holds Python's lock for about half a minute in whichever
    process parses it. Another learner's requests are answered meanwhile."""
    svc, _ = service
    other = svc.connect()
    text = "module @m { func.func public @main() -> tensor<i64> { %0 = stablehlo.constant dense<1DIGITS> : "
    text += "tensor<i64>\n return %0 : tensor<i64> } }"
    body = request(text.replace("DIGITS", "2" * 20000).encode(), params=[], outputs=[True])
    hostile = svc.connect()
    hostile.sendall(struct.pack(">I", len(body)) + body)
    time.sleep(0.5)  # it is being parsed
    start = time.monotonic()
    reply = answer(other, request(program(lambda x: x * 22.0)))
    assert time.monotonic() - start < compile_hook.WAIT_S, "the service stalled"  # before the learner gives up
    assert compiled(other, request(program(lambda x: x * 22.0)), reply)
    assert time.monotonic() - start < 10  # and compiled, long before the parse would have ended
    hostile.close()


def test_a_program_whose_compile_takes_too_much_memory_is_refused(service):
    """1 KB of program whose constants XLA folds while compiling: 4.6 GB at its peak, unbounded. The worker
    compiling it is killed at the learner's memory limit (2 GiB unless the judge says), and the service goes on."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    svc, folder = service
    learner = svc.connect()

    def folded(x):  # eight constants of 36 million floats each
        pads = [(0, 6000 * 6000 - 3, 0)]
        return [jax.lax.pad(jnp.asarray(np.arange(3, dtype=np.float32) + i), jnp.float32(i), pads) for i in range(8)]

    start = time.monotonic()
    assert answer(learner, request(program(folded), outputs=[True] * 8)) == {"no": "memory"}
    assert time.monotonic() - start < 15  # killed, not compiled to its end (20 s here)
    assert list(folder.iterdir()) == []
    assert compiled(learner, request(program(lambda x: x * 23.0)))  # a fresh worker compiles the next


def test_the_cache_keeps_to_its_bound_evicting_its_oldest_entries_first(tmp_path):
    from grader.child.compile_server import AtomicFiles

    for age, name in enumerate(["a", "b", "c"]):
        (tmp_path / f"{name}-cache").write_bytes(b"x" * 1000)
        os.utime(tmp_path / f"{name}-cache", (1000 + age, 1000 + age))
    (tmp_path / ".tmp-1-2").write_bytes(b"y" * 5000)  # being written by another worker: not an entry yet
    AtomicFiles(str(tmp_path), limit=3000).put("d", b"z" * 1500)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-1-2", "c-cache", "d-cache"]


ATTACK = """
import os
import jax
import jax.numpy as jnp

cache = os.environ["JAX_COMPILATION_CACHE_DIR"]
try:
    print("LISTED", len(os.listdir(cache)))
except OSError:
    print("LIST REFUSED")
try:
    with open(os.path.join(cache, "jit_multiply-" + "0" * 64 + "-cache"), "wb") as f:
        f.write(b"poison")
    print("WROTE")
except OSError:
    print("WRITE REFUSED")
try:
    if GARBAGE:
        os.write(4, b"\\xff" * 64)  # garbage on the service's connection
except OSError:
    pass


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    n, s = encoder_ids.shape
    keep = jax.jit(lambda k: k * SCALE)(jnp.where(encoder_ids == pad_id, 0.0, 1.0))  # a constant in the program
    return jnp.broadcast_to(keep[:, None, None, :], (n, 1, decoder_len, s))
"""


@pytest.mark.parametrize("level", ["process", "bwrap"])
def test_learners_read_the_cache_but_cannot_write_or_list_it(tmp_path, monkeypatch, level):
    from grader.sandbox.zygote import Zygote

    if level == "bwrap":
        strong_level()
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "cache"))
    attack = tmp_path / "attack.py"
    attack.write_text(ATTACK.replace("SCALE", "1.0").replace("GARBAGE", "True"))
    with context(sandbox=level) as ctx, Zygote(level, ctx.cache, compiles=True) as zygote:
        result = grade_with(ctx, zygote, attack)
    assert result.passed, result.message  # garbage on its own connection only costs it local compiles
    assert "LIST REFUSED" in result.stdout and "WRITE REFUSED" in result.stdout, result.stdout
    folder = tmp_path / "cache" / "v3" / "xla"
    assert not list(folder.glob("*" + "0" * 64 + "*"))
    assert oct(folder.stat().st_mode & 0o777) == "0o711"


@pytest.mark.parametrize("level", ["process", "bwrap"])
def test_two_learners_at_once_get_their_own_programs_and_verdicts(tmp_path, monkeypatch, level):
    """Same program names and shapes, different constants: each loads the executable of its own program."""
    from grader.sandbox.zygote import Zygote

    if level == "bwrap":
        strong_level()
    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "cache"))
    right, wrong = tmp_path / "right.py", tmp_path / "wrong.py"
    right.write_text(ATTACK.replace("SCALE", "1.0").replace("GARBAGE", "False"))
    wrong.write_text(ATTACK.replace("SCALE", "2.0").replace("GARBAGE", "False"))
    results = {}
    preimport = ("numpy", "jax") if level == "bwrap" else ("numpy",)  # the hook patches JAX loaded before or after
    with context(sandbox=level) as ctx, Zygote(level, ctx.cache, preimport, compiles=True) as zygote:
        for _ in range(2):  # the second time, both find their programs in the cache
            run = lambda f: results.setdefault(f.name, []).append(grade_with(ctx, zygote, f))  # noqa: E731
            threads = [threading.Thread(target=run, args=(f,)) for f in (right, wrong)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert zygote.compiler is not None and zygote.compiler.starts == 1
    assert [r.passed for r in results["right.py"]] == [True, True]
    assert [r.status for r in results["wrong.py"]] == ["wrong_answer", "wrong_answer"]
    assert all("LIST REFUSED" in r.stdout for rs in results.values() for r in rs)
    # The lambda's program eagerly, or each case's whole program where the case is compiled whole (traced.py).
    compiled = [
        p.name
        for pattern in ("jit__lambda-*", "jit_traced-*")
        for p in (tmp_path / "cache" / "v3" / "xla").glob(pattern)
    ]
    assert compiled and len(compiled) % 2 == 0, compiled  # each learner's own programs, by the service


def test_a_learner_whose_program_is_refused_compiles_it_and_passes(tmp_path, monkeypatch):
    from grader.sandbox.zygote import Zygote

    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path / "cache"))
    source = (SUBMISSIONS / MASK / "correct_jax.py").read_text()
    callback = tmp_path / "callback.py"
    callback.write_text(
        source.replace("import jax.numpy as jnp", "import jax\nimport jax.numpy as jnp\nimport numpy as np").replace(
            "    return jnp.broadcast_to(",
            "    keep = jax.jit(lambda k: jax.pure_callback(np.asarray, k, k))(keep)\n    return jnp.broadcast_to(",
        )
    )
    with context() as ctx, Zygote(ctx.level(), ctx.cache, compiles=True) as zygote:
        assert grade_with(ctx, zygote, callback).passed


def test_the_service_confines_itself_where_landlock_works(service):
    """It parses hostile bytes: a bug there should reach the cache at most, not the judge's files or network."""
    from grader.sandbox.policy import confinable

    if not confinable():
        pytest.skip("no Landlock here")
    svc, _ = service
    assert ask(compile_hook.Client(svc.connect()), program(lambda x: x * 9.0))  # serving once confined
    deadline = time.monotonic() + 10
    while "Seccomp:\t2" not in open(f"/proc/{svc.pid}/status").read():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # Its workers, which parse and compile, are confined as well (and further: they cannot read /proc).
    pids = workers(svc.pid)
    assert pids and all("Seccomp:\t2" in open(f"/proc/{pid}/status").read() for pid in pids)
