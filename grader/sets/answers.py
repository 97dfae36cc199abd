"""A full install's answers: the reference's and the known mistakes' outputs, run here and cached on disk.

`store.SourceSet` asks an `Answers` over its cache; the rest of the judge asks the set. Every stored entry is
sealed with the cache's key (storage.seal): an entry the judge did not write is made again, never trusted.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np

from grader.model.cache import Cache
from grader.model.errors import ProblemError
from grader.model.problem import Case, Problem
from grader.model.storage import atomic_write, fingerprint, seal, unseal
from grader.sets import inputs as case_inputs
from grader.sets.inputs import make_inputs

GENERATORS = Path(case_inputs.__file__)  # the input generators: a change there changes every output


@functools.cache
def library_versions() -> dict[str, str]:
    """The versions of what computes the outputs: a fact of this process."""
    versions = {"python": platform.python_version()}
    for name in ("numpy", "jax", "jaxlib", "flax"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# One at a time in a process: batch threads loading two modules at once would each import JAX, and one would
# find the other's half-imported module ("partially initialized 'jax'"). Loaded modules are kept by path.
_loading = threading.Lock()
_loaded: dict[Path, ModuleType] = {}


def load_module(path: Path, cache: Cache) -> ModuleType:
    """A reference or mistakes module, loaded once in this process, with the judge's JAX set to write `cache`."""
    with _loading:
        if path not in _loaded:
            cache.configure_jax_here()
            spec = importlib.util.spec_from_file_location(f"_judge_{path.parent.name}_{path.stem}", path)
            assert spec is not None and spec.loader is not None, path
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _loaded[path] = module
        else:
            cache.configure_jax_here()  # another cache may have been used since
        return _loaded[path]


# JAX keeps every program it compiles, about 1.5 MB each on the CPU, and a reference run eagerly on shapes no case
# had before compiles dozens: `judge check`'s survey of 200 secrets held 4 GB. Within `bounded_programs`, past
# PROGRAMS_MB, memory is given back before an output is computed: first the programs' lowerings (an MLIR module
# each, in a context of its own: 1.1 MB of a program's 1.5), which only a call that misses the compiled program's
# fast path needs again; the compiled programs too when that leaves less than a twentieth of the bound free (one
# needed again is lowered again and loaded from the persistent compilation cache). Only there: elsewhere the
# judge's process is a learner's kernel, or a batch whose threads compute side by side, whose programs are theirs.
PROGRAMS_MB = 900
_bound_mb: int | None = None


@contextlib.contextmanager
def bounded_programs(over_mb: int = PROGRAMS_MB) -> Iterator[None]:
    """Within this, JAX's memory is given back whenever this process holds more than `over_mb` MB (release_programs)."""
    global _bound_mb
    before, _bound_mb = _bound_mb, over_mb
    try:
        yield
    finally:
        _bound_mb = before


def release_programs(over_mb: int) -> bool:
    """Give back JAX's memory when this process holds more than `over_mb` MB; whether it did."""
    held = held_mb()
    jax = sys.modules.get("jax")
    if jax is None or held is None or held < over_mb:
        return False  # without /proc (macOS) there is nothing to measure by: the programs stay
    if drop_lowerings() and (held_mb() or 0) < over_mb * 0.95:
        return True
    jax.clear_caches()
    _trim()
    return True


# Where JAX (0.10) keeps the lowerings of the programs it compiled: private names, so looked up, and a unit test
# fails if they stop giving the memory back.
_LOWERINGS = (("jax._src.pjit", "_pjit_lower"), ("jax._src.interpreters.pxla", "_cached_lowering_to_hlo"))


def drop_lowerings() -> bool:
    """Drop the lowerings of JAX's compiled programs and keep the programs; False where this JAX keeps them
    elsewhere (then only `jax.clear_caches()` gives them back)."""
    caches = [getattr(sys.modules.get(module), name, None) for module, name in _LOWERINGS]
    if not all(hasattr(cache, "cache_clear") for cache in caches):
        return False
    for cache in caches:
        cache.cache_clear()  # type: ignore[union-attr]
    _trim()
    return True


def held_mb() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
    except (OSError, ValueError):
        return None


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed memory otherwise
    except OSError:
        pass


COMBINE = "+"  # joins the names of a combination of known mistakes ("inverted+pad_id_ignored")


def _mistake_fn(module: ModuleType, name: str) -> Callable[..., object]:
    """A known mistake's function, or a combination's (from the module's COMBINED table)."""
    if COMBINE in name:
        return module.COMBINED[tuple(name.split(COMBINE))]
    return module.PITFALLS[name][1]


