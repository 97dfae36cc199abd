"""Where the judge keeps what it computes once, and the JAX settings that are part of compiled code's keys.

A `Cache` is a value: the context passes it down (grader/context.py builds it from the environment once), so
two caches can be used side by side. Light on purpose (stdlib only): the sandbox needs it before the judge has
imported the rest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAYOUT = "v3"  # expected outputs and compiled code are filled together: a new layout starts both afresh

# XLA compiles about twice as fast with these, and learners' time goes mostly to compiling (every eagerly
# dispatched jnp op is its own small program). The problems' arrays are small, so slower compiled code costs
# nothing measurable; results stay within float32 rounding. XLA_FLAGS already set where the judge starts are
# kept instead (context.py), here and in the sandbox, so that the judge and the learners compute the same keys.
XLA_FLAGS = (
    "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true --xla_cpu_use_fusion_emitters=false"
)


@dataclass(frozen=True)
class Cache:
    """The judge's cache folder (`root`, this layout's) and the XLA flags its compiled code is keyed by."""

    root: Path
    xla_flags: str = XLA_FLAGS

    @classmethod
    def under(cls, folder: Path, xla_flags: str = XLA_FLAGS) -> Cache:
        """The cache of this layout in `folder` (a user's ~/.cache/judge, or $JUDGE_CACHE_DIR)."""
        return cls(Path(folder) / LAYOUT, xla_flags)

    @property
    def expected_dir(self) -> Path:
        return self.root / "expected"

    @property
    def compile_dir(self) -> Path:
        """JAX's persistent compilation cache: written by trusted code only (the judge's reference runs and the
        compile service), read by learners."""
        return self.root / "xla"

    @property
    def key_file(self) -> Path:
        """The key that seals what the judge stores (see storage.seal); learners never see it."""
        return self.root / "key"

    @property
    def warm_dir(self) -> Path:
        return self.root / "warm"

    @property
    def kernel_dir(self) -> Path:
        """A notebook kernel's own compilation cache (check_function): learner code runs in the kernel, so what it
        compiles never goes where the sandbox and the references read."""
        return self.root / "kernel"

    def jax_settings(self, *, writes: bool, compile_dir: str | None = None) -> dict[str, str]:
        """The settings every process that compiles for the judge runs JAX with (as environment variables), in
        one place because they decide the compiled code's keys: the judge and the compile service write the
        cache; learners only read it (a minimum compile time no compile reaches). XLA's own caches would put
        the cache's path into the compile options, and so into the keys: the sandbox mounts the cache elsewhere
        (`compile_dir`), so they are off everywhere."""
        return {
            "JAX_PLATFORMS": "cpu",
            "JAX_COMPILATION_CACHE_DIR": compile_dir or str(self.compile_dir),
            "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0" if writes else "1e9",
            "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
            "JAX_PERSISTENT_CACHE_ENABLE_XLA_CACHES": "none",
            "XLA_FLAGS": self.xla_flags,
        }

    def configure_jax_here(self) -> None:
        """This process's JAX (the judge's own, which runs the references) writes this cache, on the CPU, as the
        sandbox's does: through its config when JAX is loaded already (a notebook), else through the
        environment it reads when it starts."""
        jax = sys.modules.get("jax")
        if jax is None:
            os.environ.update(self.jax_settings(writes=True))  # the judge's own JAX, before it starts
        elif jax.config.jax_compilation_cache_dir != str(self.compile_dir):
            self._point(jax, self.compile_dir)

    def _point(self, jax: Any, folder: Path) -> None:
        """JAX, loaded already, to write compiled code to `folder`, with the settings its environment would give
        it (all of them, whatever was set before: some are part of the keys)."""
        kinds = {"JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": float, "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": int}
        for name, value in self.jax_settings(writes=True, compile_dir=str(folder)).items():
            if name.startswith("JAX_") and name != "JAX_PLATFORMS":  # the platform is chosen as JAX starts
                jax.config.update(name.lower(), kinds.get(name, str)(value))
        from jax._src import compilation_cache  # JAX reads the directory once; make it read it again

        compilation_cache.reset_cache()

    def configure_kernel(self) -> None:
        """Before learner code runs in this process (a kernel's check_function): JAX keeps what it compiles in
        `kernel_dir`, so a fresh kernel loads what an earlier one compiled (mha_cross's first check in a fresh
        process: 7.34 s, in the next one 2.21 s; `python bench/rows.py --row first-check`). A cache the learner
        chose is theirs and stays; the shared one (set while the references ran here) is left, as learner code must
        never write it. JAX not loaded: nothing to do (a NumPy learner's check compiles nothing)."""
        jax = sys.modules.get("jax")
        if jax is None:
            return
        try:
            chosen = jax.config.jax_compilation_cache_dir
            if chosen in (None, "", str(self.compile_dir)):
                self._point(jax, self.kernel_dir)
        except Exception:  # an older or odd JAX: the kernel compiles as it would without the judge
            return


def cache_from(environ: Mapping[str, str]) -> Cache:
    """The cache an environment names: $JUDGE_CACHE_DIR, else $XDG_CACHE_HOME/judge, else ~/.cache/judge; with
    its XLA_FLAGS when set. The caller passes its environment (only the command line's entry reads it)."""
    folder = environ.get("JUDGE_CACHE_DIR") or os.path.join(
        environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".cache"),
        "judge",
    )
    return Cache.under(Path(folder), environ.get("XLA_FLAGS") or XLA_FLAGS)
