"""Where the judge keeps what it computes once, and the XLA settings that are part of the compiled code's keys.

Light on purpose (no numpy, no pydantic): the sandbox needs these before the judge has imported the rest.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_LAYOUT = "v3"  # expected outputs and compiled code are filled together: a new layout starts both afresh


def cache_root() -> Path:
    return (
        Path(
            os.environ.get("JUDGE_CACHE_DIR")
            or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "judge")
        )
        / CACHE_LAYOUT
    )


def cache_dir() -> Path:
    return cache_root() / "expected"


def compile_cache_dir() -> Path:
    """JAX's persistent compilation cache: written only here, by trusted references; read-only to learners."""
    return cache_root() / "xla"


# XLA compiles about twice as fast with these, and learners' time goes mostly to compiling (every eagerly
# dispatched jnp op is its own small program). The problems' arrays are small, so slower compiled code costs
# nothing measurable; results stay within float32 rounding. An XLA_FLAGS already set is kept, here and in
# the sandbox, so that the judge and the learners compute the same cache keys.
XLA_FLAGS = (
    "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true --xla_cpu_use_fusion_emitters=false"
)


def xla_flags() -> str:
    return os.environ.get("XLA_FLAGS", XLA_FLAGS)
