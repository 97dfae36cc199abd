"""Running batch tasks on a Ray cluster: the same `grade_submission`, scheduled by Ray.

Each task carries its submission's bytes, and the judge's own packages (grader,
problems, reference) travel to every node as the job's working_dir, so no file
system is assumed shared. On the node, each task grades in the same sandbox as
a local run (bwrap where that node has it).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from grader.batch import Task, grade_submission
from grader.models import Result, Status

PACKAGES = ("grader", "problems", "reference")


def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


def _bundle(into: Path) -> Path:
    from grader.problems import ROOT

    for name in PACKAGES:
        shutil.copytree(ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return into


def _remote_grade(task: Task, options: dict) -> dict:
    return grade_submission(task, **options).model_dump(mode="json")


def _failed(task: Task, error: BaseException) -> Result:
    """A task Ray could not run: the judge's fault, never the learner's."""
    from grader import problems
    from grader.grading import uniform_result

    problem = problems.load_problem(task.problem)
    return uniform_result(problem, Path(task.student) / f"{task.problem}.py", list(problem.cases),
                          Status.INTERNAL_ERROR, f"internal error: the Ray task failed: {type(error).__name__}: "
                          f"{str(error).strip().splitlines()[-1] if str(error).strip() else ''}", problem.meta.limits)


def run_ray(tasks: list[Task], keys: dict, options: dict, workers: int, *, address: str | None = None):
    """Yield (task, key, result) as Ray tasks finish; a local cluster of `workers` CPUs without an address."""
    import ray

    with tempfile.TemporaryDirectory(prefix="judge-ray-") as tmp:
        env = {k: os.environ[k] for k in ("JUDGE_CACHE_DIR",) if k in os.environ}
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, runtime_env={"working_dir": str(_bundle(Path(tmp))), "env_vars": env})
        try:
            grade_remote = ray.remote(num_cpus=1, max_retries=0)(_remote_grade)
            refs = {grade_remote.remote(task, options): task for task in tasks}
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                task = refs[done[0]]
                try:
                    result = Result.model_validate(ray.get(done[0]))
                except Exception as e:
                    result = _failed(task, e)
                yield task, keys[task], result
        finally:
            for ref in refs:
                ray.cancel(ref, force=True)
            ray.shutdown()
