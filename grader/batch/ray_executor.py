"""Running batch tasks on a Ray cluster: the same grading, scheduled by Ray.

Nothing of the instructor's machine is assumed on a node but what the job carries: each task carries its
hand-in's bytes, and the job's working_dir carries the judge's package and the problem set the batch grades (a
course's own set as well as the built-in one), which the options name by their place in it. A node therefore
grades exactly the problem the instructor meant, whatever its environment, even where a course's problem
reuses a built-in id. On the node, each task grades in the same sandbox as a local run (bwrap where that node
has it), with one context per worker process: its zygote is started once and kept for the worker's tasks.
"""

from __future__ import annotations

import atexit
import collections
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.batch.tasks import Options, Task, executor_failure, failed_task, grade_task
from grader.context import Context
from grader.model.cache import Cache
from grader.model.errors import UsageError
from grader.model.verdict import Result
from grader.sets.store import ROOT, open_set

SET = "judge_set"  # where the batch's problem set lies in the job's working_dir
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def _bundle(into: Path, context: Context) -> Path:
    """The job's working_dir: the judge's package and the batch's problem set (its problems and references)."""
    shutil.copytree(ROOT / "grader", into / "grader", ignore=IGNORED)
    for name in ("problems", "reference"):
        folder = context.problems.root / name
        if folder.is_dir():
            shutil.copytree(folder, into / SET / name, ignore=IGNORED)
    return into


# A worker process grades many tasks: its contexts (one per set, cache and level), kept until it exits.
_contexts: dict[tuple[str, str, str, str], Context] = {}
_contexts_lock = threading.Lock()


def _context(options: Options) -> Context:
    key = (options.set_root, options.cache_root, options.xla_flags, options.level)
    with _contexts_lock:
        if key not in _contexts:
            cache = Cache(Path(options.cache_root), options.xla_flags)
            _contexts[key] = Context(open_set(Path(options.set_root), cache), cache, options.level)
            if len(_contexts) == 1:
                atexit.register(_close_contexts)
        return _contexts[key]


def _close_contexts() -> None:
    for context in _contexts.values():
        context.close()


def _remote_grade(task: Task, options: Options) -> dict[str, Any]:
    """What a Ray task runs, on the node, in the job's working_dir (its current folder)."""
    return grade_task(task, _context(options), options).model_dump(mode="json")


class RayExecutor:
    """Yield (task, result) as Ray tasks finish; a local cluster of `workers` CPUs without an address.

    A context manager: connected on the first call and kept until the `with` block ends. A batch calls its
    executor again for the timeouts it grades alone, and connecting again failed under load ("Failed to connect
    to Ray cluster", twice in the suite), which ended the batch. On a local cluster of its own, at most `workers`
    tasks run at a time."""

    def __init__(self, address: str | None = None):
        self.address = address
        self._bundle: tempfile.TemporaryDirectory[str] | None = None  # what the job carries, while connected

    def _connect(self, workers: int, context: Context) -> None:
        import ray

        if self._bundle is not None:
            return
        self._bundle = tempfile.TemporaryDirectory(prefix="judge-ray-")
        try:
            ray.init(
                # Without an address, a local cluster of our own: "local", as Ray's default would join any cluster
                # $RAY_ADDRESS names or one it finds running on this machine.
                address=self.address or "local",
                num_cpus=None if self.address else workers,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"working_dir": str(_bundle(Path(self._bundle.name), context))},
            )
        except (ConnectionError, ValueError, RuntimeError) as e:  # an address Ray cannot reach or read
            self.close()
            where = f"connect to the Ray cluster at {self.address}" if self.address else "start a local Ray cluster"
            raise UsageError(f"could not {where}: {e}") from None

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect (a local cluster stops) and drop the job's bundle; the next call connects again."""
        import ray

        if self._bundle is None:
            return
        ray.shutdown()
        self._bundle.cleanup()
        self._bundle = None

    def __call__(
        self, tasks: list[Task], options: Options, workers: int, context: Context
    ) -> Iterator[tuple[Task, Result]]:
        import ray

        self._connect(workers, context)
        remote_options = replace(options, set_root=SET)  # relative: the set's copy in each node's working_dir
        window = len(tasks) if self.address else max(1, workers)  # a cluster of its own: --workers at a time
        grade_remote = ray.remote(num_cpus=1, max_retries=0)(_remote_grade)
        refs: dict[Any, Task] = {}
        waiting, pending = collections.deque(tasks), list[Any]()
        try:
            while waiting or pending:
                while waiting and len(pending) < window:
                    task = waiting.popleft()
                    ref = grade_remote.remote(task, remote_options)
                    refs[ref] = task
                    pending.append(ref)
                done, pending = ray.wait(pending, num_returns=1)
                task = refs[done[0]]
                try:
                    result = Result.model_validate(ray.get(done[0]))
                except Exception as e:
                    result = failed_task(task, context, options, executor_failure("Ray", e))
                yield task, result
        finally:
            # Only the tasks not yet done: cancelling a finished one races with its reply in Ray's driver
            # (ray-project/ray#54527: "Tried to complete task that was not pending" aborts the judge).
            for ref in pending:
                ray.cancel(ref, force=True)
