"""Limits per sandbox: memory, tasks and CPU time summed over every process a learner's code starts.

Each at both levels (bwrap, process) and by both mechanisms: the sandbox's cgroup, where the judge can make one
(skipped where it cannot), and the keeper's supervision (JUDGE_NO_CGROUP=1), as on Gradescope's containers.
"""

import contextlib
import os
import time

import pytest
from conftest import HOSTILE, SUBMISSIONS, Sampler, context, descendants, strong_level

from grader.api import grade
from grader.model.problem import Limits
from grader.model.verdict import Status
from grader.sandbox import cgroups
from grader.sandbox.policy import TASKS, others_can_run_runtime

MASK = "cross_attention_mask"


@pytest.fixture(params=["bwrap", "process"])
def level(request):
    return strong_level() if request.param == "bwrap" else "process"


@pytest.fixture(params=["cgroup", "keeper"])
def mechanism(request, monkeypatch):
    if request.param == "keeper":
        monkeypatch.setenv("JUDGE_NO_CGROUP", "1")
    else:
        group = cgroups.create(2048, TASKS)
        if group is None:
            pytest.skip("the judge cannot make cgroups here")
        group.remove()
    return request.param


def private_mb() -> float:
    """Memory held by this test's processes alone (each process's private pages), as the host sees it."""
    total = 0
    for d in descendants().values():
        try:
            for line in (d / "smaps_rollup").read_text().splitlines():
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return total / 1024


def test_forked_children_are_held_to_the_memory_limit_together(level, mechanism):
    """Six forked children of 500 MB each held 3 GB under a 2048 MB limit (reported peak: 1165 MB)."""
    with Sampler(private_mb) as host:
        result = grade(MASK, HOSTILE / "fork_memory.py", sandbox=level, limits=Limits(memory_mb=2048, time_s=30))
    assert result.status is Status.MEMORY and result.limit == "memory", result.message
    assert "all the processes your code started together went over the limit of 2048 MB" in result.message
    assert 0.8 * 2048 <= result.peak_memory_mb <= 1.2 * 2048, result.peak_memory_mb
    # The keeper samples every 0.1 s: on a loaded machine the children grow further between two samples (the six
    # of them held 3000 MB and more without the limit).
    slack = 400 if mechanism == "cgroup" else 700
    assert host.peak < 2048 + slack, f"the host saw {host.peak:.0f} MB held by the sandbox"


