"""Where a batch's tasks run: one small interface, a local executor, and Ray behind the same interface.

An executor takes the tasks, the grading options, a worker count and the batch's context, and yields (task,
result) as each finishes, in any order. It never raises for one task: a task it cannot run comes back as an
executor failure with every case of a grading, so every executor gives the same cases and max_score. A batch
opens its executor once for all its calls (`open_executor`): the Ray one holds a connection until then.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

from grader.batch.tasks import Options, Task, executor_failure, failed_task, grade_task
from grader.context import Context
from grader.model.errors import UsageError
from grader.model.verdict import Result

Executor = Callable[[list[Task], Options, int, Context], Iterator[tuple[Task, Result]]]
NAMES = ("local", "ray")


def run_local(tasks: list[Task], options: Options, workers: int, context: Context) -> Iterator[tuple[Task, Result]]:
    """Threads on this machine, each driving one sandbox at a time, all forked from the context's zygote."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(grade_task, t, context, options): t for t in tasks}
        try:
            for future in as_completed(futures):
                task = futures[future]
                try:
                    result = future.result()
                except Exception as e:  # the pipeline turns its own failures into results: this is a bug around it
                    result = failed_task(task, context, options, executor_failure("local", e))
                yield task, result
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


def open_executor(name: str, address: str | None = None) -> contextlib.AbstractContextManager[Executor]:
    """The executor called `name`, for a `with` block that releases what it holds; a usage error names what is
    missing."""
    if name == "local":
        return contextlib.nullcontext(run_local)
    if name == "ray":
        if not ray_available():
            raise UsageError("--executor ray needs Ray: pip install 'judge[ray]'")
        from grader.batch.ray_executor import RayExecutor

        return RayExecutor(address)
    raise UsageError(f"unknown executor {name!r}; choose {' or '.join(NAMES)}")
