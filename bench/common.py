"""What the benchmarks share."""

import shutil
import sys
from pathlib import Path


def judge_path() -> str:
    """The console script next to this interpreter: a version manager's shim on PATH is not the judge's cost."""
    here = Path(sys.executable).with_name("judge")
    if here.exists():
        return str(here)
    return shutil.which("judge") or sys.exit("install the judge first: pip install -e .")
