"""Batch throughput: `judge batch` on a generated class against a naive judge, in the same run.

Usage: python bench/throughput.py [--learners N] [--naive-sample F] [--workers W] [--smoke]
       python bench/throughput.py --executor-compare [--learners N]   (local against Ray, same class)

The class mixes correct files (the variants in tests/submissions), wrong ones (each declared
pitfall), missing files, crashing and a few looping submissions. `judge batch` grades it from cold
caches (its own warm-up included). The naive judge runs one fresh sandboxed `judge run` per
submission with empty caches (no expected outputs, no compiled code) and XLA's default compiler
settings, W at a time, on a sample
of the submissions (every kind and problem in proportion), and its time is scaled to the class.
Peak memory: each sandbox's peak as its result records it (`peak_memory_mb`), and the whole batch's
(the judge and all its children: RSS and PSS) sampled every 0.5 s.
"""

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from conftest import Sampler, descendants, pitfall_submission  # noqa: E402

from common import SMOKE, clean_env, judge_path, machine  # noqa: E402

from grader.context import Context  # noqa: E402

PROBLEMS = Context.from_environment().problems  # the set `judge batch` grades: the built-in one ($JUDGE_PROBLEMS)

CRASH = "import os\n\n\ndef {fn}(*args, **kwargs):\n    os._exit(3)\n"
LOOP = "def {fn}(*args, **kwargs):\n    while True:\n        pass\n"
# Each kind of (learner, problem) up to a share of the class, in order; the rest loop. "issue30": 6% missing, and of
# the files handed in 70% correct, 25% wrong, 5% crashing or looping (issue 30's class of 200 x 5: 940 files).
MIXES = {
    "default": [("correct", 0.65), ("wrong", 0.87), ("missing", 0.94), ("crash", 0.995)],
    "issue30": [("correct", 0.658), ("wrong", 0.893), ("missing", 0.953), ("crash", 0.988)],
}
# Five problems for issue 30's rows: the three Flax ones (the slowest to grade) and two jnp/NumPy ones.
FIVE = ["scaled_dot_product_attention", "cross_attention_mask", "mha_cross", "mha_self", "decoder_layer"]


def make_class(
    root: Path, learners: int, ids: list[str], seed: int = 0, mix: str = "default"
) -> dict[tuple[str, str], str]:
    rng = random.Random(seed)
    kinds = {}
    scratch = root / "pitfalls"
    scratch.mkdir()
    for n in range(learners):
        student = f"learner{n:03d}"
        (root / "class" / student).mkdir(parents=True)
        for pid in ids:
            fn = PROBLEMS.load(pid).meta.function
            r = rng.random()
            kind = next((k for k, upto in MIXES[mix] if r < upto), "loop")
            kinds[(student, pid)] = kind
            target = root / "class" / student / f"{pid}.py"
            if kind == "correct":
                shutil.copy(rng.choice(sorted((ROOT / "tests" / "submissions" / pid).glob("correct_*.py"))), target)
            elif kind == "wrong":
                name = rng.choice(sorted(PROBLEMS.pitfall_messages(PROBLEMS.load(pid))))
                shutil.copy(pitfall_submission(pid, name, scratch), target)
            elif kind == "crash":
                target.write_text(CRASH.format(fn=fn))
            elif kind == "loop":
                target.write_text(LOOP.format(fn=fn))
            if target.exists():  # every file unique, as in a real class: nothing may be reused by its bytes alone
                target.write_text(f"# {student}\n" + target.read_text())
    return kinds


def tree_memory() -> tuple[int, int]:
    """RSS and PSS in kB of this process and all its descendants: RSS counts pages shared between processes
    (a zygote's imported libraries in every learner forked from it) in each, PSS splits them between the
    processes that share them (what the machine really spends)."""
    rss = pss = 0
    for d in [Path(f"/proc/{os.getpid()}"), *descendants().values()]:
        try:
            fields = dict(line.split(":", 1) for line in (d / "smaps_rollup").read_text().splitlines() if ":" in line)
        except (OSError, ValueError):
            continue
        rss += int(fields.get("Rss", "0 kB").split()[0])
        pss += int(fields.get("Pss", "0 kB").split()[0])
    return rss, pss


