"""Hostile submissions through the real CLI, at the strong (bwrap) and the fallback (process) level."""

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from conftest import HOSTILE, ROOT, context, judge_json, strong_level

from grader.child import forever

MASK = "cross_attention_mask"
FAST = ("--time-limit", "2", "--import-limit", "4")


@pytest.fixture(params=["bwrap", "process"])
def level(request):
    return strong_level() if request.param == "bwrap" else "process"


@pytest.fixture(params=["bwrap", "process"])
def guarded_level(request):
    """Both levels that keep learners from the judge's files and the network: the process level needs Landlock."""
    if request.param == "bwrap":
        return strong_level()
    from grader.sandbox.policy import confinable

    if not confinable():
        pytest.skip("this kernel has no Landlock: the process level guards nothing here")
    return "process"


def run_hostile(name: str, level: str, *extra: str, path: Path | None = None) -> tuple[int, dict, float]:
    start = time.monotonic()
    code, doc = judge_json(
        "run", MASK, "--file", str(path or HOSTILE / f"{name}.py"), "--sandbox", level, *FAST, *extra
    )
    assert doc["replay"]["sandbox"] == level
    return code, doc, time.monotonic() - start


def processes_with(token: str) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if token.encode() in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
            except OSError:
                pass
    return found


def test_infinite_loop_times_out_naming_the_limit(level):
    code, doc, _ = run_hostile("loop_forever", level)
    assert code == 1 and doc["status"] == "timeout" and "time limit of 2 s" in doc["message"]
    fate = doc["cases"][0]["fault"]
    if level == "bwrap" and forever.SUPPORTED:  # alone in its PID namespace: proven endless and stopped at once
        assert "your code loops forever: it came back to line 3 (`pass`) with nothing changed" in doc["message"]
        assert fate["forever"] and fate["used"] < 2 and doc["time_s"] < 2
    else:  # the process level shares the machine's PID namespace: another process could end the loop
        assert "your code was at line 2 (`while True:`)" in doc["message"]  # the learner's line when the limit struck
        assert not fate["forever"] and fate["used"] is None


def test_a_long_loop_that_ends_is_not_taken_for_an_endless_one(tmp_path):
    """Rounds that change a counter are not proof: the file runs its 1.5 s and passes."""
    slow = tmp_path / f"{MASK}.py"
    counting = "    i = 0\n    while i < 40_000_000:\n        i += 1\n"
    slow.write_text(
        (ROOT / "tests" / "submissions" / MASK / "correct_jax.py")
        .read_text()
        .replace("    n, s = encoder_ids.shape\n", counting + "    n, s = encoder_ids.shape\n")
    )
    code, doc, _ = run_hostile("", strong_level(), "--time-limit", "20", path=slow)
    assert code == 0 and doc["status"] == "passed" and doc["time_s"] > 1.2, doc["message"]


def test_sleep_at_import_times_out(level):
    code, doc, _ = run_hostile("sleep_at_import", level)
    assert code == 1 and doc["status"] == "timeout" and "importing your file" in doc["message"]


def test_six_gib_allocation_hits_the_memory_limit(level):
    code, doc, _ = run_hostile("eat_memory", level)
    assert code == 1 and doc["status"] == "memory" and "2048 MB" in doc["message"]


def test_flooding_output_still_passes_and_is_cut(level):
    code, doc, _ = run_hostile("flood_output", level)
    assert code == 0 and doc["status"] == "passed"
    for stream in ("stdout", "stderr"):  # the start kept; the total printed in "<stream>_bytes"
        assert 0 < len(doc[stream]) < 20_000 and doc[f"{stream}_bytes"] >= 20_000_000, doc[f"{stream}_bytes"]


def test_background_processes_do_not_survive(level):
    code, doc, _ = run_hostile("background_process", level)
    assert code == 0, doc["message"]  # it did return the right answer
    time.sleep(0.5)
    assert processes_with("judge-orphan-token") == []


def test_the_process_level_in_a_long_lived_process_sweeps_only_what_its_learners_left():
    """A judge used as a library at the process level (a notebook's kernel) is the subreaper of that process: a
    daemon the process started itself (`ray start` from a cell) is reparented to it too. The learner's background
    processes are killed after its sandbox; the process's own daemon, there before, is not."""
    import contextlib
    import subprocess

    from grader import grade
    from grader.sandbox import reaper

    with context(sandbox="process") as ctx:
        ctx.zygote()  # the judge is now this process's subreaper
        shell = subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True)
        daemon = int(shell.stdout)  # the shell has left: the sleep is reparented here
        assert daemon in reaper.orphans()
        try:
            result = grade("cross_attention_mask", HOSTILE / "background_process.py", context=ctx)
            assert result.status.value == "passed", result.message
            time.sleep(0.5)
            assert processes_with("judge-orphan-token") == []  # the learner's, killed
            stat = Path(f"/proc/{daemon}/stat")
            assert stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"  # the host's own, alive
        finally:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(daemon, 9)
                os.waitpid(daemon, 0)


