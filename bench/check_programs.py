"""What `judge check`'s hidden survey costs a case, and why one `jax.jit` program per case does not pay.

Usage: python bench/check_programs.py [--problem mha_cross] [--cases 8] [--smoke]
       python bench/check_programs.py --floor [--problem ID] [--cases 6] [--smoke]

Draws cases from the problem's space (a fixed seed) and runs the reference and every known mistake on each, in a
fresh process for each way: eagerly, as the judge does, and each call as one `jax.jit` program (the ints static,
the eager call where tracing fails: mistakes that compute in NumPy). Prints each way's time, the largest
difference between the two ways' outputs, and the memory one compiled program holds (a tiny `jax.jit` program
compiled for 200 sizes), with and without its lowering, which the check's memory bound drops first.

With --floor, for each problem (every one of the built-in set, or --problem): the survey's cost a case from cold
and once everything is compiled, and what 600 cases (200 secrets, 3 hidden cases each, no draw redone) cost at
least: the check's floor if compiling were free.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import SMOKE, clean_env, machine  # noqa: E402

from grader.context import Context  # noqa: E402
from grader.model.cache import XLA_FLAGS  # noqa: E402

# n cases drawn from problem pid's space with a fixed seed, as the survey draws them; the reference loaded
DRAW = r"""
import json, sys, time
import numpy as np
mode, pid, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
from grader.context import Context
from grader.model.problem import Case
from grader.sets.answers import load_module
from grader.sets.inputs import make_inputs
ctx = Context.from_environment()
problem = ctx.problems.load(pid)
meta, space = problem.meta, problem.meta.space
rng = np.random.default_rng(1)
pick = lambda choices: {k: v[int(rng.integers(len(v)))] for k, v in choices.items()}
cases = []
while len(cases) < n:
    dims, values, scales = pick(space.dims), pick(space.values), pick(space.scales)
    both = {**dims, **values}
    if all(both[a] % both[b] == 0 for a, b in space.divisible):
        cases.append(Case(name="drawn", seed=int(rng.integers(1, 2**31)), dims=dims, values=values, scales=scales))
reference = getattr(load_module(ctx.problems.reference_path(pid), ctx.cache), meta.function)
"""

SURVEY = (
    DRAW
    + r"""
mistakes = load_module(ctx.problems.pitfalls_path(pid), ctx.cache).PITFALLS
import jax
fns = {"reference": reference, **{name: fn for name, (_, fn) in mistakes.items()}}

def jitted(fn, x):  # positionally, as the judge calls (a known mistake may name its parameters otherwise)
    static = {k for k, v in x.items() if not isinstance(v, np.ndarray)}
    try:
        return jax.jit(lambda arrays: fn(*[x[k] if k in static else arrays[k] for k in x]))(
            {k: v for k, v in x.items() if k not in static}
        )
    except Exception:
        return fn(*x.values())

outs, start = {}, time.perf_counter()
for i, case in enumerate(cases):
    made = make_inputs(meta, case)
    x = {a.name: made[a.name] for a in meta.args if a.name in made}  # in the signature's order
    for name, fn in fns.items():
        try:
            got = jitted(fn, x) if mode == "jit" else fn(*x.values())
            outs[f"{i} {name}"] = np.asarray(got, np.float64).reshape(-1).tolist()
        except Exception:
            outs[f"{i} {name}"] = None
took = time.perf_counter() - start
json.dump({"s": took, "outs": outs}, open(out, "w"))
"""
)

# The survey's least cost: the reference and every known mistake and named combination on each case, three rounds
# in one process; the first compiles, the others only run what is compiled (JAX's eager dispatch, Flax's modules).
FLOOR = (
    DRAW
    + r"""
from grader.sets.answers import _mistake_fn
from grader.sets.mistakes import mistake_names
pitfalls = load_module(ctx.problems.pitfalls_path(pid), ctx.cache)
fns = [reference, *(_mistake_fn(pitfalls, name) for name in mistake_names(problem, ctx.problems))]
inputs = [make_inputs(meta, case) for case in cases]
rounds = []
for _ in range(3):
    start = time.perf_counter()
    for x in inputs:
        args = [x[a.name] for a in meta.args if a.name in x]
        for fn in fns:
            try:
                np.asarray(fn(*args))
            except Exception:
                pass  # a mistake that raises costs what it ran
    rounds.append(time.perf_counter() - start)
