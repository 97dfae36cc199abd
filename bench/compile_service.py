"""What the compile service saves: two learners with the same file, graded one after the other.

Usage: python bench/compile_service.py [--reps 3] [--pairs PROBLEM:FILE,...] [--smoke]

For each pair (problem, a correct file from tests/submissions), a class of two learners handing in
that same file is graded by `judge batch --workers 1` from a cold cache, with the compile service
off (JUDGE_COMPILE_SERVICE=0) and on, alternately, `--reps` times each. Each learner's file gets a
prelude that times, inside its own sandbox, JAX's two steps after lowering: every compile it does
itself or through the service (`_compile_and_write_cache`, called on a cache miss) and every cache
lookup (`_cache_read`, hits and misses). Printed: the medians of each learner's sandbox time (the
result's `time_s`) and of those per-program costs.
"""

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import clean_env, judge_path  # noqa: E402

from grader.context import Context  # noqa: E402

PAIRS = (
    "decoder_layer:correct_jax_float32.py",  # eager jnp; the reference is NumPy: nothing of it is cached
    "cross_attention_block:correct_jax_float32.py",
    "mha_cross:correct_keywords.py",  # Flax, as the reference: its programs are cached by the reference
)
PRELUDE = """import sys as _s, time as _t
from jax._src import compiler as _c
_st = {"miss": 0, "miss_s": 0.0, "lookup": 0, "lookup_s": 0.0, "hit": 0}
def _timed(step, count, hits=False):
    def run(*a):
        t = _t.perf_counter(); r = step(*a); _st[count] += 1; _st[count + "_s"] += _t.perf_counter() - t
        if hits: _st["hit"] += r[0] is not None
        return r
    return run
_c._compile_and_write_cache = _timed(_c._compile_and_write_cache, "miss")
_c._cache_read = _timed(_c._cache_read, "lookup", hits=True)
"""
EPILOGUE = """
_fn = {fn}


def {fn}(*args, **kwargs):
    out = _fn(*args, **kwargs)
    print("BENCH", _st, file=_s.__stderr__, flush=True)
    return out
"""


def grade_twice(judge: str, problem: str, source: Path, service: str, root: Path) -> list[dict]:
    """Learners a and b, the same file, one after the other; their time_s and per-program figures."""
    work = Path(tempfile.mkdtemp(dir=root))
    for learner in ("a", "b"):
        (work / "class" / learner).mkdir(parents=True)
        fn = Context.from_environment().problems.load(problem).meta.function
        (work / "class" / learner / f"{problem}.py").write_text(PRELUDE + source.read_text() + EPILOGUE.format(fn=fn))
    env = clean_env(JUDGE_CACHE_DIR=str(work / "cache"), JUDGE_COMPILE_SERVICE=service)
    cmd = [judge, "batch", str(work / "class"), "--out", str(work / "out"), "--problems", problem, "--workers", "1"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    rows = []
    for learner in ("a", "b"):
        result = json.loads((work / "out" / ".results" / learner / f"{problem}.json").read_text())["result"]
        stats = re.findall(r"BENCH (\{.*\})", result["stderr"])
        figures = json.loads(stats[-1].replace("'", '"')) if stats else {}
        rows.append({"time_s": result["time_s"], "status": result["status"], **figures})
    shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pairs", default=",".join(PAIRS))
    parser.add_argument("--smoke", action="store_true", help="one rep of the first pair (for CI)")
    args = parser.parse_args()
    pairs = [p.split(":") for p in args.pairs.split(",")][: 1 if args.smoke else None]
    reps = 1 if args.smoke else args.reps
    judge, root = judge_path(), Path(tempfile.mkdtemp(prefix="judge-bench-"))
    for problem, name in pairs:
        source = ROOT / "tests" / "submissions" / problem / name
        runs: dict[str, list[list[dict]]] = {"0": [], "1": []}
        for _ in range(reps):
            for service in ("0", "1"):
                runs[service].append(grade_twice(judge, problem, source, service, root))
        print(f"{problem} ({name}), medians of {reps}:")
        for service, label in (("0", "service off"), ("1", "service on")):
            for i, learner in enumerate(("a (first)", "b (second)")):
                rows = [r[i] for r in runs[service]]

                def med(key: str, rows: list[dict] = rows) -> float:
                    return statistics.median(r.get(key, 0) for r in rows)

                per_miss = med("miss_s") / med("miss") * 1000 if med("miss") else 0.0
                per_lookup = med("lookup_s") / med("lookup") * 1000 if med("lookup") else 0.0
                print(
                    f"  {label:11} learner {learner:10}: {med('time_s'):5.2f} s in the sandbox; "
                    f"{med('miss'):4.0f} compiles, {per_miss:5.1f} ms each; "
                    f"{med('lookup'):4.0f} lookups ({med('hit'):.0f} hits), {per_lookup:4.1f} ms each "
                    f"[{', '.join(sorted({r['status'] for r in rows}))}]"
                )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