class Answers:
    """The outputs of one set's references and known mistakes, computed here and cached in `cache`."""

    def __init__(self, cache: Cache):
        self.cache = cache

    def reference_digest(self, reference: Path) -> str:
        """Changes whenever the expected outputs or compiled code could: the reference, the generators, the
        libraries, the XLA flags."""
        return fingerprint(
            reference.read_bytes(),
            GENERATORS.read_bytes(),
            self.cache.xla_flags,
            json.dumps(library_versions(), sort_keys=True),
        )

    def expected(self, problem: Problem, reference: Path, case: Case, inputs: dict[str, object]) -> np.ndarray:
        """The reference's output on a case, from the cache when an identical run made it before."""
        call = lambda: getattr(load_module(reference, self.cache), problem.meta.function)(**inputs)  # noqa: E731
        return self._cached(problem, case, reference, "", call)

    def mistake_sentences(self, pitfalls: Path) -> dict[str, str]:
        """The mistakes' sentences, cached like their outputs: a wrong answer is then diagnosed without importing
        the mistakes' module, and with it JAX and Flax (1.2 s of a learner's wait for each wrong answer)."""
        if not pitfalls.is_file():
            return {}
        versions = json.dumps(library_versions(), sort_keys=True)
        stored = self.cache.expected_dir / "messages" / f"{fingerprint(pitfalls.read_bytes(), versions)[:32]}.json"

        def make() -> bytes:
            table = load_module(pitfalls, self.cache).PITFALLS
            return json.dumps({name: sentence for name, (sentence, _) in table.items()}).encode()

        return dict(json.loads(self._sealed(stored, make)))

    def mistake_combinations(self, pitfalls: Path) -> list[tuple[str, ...]]:
        """The combinations of known mistakes the module names (its COMBINED table's keys), cached like the
        sentences; each is computed as one mistake named "a+b"."""
        if not pitfalls.is_file():
            return []
        versions = json.dumps(library_versions(), sort_keys=True)
        stored = self.cache.expected_dir / "combined" / f"{fingerprint(pitfalls.read_bytes(), versions)[:32]}.json"

        def make() -> bytes:
            table = getattr(load_module(pitfalls, self.cache), "COMBINED", {})
            return json.dumps([list(names) for names in table]).encode()

        return [tuple(names) for names in json.loads(self._sealed(stored, make))]

    def mistake(
        self, problem: Problem, pitfalls: Path, name: str, case: Case, inputs: dict[str, object], *, strict: bool
    ) -> np.ndarray | None:
        """A known mistake's output on a case. A mistake whose code raises has none: None, or with `strict`
        a ProblemError saying so (`judge check` reports such a mistake as broken)."""
        args = [inputs[a.name] for a in problem.meta.args if a.name in inputs]  # optional ones come last
        try:  # the module is imported only when the output is not cached
            return self._cached(
                problem, case, pitfalls, name, lambda: _mistake_fn(load_module(pitfalls, self.cache), name)(*args)
            )
        except Exception as e:
            if strict:
                raise ProblemError(f"{pitfalls}: known mistake {name!r} raises on case {case.name!r}: {e!r}") from None
            return None

    def warm(self, problem: Problem, reference: Path) -> None:
        """Make sure the reference has run once in this cache, so its compiled code is there for learners to read.

        The compilation cache and the expected outputs are filled by the same reference runs, but either
        can be missing alone (a cache emptied by hand, outputs computed before the cache existed).
        """
        marker = self.cache.warm_dir / f"{problem.id}-{self.reference_digest(reference)[:24]}"
        if marker.exists():
            return
        fn = getattr(load_module(reference, self.cache), problem.meta.function)
        for case in problem.cases:
            fn(**make_inputs(problem.meta, case))
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass

    def _key(self, problem: Problem, case: Case, source: Path, variant: str) -> str:
        # Anything that could change the output changes the key.
        return fingerprint(
            source.read_bytes(),
            variant,
            problem.meta.model_dump_json(),
            case.model_dump_json(),
            json.dumps(library_versions(), sort_keys=True),
            GENERATORS.read_bytes(),
        )[:32]

    def _cached(
        self, problem: Problem, case: Case, source: Path, variant: str, compute: Callable[[], object]
    ) -> np.ndarray:
        def make() -> bytes:
            if _bound_mb is not None:
                release_programs(_bound_mb)
            buf = io.BytesIO()
            np.save(buf, np.asarray(compute(), dtype=np.float64), allow_pickle=False)
            return buf.getvalue()

        path = self.cache.expected_dir / problem.id / f"{self._key(problem, case, source, variant)}.npy"
        return np.load(io.BytesIO(self._sealed(path, make)), allow_pickle=False)

    def _sealed(self, path: Path, make: Callable[[], bytes]) -> bytes:
        """What the judge stored at `path`, else `make()`, stored there sealed: an entry the judge did not write
        (where learners share its uid unconfined, they can write its cache) does not verify, and is made again."""
        key = self.cache.key_file
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