def test_a_fork_bomb_is_stopped_by_the_task_limit(level, mechanism):
    """Up to 2000 sleepers (bounded here): the sandbox stops it at its task limit and says so."""
    before = set(descendants())  # the judge's own processes kept between gradings: shared zygotes, compile services
    start = time.monotonic()
    with Sampler(lambda: len(set(descendants()) - before)) as count:
        result = grade(MASK, HOSTILE / "fork_bomb.py", sandbox=level, limits=Limits(time_s=20))
    assert result.status is Status.CRASHED and result.limit == "tasks", result.message
    assert f"started more than {TASKS} processes and threads at once" in result.message
    assert time.monotonic() - start < 15  # stopped, not left to sleep out
    # Until the keeper's next sample, a per-uid RLIMIT_NPROC bounds the bomb where the learner has a uid of its
    # own; at the process level with a runtime under /root it has none, and only the sampling stops it.
    own_uid = os.geteuid() == 0 and (level == "bwrap" or others_can_run_runtime())
    bound = 2 * TASKS + 32 if mechanism == "cgroup" or own_uid else 1500
    assert count.peak <= bound, count.peak
    time.sleep(0.5)
    left = [
        p
        for p, d in descendants().items()
        if p not in before
        and (d / "stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
        and b"compile_server.py" not in (d / "cmdline").read_bytes()  # the judge's own, kept for later learners
    ]
    # None left sleeping (zombies of the closed zygote wait for the judge's next sweep).
    assert not left, [(descendants()[p] / "cmdline").read_bytes()[:200] for p in left]


def test_forked_busy_loops_trip_the_summed_cpu_limit(level, mechanism):
    """Four busy loops: 2 s of CPU time together well before the 20 s wall-clock limit."""
    start = time.monotonic()
    result = grade(MASK, HOSTILE / "fork_busy.py", sandbox=level, limits=Limits(time_s=20, import_s=20, cpu_s=2))
    assert result.status is Status.TIMEOUT and result.limit == "cpu", result.message
    assert "used more than the CPU time limit of 2 s (the CPU time of all the processes" in result.message
    assert result.cpu_s >= 2
    assert time.monotonic() - start < 12


def test_a_correct_submission_passes_with_its_sandbox_totals(level, mechanism):
    result = grade(MASK, SUBMISSIONS / MASK / "correct_jax.py", sandbox=level)
    assert result.status is Status.PASSED and result.limit == "", result.message
    assert 5 < result.peak_memory_mb < 1000 and 0 < result.cpu_s < 30, (result.peak_memory_mb, result.cpu_s)


LEAVE = """import os

def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    tried = []
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # the listing's own descriptor
    groups = open("/proc/self/cgroup").read()
    for line in groups.splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") or ["unified"]:
            for target in (f"/sys/fs/cgroup/{name}/cgroup.procs", f"/sys/fs/cgroup/{name}{path}/../cgroup.procs",
                           "/sys/fs/cgroup/cgroup.procs", f"/sys/fs/cgroup/{name}{path}/cgroup.procs"):
                try:
                    with open(target, "w") as f:
                        f.write(str(os.getpid()))
                    tried.append("LEFT " + target)
                except OSError as e:
                    tried.append(type(e).__name__)
    raise RuntimeError(f"STAYED groups={groups!r} fds={fds} tried={sorted(set(tried))}")
"""


def test_the_learner_cannot_leave_its_cgroup(level, mechanism, tmp_path):
    if mechanism != "cgroup":
        pytest.skip("only where the sandbox has a cgroup")
    path = tmp_path / f"{MASK}.py"
    path.write_text(LEAVE)
    result = grade(MASK, path, sandbox=level)
    message = result.cases[0].message
    assert "STAYED" in message and "LEFT" not in message and "judge-" in message, message
    assert "cgroup" not in message.split("fds=")[1].split("tried=")[0], message  # no descriptor of the group left


def test_a_cpu_limit_timeout_is_final_and_a_wall_timeout_is_regraded_alone(tmp_path, monkeypatch, mechanism):
    """A CPU-time limit does not depend on the machine's load: only wall-clock timeouts are graded again alone."""
    from grader.api import batch
    from grader.batch import run as batch_module

    runs = []
    real = batch_module.open_executor

    @contextlib.contextmanager
    def recording(*args):
        with real(*args) as run:

            def wrapped(tasks, options, workers, ctx):
                runs.append(sorted(t.student for t in tasks))
                return run(tasks, options, workers, ctx)

            yield wrapped

    monkeypatch.setattr(batch_module, "open_executor", recording)
    cls = tmp_path / "class"
    for name, source in (("busy", "fork_busy.py"), ("sleepy", "sleep_at_import.py")):
        (cls / name).mkdir(parents=True)
        (cls / name / f"{MASK}.py").write_text((HOSTILE / source).read_text())
    limits = Limits(time_s=15, import_s=3, cpu_s=1)  # busy loops in a call: far from its wall clock, even loaded
    with context() as ctx:
        report = batch(cls, tmp_path / "out", context=ctx, problem_ids=[MASK], workers=2, limits=limits)
    assert {s: (r.status, r.limit) for (s, _), r in report.results.items()} == {
        "busy": (Status.TIMEOUT, "cpu"),
        "sleepy": (Status.TIMEOUT, "wall"),
    }
    assert runs == [["busy", "sleepy"], ["sleepy"]]
