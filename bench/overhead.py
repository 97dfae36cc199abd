"""`judge run` overhead: its wall time minus a plain script's on the same submission and inputs.

Usage: python bench/overhead.py [--reps N] [--problems ID,ID] [--smoke]
For each problem, a correct submission is graded with `judge run ID --file F --json` and run by
bench/plain_call.py on the same inputs, alternately, N times each; the medians are compared.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from common import SMOKE, clean_env, judge_path, machine  # noqa: E402

from grader.context import Context  # noqa: E402
from grader.sets.inputs import make_inputs  # noqa: E402


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=clean_env())
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one repetition of two NumPy problems (for CI)")
    parser.add_argument("--problems", help="comma-separated problem ids (default: every one)")
    args = parser.parse_args()
    problems = Context.from_environment().problems  # the built-in set ($JUDGE_PROBLEMS: another)
    ids = args.problems.split(",") if args.problems else problems.ids()
    ids = ids if not args.smoke else [i for i in ids if i in SMOKE] or ids[:1]
    reps = 1 if args.smoke else args.reps
    judge = judge_path()
    tmp = Path(tempfile.mkdtemp())
    print(machine())
    print(f"{'problem':30s} {'judge s':>8s} {'plain s':>8s} {'overhead s':>10s}")
    overheads = []
    for pid in ids:
        problem = problems.load(pid)
        submission = sorted((ROOT / "tests" / "submissions" / pid).glob("correct_*.py"))[0]
        arrays, scalars = {}, []
        for i, case in enumerate(problem.cases):
            x = make_inputs(problem.meta, case)
            scalars.append({k: v for k, v in x.items() if not isinstance(v, np.ndarray)})
            arrays.update({f"{i}.{k}": v for k, v in x.items() if isinstance(v, np.ndarray)})
        inputs = tmp / f"{pid}.npz"
        np.savez(inputs, __scalars__=np.frombuffer(json.dumps(scalars).encode(), np.uint8), **arrays)
        judge_cmd = [judge, "run", pid, "--file", str(submission), "--json"]
        plain_cmd = [
            sys.executable,
            str(ROOT / "bench" / "plain_call.py"),
            str(inputs),
            str(submission),
            problem.meta.function,
        ]
        timed(judge_cmd)  # fills the caches of expected outputs and compiled code, as any second run finds them
        j, p = [], []
        for _ in range(reps):
            j.append(timed(judge_cmd))
            p.append(timed(plain_cmd))
        jm, pm = statistics.median(j), statistics.median(p)
        overheads.append(jm - pm)
        print(f"{pid:30s} {jm:8.2f} {pm:8.2f} {jm - pm:10.2f}")
    print(f"median overhead: {statistics.median(overheads):.2f} s, worst: {max(overheads):.2f} s")


if __name__ == "__main__":
    main()