def test_killing_its_parent_leaves_the_judge_standing(level):
    code, doc, _ = run_hostile("kill_parent", level)
    assert code == 1 and doc["status"] in ("error", "crashed") and not doc["passed"]


@pytest.mark.parametrize("name", ["forge_output", "forge_at_import"])
def test_forged_verdicts_fail(name, level):
    code, doc, _ = run_hostile(name, level)
    assert code == 1 and doc["status"] == "crashed" and doc["passed"] is False and doc["score"] == 0
    assert "before returning" in doc["message"]


@pytest.mark.parametrize(
    "name,reason",
    [
        ("forged_time_10_to_400", "not a number of seconds"),
        ("forged_deep_nesting", "nested too deep"),
        ("forged_verdict_frame", "unknown field"),
    ],
)
def test_forged_frames_are_the_learners_crash_never_the_judges(name, reason, level, tmp_path):
    path = tmp_path / f"{MASK}.py"
    shutil.copyfile(ROOT / "tests" / "golden" / name / "submission.py", path)
    code, doc, _ = run_hostile("", level, path=path)
    assert code == 1 and doc["status"] == "crashed" and doc["score"] == 0, doc["message"]
    assert "result channel" in doc["message"] and reason in doc["message"]


def test_monkeypatching_and_a_lying_subclass_get_a_wrong_answer(level):
    code, doc, _ = run_hostile("patch_numpy_and_builtins", level)
    assert code == 1 and doc["status"] == "wrong_answer" and doc["cases"][0]["got"] == 0.5


def test_wrong_return_types_each_get_a_clear_message(level):
    code, doc, _ = run_hostile("bad_returns", level)
    messages = [c["message"] for c in doc["cases"]]
    assert code == 1 and all(c["status"] == "error" for c in doc["cases"])
    assert "returned str" in messages[0] and "returned None: did you forget `return`?" in messages[1]
    assert "returned dict" in messages[2] and "list" in messages[3] and "array of numbers" in messages[3]


@pytest.mark.parametrize(
    "name,status,text",
    [
        ("recursion", "error", "RecursionError"),
        ("sys_exit", "error", "sys.exit(0)"),
        ("syntax_error", "error", "SyntaxError in syntax_error.py line 1"),  # the file's own name
        ("misspelled", "error", "it defines `cross_atention_mask`: rename it to `cross_attention_mask`"),
    ],
)
def test_learner_faults_get_their_own_message(name, status, text, level):
    code, doc, _ = run_hostile(name, level)
    assert code == 1 and doc["status"] == status and text in doc["message"]


# ---- only the strong level isolates the file system and the network


def test_nothing_of_the_judge_is_visible(tmp_path, guarded_level):
    path = tmp_path / f"{MASK}.py"
    path.write_text((HOSTILE / "read_reference.py").read_text().replace("/nonexistent", str(ROOT)))
    code, doc, _ = run_hostile("", guarded_level, "--time-limit", "30", "--import-limit", "120", path=path)
    assert doc["status"] == "wrong_answer", doc["message"]  # it found nothing, so it returned zeros


def test_no_network(guarded_level):
    code, doc, _ = run_hostile("network", guarded_level)
    assert doc["status"] == "error"
    # bwrap: no network device at all; the process level: seccomp refuses the socket itself.
    expected = ("unreachable", "refused") if guarded_level == "bwrap" else ("Permission denied",)
    assert any(w in doc["message"] for w in expected), doc["message"]


def test_outside_files_cannot_be_changed(tmp_path, guarded_level):
    victim = tmp_path / "class" / "bob" / "grades.csv"
    victim.parent.mkdir(parents=True)
    victim.write_text("bob,10\n")
    path = tmp_path / "class" / "alice" / f"{MASK}.py"
    path.parent.mkdir()
    path.write_text((HOSTILE / "overwrite_files.py").read_text().replace("/nonexistent", str(victim)))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, doc, _ = run_hostile("", guarded_level, path=path)
    assert "DID nothing" in doc["message"]
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def sysv_keys() -> set[int]:
    keys = set()
    for table in ("shm", "msg"):
        for line in Path(f"/proc/sysvipc/{table}").read_text().splitlines()[1:]:
            keys.add(int(line.split()[0]))
    return keys


def remove_sysv(key: int) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for ident in (libc.shmget(key, 0, 0), libc.msgget(key, 0)):
        if ident >= 0:
            libc.shmctl(ident, 0, None)  # IPC_RMID (the same number for both)
            libc.msgctl(ident, 0, None)


