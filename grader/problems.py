"""Loading problems, generating their case inputs from seeds, and expected outputs.

A problem folder `problems/<id>/` holds `problem.json` (metadata, see
`models.ProblemMeta`), `cases.json`, `spec.md` and the stub `<id>.py`. Its
trusted solution is `reference/<id>.py`. Which set of problems, and where expected
outputs come from (the reference, or a learner kit's data), is `grader.problem_set`'s.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from grader import problem_set
from grader.compare import compare
from grader.caches import cache_dir, cache_root, compile_cache_dir, xla_flags
from grader.errors import ProblemError, UnknownProblem
from grader.models import Case, CaseFile, ProblemMeta
from grader.storage import atomic_write, fingerprint, seal, unseal

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS_DIR = ROOT / "problems"
REFERENCE_DIR = ROOT / "reference"


@dataclass(frozen=True)
class Problem:
    meta: ProblemMeta
    cases: tuple[Case, ...]
    folder: Path
    source: problem_set.ProblemSet | None = None  # the set it was loaded from

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def spec_path(self) -> Path:
        return self.folder / "spec.md"

    @property
    def stub_path(self) -> Path:
        return self.folder / f"{self.id}.py"

    @property
    def reference_path(self) -> Path:
        return self.set.reference_path(self.id)

    @property
    def set(self) -> problem_set.ProblemSet:
        return self.source or problem_set.active()


def problem_ids() -> list[str]:
    return problem_set.active().problem_ids()


def _parse(model, path: Path):
    try:
        return model.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise ProblemError(f"{path}: file is missing") from None
    except ValidationError as e:
        fields = "; ".join(f"{'.'.join(map(str, err['loc'])) or '(root)'}: {err['msg']}" for err in e.errors())
        raise ProblemError(f"{path}: {fields}") from None


def load_problem(problem_id: str) -> Problem:
    """Load and validate one problem of the active set; a malformed one raises ProblemError naming file and field."""
    return _load_problem(problem_set.active(), problem_id)


@functools.cache
def _load_problem(source: problem_set.ProblemSet, problem_id: str) -> Problem:
    valid = source.problem_ids()
    if problem_id not in valid:
        raise UnknownProblem(problem_id, valid)
    folder = source.problems_dir / problem_id
    meta = _parse(ProblemMeta, folder / "problem.json")
    if meta.id != problem_id:
        raise ProblemError(f"{folder / 'problem.json'}: id: {meta.id!r} differs from the folder name")
    cases = _parse(CaseFile, folder / "cases.json").cases
    for i, case in enumerate(cases):
        try:
            check_case(meta, case)
        except ValueError as e:
            raise ProblemError(f"{folder / 'cases.json'}: cases.{i} ({case.name}): {e}") from None
    for path in source.required_files(problem_id):
        if not path.is_file():
            raise ProblemError(f"{path}: file is missing")
    return Problem(meta, tuple(cases), folder, source)


load_problem.cache_clear = _load_problem.cache_clear  # type: ignore[attr-defined]


def check_case(meta: ProblemMeta, case: Case) -> None:
    """Raise ValueError when a case lacks a dimension or value its problem needs."""
    for arg in meta.args:
        if arg.kind == "int":
            if arg.name not in case.values and not arg.optional:
                raise ValueError(f"values.{arg.name} is missing")
        else:
            for dim in arg.shape or []:
                if isinstance(dim, str) and dim not in case.dims and dim not in case.values:
                    raise ValueError(f"dims.{dim} (of {arg.name}) is missing")
    known = {a.name for a in meta.args} | {"pad_id"}
    for name in case.values:
        if name not in known:
            raise ValueError(f"values.{name} is not an argument")


def grading_cases(problem: Problem, hidden_seed: str | None) -> list[Case]:
    """The cases a grading runs: the public ones, then the hidden ones when a secret is given."""
    return list(problem.cases) + (hidden_cases(problem, hidden_seed) if hidden_seed else [])


HIDDEN_DRAWS = 200  # draws tried for one hidden case before the space is judged unable to give one


def hidden_cases(problem: Problem, secret: str, count: int = 3) -> list[Case]:
    """Cases nobody has seen, drawn from the problem's `space`, deterministic given the secret.

    A draw on which some known mistake gives the reference's output within tolerance is drawn again
    (from the same secret's stream), so every hidden case tells the reference from every known mistake.
    """
    key = (problem.id, problem.meta.version, problem.folder, secret, count)
    if key not in _hidden:
        _hidden[key] = draw_hidden(problem, secret, count)
    return list(_hidden[key])


_hidden: dict[tuple, tuple[Case, ...]] = {}


def draw_hidden(problem: Problem, secret: str, count: int, redrawn: Counter | None = None) -> tuple[Case, ...]:
    """`hidden_cases` without the memo; `redrawn` counts, per known mistake, the draws it made fail."""
    space = problem.meta.space
    digest = hashlib.sha256(f"{secret}\0{problem.id}\0{problem.meta.version}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    pick = lambda choices: {k: v[int(rng.integers(len(v)))] for k, v in choices.items()}  # noqa: E731
    where = f"{problem.folder / 'problem.json'}: space"
    cases: list[Case] = []
    for i in range(count):
        blind: list[str] = []
        for _ in range(HIDDEN_DRAWS):
            dims, values, scales = pick(space.dims), pick(space.values), pick(space.scales)
            both = {**dims, **values}
            if not all(both[a] % both[b] == 0 for a, b in space.divisible):
                continue
            case = Case(
                name=f"hidden {i + 1}",
                seed=int(rng.integers(1, 2**31)),
                dims=dims,
                values=values,
                scales=scales,
                hidden=True,
            )
            try:
                check_case(problem.meta, case)
            except ValueError as e:
                raise ProblemError(f"{where}: {e}") from None
            blind = undetected_mistakes(problem, case)
            if redrawn is not None:
                redrawn.update(blind)
            if not blind:
                cases.append(case)
                break
        else:
            why = (
                f"known mistake {blind[0]!r} matches the reference"
                if blind
                else "no draw meets its divisible constraints"
            )
            raise ProblemError(f"{where}: {HIDDEN_DRAWS} draws gave no hidden case: {why}; widen the space")
    return tuple(cases)


def undetected_mistakes(problem: Problem, case: Case) -> list[str]:
    """The known mistakes whose output on this case passes as the reference's (a mistake that raises is caught)."""
    inputs = make_inputs(problem.meta, case)
    expected = expected_output(problem, case, inputs)
    blind = []
    for name in pitfall_messages(problem):
        if case.hidden and name in problem.meta.space.public_only:
            continue
        got = pitfall_output(problem, name, case, inputs)
        if (
            got is not None
            and compare(got, expected, problem.meta.tolerance, exact_shape=problem.meta.exact_shape).passed
        ):
            blind.append(name)
    return blind


# ---------------------------------------------------------------- inputs


def make_inputs(meta: ProblemMeta, case: Case) -> dict[str, object]:
    """The arguments of one case, generated deterministically from its seed."""
    rng = np.random.default_rng(case.seed)
    inputs: dict[str, object] = {}
    for arg in meta.args:
        if arg.kind == "int":
            if arg.name in case.values:
                value = case.values[arg.name]
                inputs[arg.name] = float(value) if arg.as_float else int(value)
            continue
        # A dimension may also be an int argument (mha_self's d_model).
        shape: tuple[int, ...] = tuple(
            (case.dims[d] if d in case.dims else case.values[d]) if isinstance(d, str) else d for d in arg.shape or []
        )
        if arg.kind == "normal":
            scale = case.scales.get(arg.name, arg.scale)
            inputs[arg.name] = (rng.standard_normal(shape) * scale).astype(np.float32)
        else:
            inputs[arg.name] = _token_ids(rng, (shape[0], shape[1]), arg.vocab, case.values.get("pad_id", 0))
    return inputs


def _token_ids(rng: np.random.Generator, shape: tuple[int, int], vocab: int, pad_id: int) -> np.ndarray:
    """Ids never equal to pad_id, with padding on the right, on the left, or scattered by row."""
    n, s = shape
    ids = rng.integers(1, vocab, size=shape)
    ids[ids == pad_id] = vocab + 1
    for row in range(n):
        if s < 2:
            break
        k = int(rng.integers(1, s))  # pads in this row: at least one, never all
        if row % 3 == 0:
            where = np.arange(s - k, s)
        elif row % 3 == 1:
            where = np.arange(0, k)
        else:
            where = rng.choice(s, size=k, replace=False)
        ids[row, where] = pad_id
    return ids.astype(np.int64)


# ---------------------------------------------------------------- expected outputs


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


def reference_digest(problem: Problem) -> str:
    """Changes whenever the expected outputs could (in a kit: whenever its released data does)."""
    return problem.set.reference_digest(problem)


def reference_code_digest(problem: Problem) -> str:
    """Changes whenever the expected outputs or compiled code could: the reference, the generators, the libraries."""
    return fingerprint(
        problem.reference_path.read_bytes(),
        Path(__file__).read_bytes(),
        xla_flags(),
        json.dumps(library_versions(), sort_keys=True),
    )


def _case_key(problem: Problem, case: Case, source: Path, variant: str) -> str:
    # Anything that could change the output changes the key; Path(__file__) holds the input generators.
    return fingerprint(
        source.read_bytes(),
        variant,
        problem.meta.model_dump_json(),
        case.model_dump_json(),
        json.dumps(library_versions(), sort_keys=True),
        Path(__file__).read_bytes(),
    )[:32]


@functools.cache
def _load_module(path: Path):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # expected values are defined on the CPU, like the sandbox's
    _enable_compile_cache()
    spec = importlib.util.spec_from_file_location(f"_judge_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pitfalls_path(problem: Problem) -> Path:
    return problem.set.pitfalls_path(problem.id)


def pitfall_messages(problem: Problem) -> dict[str, str]:
    """Known mistakes of a problem: name -> the sentence a learner gets."""
    return problem.set.pitfall_messages(problem)


def reference_pitfall_messages(problem: Problem) -> dict[str, str]:
    path = pitfalls_path(problem)
    return {name: msg for name, (msg, _) in _load_module(path).PITFALLS.items()} if path.is_file() else {}


def _cached(problem: Problem, case: Case, source: Path, variant: str, compute) -> np.ndarray:
    path = cache_dir() / problem.id / f"{_case_key(problem, case, source, variant)}.npy"
    key = cache_root() / "key"
    try:
        data = unseal(path.read_bytes(), key)  # None: not written by the judge, recomputed below
        if data is not None:
            return np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError):
        pass
    out = np.asarray(compute(), dtype=np.float64)
    buf = io.BytesIO()
    np.save(buf, out, allow_pickle=False)
    try:
        atomic_write(path, seal(buf.getvalue(), key))
    except OSError:
        pass  # an unwritable cache only costs time; the value is right either way
    return out


def warm_compile_cache(problem: Problem) -> None:
    problem.set.warm_compile_cache(problem)


def reference_warm_compile_cache(problem: Problem) -> None:
    """Make sure the reference has run once in this process's cache, so its compiled code is there to read.

    The compilation cache and the expected outputs are filled by the same reference runs, but either
    can be missing alone (a cache emptied by hand, outputs computed before the cache existed).
    """
    marker = cache_root() / "warm" / f"{problem.id}-{reference_digest(problem)[:24]}"
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


def expected_output(problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray:
    """The expected output of a case: the reference's, or in a learner kit the one computed at release."""
    return problem.set.expected_output(problem, case, inputs)


def reference_output(problem: Problem, case: Case, inputs: dict[str, object]) -> np.ndarray:
    """The reference's output on a case, from the cache when an identical run made it before."""
    fn = lambda: getattr(_load_module(problem.reference_path), problem.meta.function)(**inputs)  # noqa: E731
    return _cached(problem, case, problem.reference_path, "", fn)


def pitfall_output(problem: Problem, name: str, case: Case, inputs: dict[str, object]) -> np.ndarray | None:
    """A known mistake's output on a case (None where the mistake cannot run on it)."""
    return problem.set.pitfall_output(problem, name, case, inputs)


def reference_pitfall_output(problem: Problem, name: str, case: Case, inputs: dict[str, object]) -> np.ndarray | None:
    path = pitfalls_path(problem)
    fn = _load_module(path).PITFALLS[name][1]
    args = [inputs[a.name] for a in problem.meta.args if a.name in inputs]  # optional ones come last
    try:
        return _cached(problem, case, path, name, lambda: fn(*args))
    except Exception:
        return None