def verdict(result: dict) -> tuple:
    """What a grade is: the status and score of the submission and of each case."""
    return result["status"], result["score"], tuple((c["status"], c["score"]) for c in result["cases"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--naive-sample", type=float, default=0.1, help="fraction of submissions the naive judge runs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--smoke", action="store_true", help="3 learners, 2 problems (for CI)")
    parser.add_argument(
        "--judge-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set for the batch only (to time it with one lever off, e.g. JUDGE_EAGER=1); repeatable",
    )
    parser.add_argument("--no-naive", action="store_true", help="time the batch only")
    parser.add_argument("--problems", help="comma-separated problem ids, or 'five' (issue 30's); default: every one")
    parser.add_argument("--mix", choices=sorted(MIXES), default="default", help="the kinds' shares in the class")
    parser.add_argument(
        "--executor-compare",
        action="store_true",
        help="grade the class with the local and the Ray executor only, each from cold caches",
    )
    args = parser.parse_args()
    judge = judge_path()
    chosen = FIVE if args.problems == "five" else args.problems.split(",") if args.problems else PROBLEMS.ids()
    ids = SMOKE if args.smoke else chosen
    learners = 3 if args.smoke else args.learners
    root = Path(tempfile.mkdtemp(prefix="judge-bench-"))
    kinds = make_class(root, learners, ids, mix=args.mix)
    print(machine())
    env = clean_env(JUDGE_CACHE_DIR=str(root / "cache"), **dict(kv.split("=", 1) for kv in args.judge_env))
    print(
        f"class: {learners} learners x {len(ids)} problems = {len(kinds)} pairs; "
        + ", ".join(
            f"{k} {sum(v == k for v in kinds.values())}" for k in ("correct", "wrong", "missing", "crash", "loop")
        )
    )

    if args.executor_compare:
        for executor in ("local", "ray"):
            run_env = clean_env(JUDGE_CACHE_DIR=str(root / f"cache-{executor}"))
            start = time.perf_counter()
            proc = subprocess.run(
                [
                    judge,
                    "batch",
                    str(root / "class"),
                    "--out",
                    str(root / f"out-{executor}"),
                    "--workers",
                    str(args.workers),
                    "--executor",
                    executor,
                ],
                env=run_env,
                capture_output=True,
                text=True,
            )
            took = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(proc.stderr[-3000:])
            print(f"executor {executor}: {took:.1f} s for {len(kinds)} pairs ({len(kinds) / took:.2f} pairs/s)")
        same = (root / "out-local" / "grades.csv").read_text() == (root / "out-ray" / "grades.csv").read_text()
        print(f"grades.csv identical: {same}")
        shutil.rmtree(root, ignore_errors=True)
        return

    with Sampler(tree_memory, every=0.5) as memory:  # walking /proc takes CPU from the batch: not too often
        start = time.perf_counter()
        proc = subprocess.run(
            [judge, "batch", str(root / "class"), "--out", str(root / "out"), "--workers", str(args.workers)],
            env=env,
            capture_output=True,
            text=True,
        )
        batch_s = time.perf_counter() - start
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the judge's, as /usr/bin/time shows it
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    peaks = []
    for f in (root / "out" / ".results").rglob("*.json"):
        mb = json.loads(f.read_text())["result"].get("peak_memory_mb")
        if mb:
            peaks.append(mb)

    print(
        f"judge batch: {batch_s:.1f} s for {len(kinds)} pairs ({len(kinds) / batch_s:.1f} pairs/s), "
        f"{args.workers} workers"
    )
    print(
        f"peak memory per sandbox (its result's peak_memory_mb): median {statistics.median(peaks):.0f} MB, "
        f"max {max(peaks):.0f} MB; "
        f"the whole batch (judge and all its processes): RSS {memory.peak[0] / 1024:.0f} MB, "
        f"PSS {memory.peak[1] / 1024:.0f} MB; its largest process (the judge) max RSS {largest:.0f} MB"
    )
    if args.no_naive:
        shutil.rmtree(root, ignore_errors=True)
        return

    handed_in = [(s, p) for (s, p), k in kinds.items() if k != "missing"]
    rng = random.Random(1)
    by_group = {}
    for pair in handed_in:
        by_group.setdefault((pair[1], kinds[pair]), []).append(pair)
    sample = [
        p for group in by_group.values() for p in rng.sample(group, max(1, round(len(group) * args.naive_sample)))
    ]
    if args.smoke:
        sample = handed_in

    def naive(pair):
        student, pid = pair
        cache = tempfile.mkdtemp(dir=root)
        # JAX's own compiler settings, not the judge's faster ones (an empty XLA_FLAGS keeps XLA's defaults), and
        # the learner's function called as written, eagerly, with no compile service: nothing shared, nothing traced.
        began = time.perf_counter()
        proc = subprocess.run(
            [judge, "run", pid, "--file", str(root / "class" / student / f"{pid}.py"), "--json"],
            env=clean_env(JUDGE_CACHE_DIR=cache, XLA_FLAGS="", JUDGE_EAGER="1", JUDGE_COMPILE_SERVICE="0"),
            capture_output=True,
        )
        took = time.perf_counter() - began
        shutil.rmtree(cache, ignore_errors=True)
        return verdict(json.loads(proc.stdout)), took

    start = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        naive_runs = list(pool.map(naive, sample))
    naive_sample_s = time.perf_counter() - start
    naive_verdicts = [v for v, _ in naive_runs]
    # Each group's mean run time, weighted by the group's size in the class, W runs at a time: a group the sample
    # holds more of than the class does (every group has at least one: the rare loops) weighs only its share.
    took = dict(zip(sample, (t for _, t in naive_runs)))
    naive_s = (
        sum(len(group) * statistics.mean(took[p] for p in group if p in took) for group in by_group.values())
        / args.workers
    )

    print(
        f"naive judge: {naive_sample_s:.1f} s for a sample of {len(sample)} of {len(handed_in)} submissions "
        f"-> {naive_s:.1f} s for the class (each group's mean run, weighted by its size, {args.workers} at a time)"
    )
    print(f"speed-up: {naive_s / batch_s:.1f}x")
    batch_verdicts = [
        verdict(json.loads((root / "out" / ".results" / s / f"{p}.json").read_text())["result"]) for s, p in sample
    ]
    differ = [(pair, b, n) for pair, b, n in zip(sample, batch_verdicts, naive_verdicts) if b != n]
    print(f"verdicts identical on the naive sample: {len(sample) - len(differ)}/{len(sample)}")
    for pair, b, n in differ:
        print(f"  {pair}: batch {b}, naive {n}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