def test_nothing_outside_changes_mode_owner_or_times_and_no_ipc_outlives_the_sandbox(tmp_path, guarded_level):
    """Landlock rules opening files only; as root the learner had uid 0 and owned the judge's files. Neither a
    file's metadata nor System V IPC (which would outlive the sandbox, outside its memory limit) is reachable."""
    victim = tmp_path / "class" / "bob" / "grades.csv"
    victim.parent.mkdir(parents=True)
    victim.write_text("bob,10\n")
    os.chmod(victim, 0o644)
    key = 0x4A000000 + int.from_bytes(os.urandom(2), "little")
    path = tmp_path / "class" / "alice" / f"{MASK}.py"
    path.parent.mkdir()
    code = (HOSTILE / "change_metadata.py").read_text()
    path.write_text(code.replace("/nonexistent", str(victim)).replace("KEY = 0", f"KEY = {key}"))
    before = os.stat(victim)
    try:
        _, doc, _ = run_hostile("", guarded_level, path=path)
        left = key in sysv_keys()
    finally:
        remove_sysv(key)
    assert "CHANGED nothing" in doc["message"], doc["message"]
    assert "'0'" not in doc["message"].split("uid=")[1]  # real, effective and saved uid: never root
    assert not left
    after = os.stat(victim)
    assert (after.st_mode, after.st_uid, after.st_gid, after.st_mtime_ns) == (
        before.st_mode,
        before.st_uid,
        before.st_gid,
        before.st_mtime_ns,
    )
    assert os.listxattr(victim) == []


def test_learner_runs_unprivileged_when_the_judge_is_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the judge is not root here")
    path = tmp_path / f"{MASK}.py"
    path.write_text(
        "import os\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        "    caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
        "    raise RuntimeError(f'uid={os.getuid()} caps={caps}')\n"
    )
    code, doc, _ = run_hostile("", strong_level(), path=path)
    assert "uid=0" not in doc["message"] and "caps=0000000000000000" in doc["message"]


def test_the_compilation_cache_is_read_only_to_learners(tmp_path):
    from grader import grade

    with context() as ctx:
        grade("mha_cross", ctx.problems.reference_path("mha_cross"), context=ctx)  # fills the cache
        entry = next(p.name for p in ctx.cache.compile_dir.iterdir())  # a trusted entry, by its name
    path = tmp_path / f"{MASK}.py"
    path.write_text(
        "import os\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        "    d = os.environ['JAX_COMPILATION_CACHE_DIR']\n"
        f"    size = len(open(os.path.join(d, {entry!r}), 'rb').read())\n"
        "    try:\n"
        "        os.listdir(d)\n"
        "        raise RuntimeError('LISTED')\n"
        "    except OSError:\n"
        "        pass\n"
        "    try:\n"
        f"        open(os.path.join(d, {entry!r}), 'wb').write(b'poison')\n"
        "        raise RuntimeError('WROTE')\n"
        "    except OSError as e:\n"
        "        raise RuntimeError(f'READ-ONLY {size} {e.strerror}')\n"
    )
    code, doc, _ = run_hostile("", strong_level(), path=path)
    assert "READ-ONLY" in doc["message"] and "Read-only file system" in doc["message"], doc["message"]
    assert int(doc["message"].split("READ-ONLY ")[1].split()[0]) > 0  # the trusted entries are there to read


def test_learner_sees_only_its_own_processes_and_no_capabilities(tmp_path):
    path = tmp_path / f"{MASK}.py"
    path.write_text(
        "import os\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        "    pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "    caps = {l.split()[1] for l in open('/proc/self/status') if l.startswith('Cap')}\n"
        "    raise RuntimeError(f'pids={pids} caps={sorted(caps)}')\n"
    )
    code, doc, _ = run_hostile("", strong_level(), path=path)
    assert "pids=[1] caps=['0000000000000000']" in doc["message"], doc["message"]


