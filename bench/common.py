"""What the benchmarks share."""

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The problems of `--smoke` runs (tests/test_bench.py keeps each bench working; any problem does): their references
# are NumPy, seconds from an empty cache where a Flax problem's take tens of seconds.
SMOKE = ["cross_attention_mask", "scaled_dot_product_attention"]


def judge_path() -> str:
    """The console script next to this interpreter: a version manager's shim on PATH is not the judge's cost."""
    here = Path(sys.executable).with_name("judge")
    if here.exists():
        return str(here)
    return shutil.which("judge") or sys.exit("install the judge first: pip install -e .")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the JAX and XLA settings that importing the judge here may have put in it, and
    with this checkout first on PYTHONPATH: the console script then runs this checkout's judge, whichever
    checkout was installed (a bench measures the code it sits beside)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return {**env, **extra}


def machine() -> str:
    """The machine and the commit a figure comes from, in one line (a figure means nothing without them)."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else "MemTotal: 0 kB"
    ram = int(meminfo.split("MemTotal:", 1)[1].split()[0]) / 2**20
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    commit = git("rev-parse", "--short", "HEAD") + ("-dirty" if git("status", "--porcelain", "--untracked=no") else "")
    versions = ", ".join(f"{n} {importlib.metadata.version(n)}" for n in ("jax", "flax"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: {os.cpu_count()} cores, {ram:.0f} GiB, {model or platform.processor()}, Linux "
        f"{platform.release()}, Python {platform.python_version()}, {versions}; load {load:.1f} at the start; "
        f"commit {commit}"
    )
