"""A full install's answers: the reference's and the known mistakes' outputs, run here and cached on disk.

`problem_set.SourceSet` asks this module; the rest of the judge asks the active set (see grader.problems).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from grader.sets import inputs as case_inputs
from grader.model.cache import cache_dir, cache_root, compile_cache_dir, xla_flags
from grader.sets.inputs import make_inputs
from grader.model.storage import atomic_write, fingerprint, seal, unseal

if TYPE_CHECKING:
    from grader.model.problem import Case
    from grader.sets.problems import Problem

GENERATORS = Path(case_inputs.__file__)  # the input generators: a change there changes every output


@functools.cache
def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("numpy", "jax", "jaxlib", "flax"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _enable_compile_cache() -> None:
    # XLA's own caches would put the cache's path into the compile options, and so into the keys: the
    # sandbox mounts the cache elsewhere, so they are off on both sides.
    settings = {
        "jax_compilation_cache_dir": str(compile_cache_dir()),
        "jax_persistent_cache_enable_xla_caches": "none",
        "jax_persistent_cache_min_compile_time_secs": 0,
        "jax_persistent_cache_min_entry_size_bytes": -1,
    }
    if "jax" in sys.modules:
        jax = sys.modules["jax"]
        if jax.config.jax_compilation_cache_dir != settings["jax_compilation_cache_dir"]:
            for name, value in settings.items():
                jax.config.update(name, value)
            from jax._src import compilation_cache  # JAX reads the directory once; make it read it again

            compilation_cache.reset_cache()
    else:
        os.environ["XLA_FLAGS"] = xla_flags()  # read when JAX starts its backend
        for name, value in settings.items():  # not setdefault: an inherited directory would not be the sandbox's
            os.environ[name.upper()] = str(value)


def reference_code_digest(problem: Problem) -> str:
    """Changes whenever the expected outputs or compiled code could: the reference, the generators, the libraries."""
    return fingerprint(
        problem.reference_path.read_bytes(),
        GENERATORS.read_bytes(),
        xla_flags(),
        json.dumps(library_versions(), sort_keys=True),
    )


def _case_key(problem: Problem, case: Case, source: Path, variant: str) -> str:
    # Anything that could change the output changes the key.
    return fingerprint(
        source.read_bytes(),
        variant,
        problem.meta.model_dump_json(),
        case.model_dump_json(),
        json.dumps(library_versions(), sort_keys=True),
        GENERATORS.read_bytes(),
    )[:32]


_loading = threading.Lock()


def _load_module(path: Path) -> ModuleType:
    """A reference or mistakes module, loaded once. One at a time: batch threads loading two at once would
    each import JAX, and one would find the other's half-imported module ("partially initialized 'jax'")."""
    with _loading:
        return _load_module_once(path)


@functools.cache
def _load_module_once(path: Path) -> ModuleType:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # expected values are defined on the CPU, like the sandbox's
    _enable_compile_cache()
    spec = importlib.util.spec_from_file_location(f"_judge_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pitfalls_path(problem: Problem) -> Path:
    return problem.set.pitfalls_path(problem.id)


def reference_pitfall_messages(problem: Problem) -> dict[str, str]:
    """The mistakes' sentences, cached like their outputs: a wrong answer is then diagnosed without importing
    the mistakes' module, and with it JAX and Flax (1.2 s of a learner's wait for each wrong answer)."""
    path = _pitfalls_path(problem)
    if not path.is_file():
        return {}
    versions = json.dumps(library_versions(), sort_keys=True)
    stored = cache_dir() / problem.id / f"messages-{fingerprint(path.read_bytes(), versions)[:32]}.json"
    make = lambda: json.dumps({n: msg for n, (msg, _) in _load_module(path).PITFALLS.items()}).encode()  # noqa: E731
    return dict(json.loads(_sealed(stored, make)))


def _sealed(path: Path, make: Callable[[], bytes]) -> bytes:
    """What the judge stored at `path`, else `make()`, stored there sealed: an entry the judge did not write
    (where learners share its uid unconfined, they can write its cache) does not verify, and is made again."""
    key = cache_root() / "key"
    try:
        data = unseal(path.read_bytes(), key)
        if data is not None:
            return data
    except OSError:
        pass
    data = make()
    try:
        atomic_write(path, seal(data, key))
    except OSError:
        pass  # an unwritable cache only costs time; the value is right either way
    return data


def _cached(problem: Problem, case: Case, source: Path, variant: str, compute: Callable[[], object]) -> np.ndarray:
    def make() -> bytes:
        buf = io.BytesIO()
        np.save(buf, np.asarray(compute(), dtype=np.float64), allow_pickle=False)
        return buf.getvalue()

    path = cache_dir() / problem.id / f"{_case_key(problem, case, source, variant)}.npy"
    return np.load(io.BytesIO(_sealed(path, make)), allow_pickle=False)


def reference_warm_compile_cache(problem: Problem) -> None:
    """Make sure the reference has run once in this process's cache, so its compiled code is there to read.

    The compilation cache and the expected outputs are filled by the same reference runs, but either
    can be missing alone (a cache emptied by hand, outputs computed before the cache existed).
    """
    marker = cache_root() / "warm" / f"{problem.id}-{reference_code_digest(problem)[:24]}"
    if marker.exists():
        return
    fn = getattr(_load_module(problem.reference_path), problem.meta.function)
    for case in problem.cases:
        fn(**make_inputs(problem.meta, case))
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass


def reference_output(problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray:
    """The reference's output on a case, from the cache when an identical run made it before."""
    fn = lambda: getattr(_load_module(problem.reference_path), problem.meta.function)(**inputs)  # noqa: E731
    return _cached(problem, case, problem.reference_path, "", fn)


def reference_pitfall_output(problem: Problem, name: str, case: Case, inputs: dict[str, object]) -> np.ndarray | None:
    path = _pitfalls_path(problem)
    args = [inputs[a.name] for a in problem.meta.args if a.name in inputs]  # optional ones come last
    try:  # the module is imported only when the output is not cached
        return _cached(problem, case, path, name, lambda: _load_module(path).PITFALLS[name][1](*args))
    except Exception:
        return None