def test_an_unprivileged_judge_isolates_learners_too():
    """On a laptop the judge is not root: bwrap's user namespace then gives the zygote the capabilities
    it isolates learners with, and the learner must keep none of them."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to become an unprivileged user")
    strong_level()
    tmp_path = Path(tempfile.mkdtemp(prefix="judge-nobody-"))  # pytest's own are private to root
    tmp_path.chmod(0o777)
    as_nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "env",
        f"HOME={tmp_path}",
        f"JUDGE_CACHE_DIR={tmp_path / 'cache'}",
        sys.executable,
    ]
    if subprocess.run(as_nobody + ["-c", "import grader"], capture_output=True).returncode != 0:
        shutil.rmtree(tmp_path, ignore_errors=True)
        pytest.skip("the interpreter or the checkout is not readable by an unprivileged user here")
    path = tmp_path / f"{MASK}.py"
    path.write_text(
        "import os\n\ndef cross_attention_mask(encoder_ids, decoder_len, pad_id=0):\n"
        "    pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "    caps = {l.split()[1] for l in open('/proc/self/status') if l.startswith('Cap')}\n"
        "    raise RuntimeError(f'pids={pids} caps={sorted(caps)}')\n"
    )
    path.chmod(0o644)
    proc = subprocess.run(
        as_nobody + ["-m", "grader", "run", MASK, "--file", str(path), "--sandbox", "bwrap", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    shutil.rmtree(tmp_path, ignore_errors=True)
    assert proc.stdout.startswith("{"), proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["replay"]["sandbox"] == "bwrap"
    assert "pids=[1] caps=['0000000000000000']" in doc["message"], doc["message"]


# ---- learners forked from one zygote, side by side


SNOOP = """import os, time

ROLE, TOKEN = 'ROLE_HERE', 'TOKEN_HERE'
TRACES = ['/tmp/judge-secret-' + TOKEN, '/dev/shm/judge-secret-' + TOKEN]
if ROLE == 'hider':  # leaves traces for longer than the seeker looks
    for path in TRACES:
        open(path, 'w').write('x')
    time.sleep(8)
    for path in TRACES:
        os.remove(path)
else:
    deadline = time.monotonic() + 6
    while True:
        SEEN = [p for p in os.listdir('/proc') if p.isdigit() and p != '1']
        FILES = [f for d in ('/tmp', '/dev/shm') for f in os.listdir(d) if TOKEN in f]
        if FILES or time.monotonic() > deadline:
            break
        time.sleep(0.2)


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    # files first, then how many processes: an error message is cut at 2,000 characters (protocol.TEXT_KEEP), and
    # the list of every process of a busy machine filled them (the control failed, the traces it saw cut off)
    raise RuntimeError('hid' if ROLE == 'hider' else f'SEEN files={FILES} processes={len(SEEN)}')
"""


@pytest.fixture
def unconfined(monkeypatch):
    """The process level as on a kernel without Landlock: it hides nothing (the control for isolation tests)."""
    from grader.sandbox.policy import confinable

    monkeypatch.setenv("JUDGE_NO_LANDLOCK", "1")
    confinable.cache_clear()
    yield
    monkeypatch.delenv("JUDGE_NO_LANDLOCK")
    confinable.cache_clear()


@pytest.mark.parametrize("isolated", [True, False], ids=["bwrap", "process-control"])
def test_learners_of_one_zygote_cannot_see_each_other(tmp_path, isolated, request):
    """At the unconfined process level the seeker finds the hider's traces (so the two did overlap); at bwrap it
    cannot."""
    if not isolated:
        request.getfixturevalue("unconfined")
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from grader import grade

    level = strong_level() if isolated else "process"
    token = uuid.uuid4().hex
    files = {}
    for role in ("hider", "seeker"):
        files[role] = tmp_path / role / f"{MASK}.py"
        files[role].parent.mkdir()
        files[role].write_text(SNOOP.replace("ROLE_HERE", role).replace("TOKEN_HERE", token))
    with context(sandbox=level) as ctx, ThreadPoolExecutor(2) as pool:  # one zygote forks both
        hider = pool.submit(grade, MASK, files["hider"], context=ctx)
        seeker = pool.submit(grade, MASK, files["seeker"], context=ctx)
        assert "hid" in hider.result().message
        message = seeker.result().message
    if isolated:
        assert "SEEN files=[] processes=0" in message, message
    else:
        assert f"judge-secret-{token}" in message, message


def test_a_learner_killing_the_zygote_does_not_fail_the_next_learner(unconfined):
    """Only the unconfined process level of a judge that is not root lets a learner reach the zygote (a root
    judge's learner has a uid of its own); either way the next sandbox gets a new zygote."""
    import signal

    from grader import grade

    killer = HOSTILE / "kill_zygote.py"
    with context(sandbox="process") as ctx:
        zygote = ctx.zygote()
        before = zygote.pid
        first = grade(MASK, killer, context=ctx)
        if os.geteuid() == 0:
            assert first.status.value == "error" and "Operation not permitted" in first.message, first.message
            assert zygote.pid == before
            os.kill(before, signal.SIGKILL)  # as the learner of a judge that is not root does
        else:
            assert first.status.value == "wrong_answer"  # it ran, killed the zygote, and returned zeros
        stat = Path(f"/proc/{before}/stat")
        deadline = time.monotonic() + 5
        while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"  # dead, maybe not reaped
        again = grade(MASK, ctx.problems.reference_path(MASK), context=ctx)
        assert again.status.value == "passed", again.message
        assert ctx.zygote() is zygote and zygote.pid != before  # the same zygote, started again
