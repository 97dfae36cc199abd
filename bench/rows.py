"""Issue 30's table, one row a command: each prints its figures with the machine and the commit.

Usage: python bench/rows.py --row ROW [--smoke]
  batch20      `judge batch` 20 learners x 5 problems, every file unique, against the naive judge on every file
  batch200     `judge batch` 200 learners x 5 problems (940 files: 70% correct, 25% wrong, 5% loops/crashes)
  check        `judge check` of every built-in problem, 200 secrets each: wall time, max RSS
  check-one    `judge check mha_cross`: wall time, max RSS
  first-check  `check_function` on a correct mha_cross: its first and second call in a fresh process, twice
  run          `judge run mha_cross` against the learner's own script calling the function

Every row starts from an empty cache. The batch rows are bench/throughput.py's (its verdicts compared with the
naive judge's), the run row bench/overhead.py's. The check rows print a digest of `judge check`'s report (this
checkout's path left out): the same digest before and after a change means every check's verdict and detail
stayed what it was. `--smoke`: tiny sizes, on problems with NumPy references (`common.SMOKE`), for
tests/test_bench.py.
"""

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from common import SMOKE, clean_env, judge_path, machine  # noqa: E402
from conftest import Sampler  # noqa: E402
from throughput import tree_memory  # noqa: E402

from grader.context import Context  # noqa: E402

FIRST_CHECK = """import importlib.util, json, sys, time
began = time.perf_counter()
from grader import check_function
imported = time.perf_counter()
spec = importlib.util.spec_from_file_location("learner", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
times, results = [], []
for _ in range(2):
    start = time.perf_counter()
    results.append(check_function(sys.argv[2], getattr(module, sys.argv[3])))
    times.append(time.perf_counter() - start)
print("ROW " + json.dumps({"import_s": imported - began, "calls_s": times, "passed": [r.passed for r in results],
    "counted_s": [r.time_s for r in results], "compile_s": [r.compile_s for r in results]}))
"""
MHA_CORRECT = ("mha_cross", "correct_keywords.py")
# The expected outputs are on disk before the fresh process starts, as a kit ships them: the first call then
# compiles only the learner's code (computed in that process, the reference would compile it first).
WARM = "import sys; from grader import check_function; check_function(sys.argv[1], lambda *a: None)"


def bench(script: str, *args: str) -> None:
    """Another bench of this folder, its output passed through."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args])
    if proc.returncode:
        sys.exit(proc.returncode)


def check(problem: str | None, secrets: int) -> None:
    """`judge check`, from an empty cache: its time, the most memory one of its processes held (what /usr/bin/time
    shows), the whole tree's peak, and its report's digest."""
    with tempfile.TemporaryDirectory(prefix="judge-bench-") as cache:
        cmd = [judge_path(), "check", *([problem] if problem else []), "--secrets", str(secrets)]
        env = clean_env(JUDGE_CACHE_DIR=cache, COLUMNS="200")  # one width: the report's lines wrap alike
        with Sampler(tree_memory, every=0.5) as memory:
            start = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            took = time.perf_counter() - start
    out, err = proc.stdout, proc.stderr
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # its only child: the judge's tree
    report = out.replace(str(ROOT), "<root>")
    print(f"$ {' '.join(cmd[1:])} (empty cache)")
    print(report.strip().splitlines()[-1] if report.strip() else err[-2000:])
    print(
        f"judge check: {took:.1f} s; max RSS of one process {largest:.0f} MB; the whole tree's peak "
        f"RSS {memory.peak[0] / 1024:.0f} MB, PSS {memory.peak[1] / 1024:.0f} MB"
    )
    print(f"report digest: {hashlib.sha256(report.encode()).hexdigest()[:16]} (exit {proc.returncode})")


def first_check(problem: str, correct: Path) -> None:
    """check_function's first and second call on a correct file in a fresh process, from an empty cache; then the
    same in another fresh process, as a learner's next kernel (what the first compiled kept on disk)."""
    function = Context.from_environment().problems.load(problem).meta.function
    with tempfile.TemporaryDirectory(prefix="judge-bench-") as cache:
        env = clean_env(JUDGE_CACHE_DIR=cache)
        subprocess.run([sys.executable, "-c", WARM, problem], env=env, capture_output=True)
        for kernel in ("a fresh process", "the next fresh process"):
            proc = subprocess.run(
                [sys.executable, "-c", FIRST_CHECK, str(correct), problem, function],
                env=env,
                capture_output=True,
                text=True,
            )
            row = next((line[4:] for line in proc.stdout.splitlines() if line.startswith("ROW ")), None)
            if row is None:
                sys.exit(proc.stdout[-2000:] + proc.stderr[-2000:])
            got = json.loads(row)
            (first, second), counted, compiled = got["calls_s"], got["counted_s"], got["compile_s"]
            print(
                f"{kernel}: check_function({problem!r}, correct): first call {first:.2f} s, second {second:.2f} s "
                f"(import of grader {got['import_s']:.2f} s before them); passed: {got['passed']}"
            )
            print(
                f"  counted against the limit: first {counted[0]:.2f} s, second {counted[1]:.2f} s; "
                f"JAX compiling, not counted: first {compiled[0] or 0:.2f} s, second {compiled[1] or 0:.2f} s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    rows = ["batch20", "batch200", "check", "check-one", "first-check", "run"]
    parser.add_argument("--row", choices=rows, required=True)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for CI)")
    args = parser.parse_args()
    smoke = ["--smoke"] if args.smoke else []
    print(f"row {args.row}{' (smoke)' if args.smoke else ''}")
    if args.row == "batch20":
        bench("throughput.py", "--learners", "20", "--problems", "five", "--naive-sample", "1", *smoke)
    elif args.row == "batch200":
        bench("throughput.py", "--learners", "200", "--problems", "five", "--mix", "issue30", "--no-naive", *smoke)
    elif args.row == "first-check":
        print(machine())
        problem, name = (SMOKE[1], "correct_jax.py") if args.smoke else MHA_CORRECT
        first_check(problem, ROOT / "tests" / "submissions" / problem / name)
    elif args.row == "run":
        bench("overhead.py", "--problems", "mha_cross", *smoke)
    else:
        print(machine())
        # smoke: one problem, one secret (the whole set's check takes minutes)
        everything = args.row == "check" and not args.smoke
        check(None if everything else SMOKE[0] if args.smoke else "mha_cross", 1 if args.smoke else 200)


if __name__ == "__main__":
    main()
