"""One process per learner for all their problems, against one process per (learner, problem): JAX's share.

Usage: python bench/one_process.py [--learners N] [--smoke]

Measures what grading a learner's whole set of problems in one sandboxed process would save, before
the judge is changed for it. Outside any sandbox and without the judge: a parent that has imported
numpy, JAX and Flax with the judge's XLA settings (as the zygote has) forks, for each learner of
`throughput.py`'s generated class, one child per problem and then one child for all the problems,
alternately; each child imports the learner's file and calls it on every case as the sandbox does
(`traced.traced_call`: compiled whole with `jax.jit` where that gives the eager call's outcome, else
eagerly, from then on). The compilation cache is a fresh folder
that a first pass over the class fills, so every timed child finds its programs compiled, as a batch's
later learners do. Crashing and looping files are left out (they end or hold a process either way).
"""

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from grader.context import Context  # noqa: E402

CONTEXT = Context.from_environment()  # the built-in set ($JUDGE_PROBLEMS: another), the cache and XLA flags

Job = tuple[str, Path, str, list[str], list[dict]]  # problem, file, function, argument names, inputs


def jobs_of(folder: Path) -> list[Job]:
    from grader.sets.hidden import grading_cases
    from grader.sets.inputs import make_inputs

    problems = CONTEXT.problems
    jobs = []
    for path in sorted(folder.glob("*.py")):
        text = path.read_text()
        if "os._exit" in text or "while True" in text:
            continue
        problem = problems.load(path.stem)
        inputs = [make_inputs(problem.meta, c) for c in grading_cases(problem, problems, None)]
        jobs.append((path.stem, path, problem.meta.function, [a.name for a in problem.meta.args], inputs))
    return jobs


def grade_in_this_process(jobs: list[Job]) -> None:
    """Each case as `runner.run_job` calls it: compiled whole where `traced` allows, else eagerly."""
    import jax

    from grader.child import runner, traced

    for pid, path, function, arg_names, inputs in jobs:
        spec = importlib.util.spec_from_file_location(f"learner_{pid}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            fn = getattr(module, function)
        except Exception:
            continue
        eager = False
        for kwargs in inputs:
            used = False
            if not eager:
                used, _, _ = traced.traced_call(jax, runner.call, fn, arg_names, kwargs)
                eager = not used
            if not used:
                try:
                    runner.call(fn, arg_names, kwargs)
                except Exception:
                    pass


def in_child(jobs: list[Job]) -> float:
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            grade_in_this_process(jobs)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="2 learners, 2 problems (for CI)")
    args = parser.parse_args()
    from throughput import make_class

    ids = CONTEXT.problems.ids()[:2] if args.smoke else CONTEXT.problems.ids()
    learners = 2 if args.smoke else args.learners
    with tempfile.TemporaryDirectory(prefix="judge-bench-") as tmp:
        root = Path(tmp)
        make_class(root, learners, ids)
        os.environ["XLA_FLAGS"] = CONTEXT.cache.xla_flags  # $XLA_FLAGS, else the judge's own
        os.environ["JAX_PLATFORMS"] = "cpu"
        import flax.linen  # noqa: F401
        import jax

        for name, value in {
            "jax_compilation_cache_dir": str(root / "xla"),
            "jax_persistent_cache_enable_xla_caches": "none",
            "jax_persistent_cache_min_compile_time_secs": 0,
            "jax_persistent_cache_min_entry_size_bytes": -1,
        }.items():
            jax.config.update(name, value)
        classes = sorted((root / "class").iterdir())
        jobs = {folder.name: jobs_of(folder) for folder in classes}
        for learner in jobs.values():  # fills the cache; the parent itself never starts JAX's backend
            in_child(learner)
        apart = together = 0.0
        for name, learner in jobs.items():
            one_each = sum(in_child([job]) for job in learner)
            all_in_one = in_child(learner)
            apart, together = apart + one_each, together + all_in_one
            print(f"{name}: {len(learner)} problems, one process each {one_each:.2f} s, one process {all_in_one:.2f} s")
        saved = 1 - together / apart if apart else 0.0
        print(f"one process per problem: {apart:.1f} s; one process per learner: {together:.1f} s ({saved:.0%} less)")


if __name__ == "__main__":
    main()
