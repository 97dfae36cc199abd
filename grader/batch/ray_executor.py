"""Running batch tasks on a Ray cluster: the same `grade_submission`, scheduled by Ray.

Each task carries its submission's bytes, and the judge's own packages (grader,
problems, reference) travel to every node as the job's working_dir, so no file
system is assumed shared. On the node, each task grades in the same sandbox as
a local run (bwrap where that node has it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.model.problem import Result
from grader.batch.tasks import Options, Task, executor_failure, run_task

PACKAGES = ("grader", "problems", "reference")


def _bundle(into: Path) -> Path:
    from grader.sets.store import ROOT

    for name in PACKAGES:
        shutil.copytree(ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return into


def _remote_grade(task: Task, options: Options) -> dict[str, Any]:
    return run_task(task, options).model_dump(mode="json")


class RayExecutor:
    """Yield (task, result) as Ray tasks finish; a local cluster of `workers` CPUs without an address."""

    def __init__(self, address: str | None = None):
        self.address = address

    def __call__(self, tasks: list[Task], options: Options, workers: int) -> Iterator[tuple[Task, Result]]:
        import ray

        with tempfile.TemporaryDirectory(prefix="judge-ray-") as tmp:
            env = {k: os.environ[k] for k in ("JUDGE_CACHE_DIR",) if k in os.environ}
            ray.init(
                address=self.address,
                num_cpus=None if self.address else workers,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"working_dir": str(_bundle(Path(tmp))), "env_vars": env},
            )
            refs: dict[Any, Task] = {}
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
                        result = executor_failure(task, e, "Ray", options)
                    yield task, result
            finally:
                for ref in refs:
                    ray.cancel(ref, force=True)
                ray.shutdown()