json.dump({"fns": len(fns), "cold": rounds[0] / n, "hot": min(rounds[1:]) / n}, open(out, "w"))
"""
)

PROGRAM = r"""
import json, time
import jax, jax.numpy as jnp, numpy as np
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * 4096
f = jax.jit(lambda x: jnp.tanh(x) * 2 + 1)
f(np.ones(1, np.float32))
before, start = rss(), time.perf_counter()
for n in range(2, 202):
    f(np.ones(n, np.float32)).block_until_ready()
kb, ms = (rss() - before) / 200 / 1024, (time.perf_counter() - start) / 200 * 1000
from grader.sets.answers import drop_lowerings
drop_lowerings()
again = time.perf_counter()
for n in range(2, 202):
    f(np.ones(n, np.float32)).block_until_ready()
print(json.dumps({"kb": kb, "ms": ms, "kept_kb": (rss() - before) / 200 / 1024,
                  "again_ms": (time.perf_counter() - again) / 200 * 1000}))
"""


def survey(mode: str, problem: str, cases: int, script: str = SURVEY) -> dict:
    """`script` run on `cases` drawn cases of `problem` in a fresh process with an empty cache."""
    with tempfile.TemporaryDirectory(prefix="judge-bench-") as tmp:
        out = Path(tmp) / "out.json"
        env = clean_env(JUDGE_CACHE_DIR=str(Path(tmp) / "cache"))
        proc = subprocess.run([sys.executable, "-c", script, mode, problem, str(cases), str(out)], env=env)
        if proc.returncode:
            sys.exit(proc.returncode)
        return json.loads(out.read_text())


def floor(problems: list[str], cases: int) -> None:
    print(f"the reference and every known mistake and combination on {cases} drawn case{'s' * (cases != 1)}, 3 rounds:")
    total = 0.0
    for pid in problems:
        got = survey("floor", pid, cases, FLOOR)
        total += 600 * got["hot"]
        print(
            f"  {pid:30} {got['fns']:3} functions: {got['cold']:6.3f} s a case cold, {got['hot']:6.3f} s compiled; "
            f"600 cases compiled {600 * got['hot']:6.1f} s"
        )
    cores = os.cpu_count() or 1
    print(f"600 cases of each, compiled: {total:.1f} s of CPU, {total / cores:.1f} s on {cores} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", help="default: mha_cross; with --floor, every problem")
    parser.add_argument("--cases", type=int, help="default: 8; with --floor, 6")
    parser.add_argument("--floor", action="store_true", help="the survey's cost once everything is compiled")
    parser.add_argument("--smoke", action="store_true", help="one case (for CI)")
    args = parser.parse_args()
    print(machine())
    if args.floor:
        floor(
            [args.problem] if args.problem else SMOKE[:1] if args.smoke else Context.from_environment().problems.ids(),
            1 if args.smoke else args.cases or 6,
        )
        return
    args.problem = args.problem or "mha_cross"
    cases = 1 if args.smoke else args.cases or 8
    eager, jitted = survey("eager", args.problem, cases), survey("jit", args.problem, cases)
    import numpy as np

    gap = max(
        (
            float(np.max(np.abs(np.subtract(a, b)), initial=0.0))
            for k, a in eager["outs"].items()
            if a is not None and (b := jitted["outs"].get(k)) is not None and len(a) == len(b)
        ),
        default=0.0,
    )
    print(
        f"{args.problem}, {cases} drawn case{'s' * (cases != 1)}, the reference and every known mistake on each "
        "(fresh process each way):"
    )
    print(f"  eagerly (as the judge): {eager['s']:.1f} s; one jax.jit program a call: {jitted['s']:.1f} s")
    print(f"  largest difference between the two ways' outputs: {gap:.3g}")
    env = clean_env(JAX_PLATFORMS="cpu", XLA_FLAGS=XLA_FLAGS)  # the judge's own
    program = json.loads(
        subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True).stdout
    )
    print(
        f"one compiled program (jax.jit on 200 sizes, the judge's XLA flags): "
        f"{program['kb']:.0f} KB, {program['ms']:.1f} ms to compile; with its lowering dropped "
        f"(answers.drop_lowerings) {program['kept_kb']:.0f} KB, called again {program['again_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
