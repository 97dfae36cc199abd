"""What a call of the judge works with: the problem set, the cache, the sandbox level and the zygotes that fork
its sandboxes. Chosen once (the command line builds it from its options and the environment; a library caller
builds one or lets `from_environment` do it) and passed down; nothing deeper reads the environment or keeps
these in globals, so two sets and two caches can be used side by side in one process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.model.cache import Cache, cache_from
from grader.sandbox.policy import resolve_level
from grader.sandbox.zygote import BATCH_PREIMPORT, Zygote
from grader.sets.store import ProblemSet, installed_set, open_set

PROBLEMS_ENV = "JUDGE_PROBLEMS"  # a problem set of one's own, as --problems-dir
DATA_ENV = "JUDGE_DATA_DIR"  # where a learner's progress is kept, instead of the user's data folder


@dataclass
class Context:
    """A problem set, a cache, a sandbox level (asked for: auto, bwrap or process) and the zygotes started for
    it, closed with the context. Thread-safe: a batch's threads share one."""

    problems: ProblemSet
    cache: Cache
    sandbox: str = "auto"
    data_dir: Path | None = None  # None: the user's data folder
    _zygotes: dict[tuple[str, bool], Zygote] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_environment(
        cls,
        problems_dir: Path | None = None,
        *,
        sandbox: str = "auto",
        environ: Mapping[str, str] | None = None,
        create: bool = False,
    ) -> Context:
        """The context the environment names: the set of `problems_dir` (else $JUDGE_PROBLEMS, else the installed
        one), the cache of $JUDGE_CACHE_DIR (else the user's), progress in $JUDGE_DATA_DIR (else the user's)."""
        environ = os.environ if environ is None else environ
        cache = cache_from(environ)
        chosen = problems_dir or (Path(environ[PROBLEMS_ENV]) if environ.get(PROBLEMS_ENV) else None)
        problems = open_set(chosen, cache, create=create) if chosen is not None else installed_set(cache)
        data = Path(environ[DATA_ENV]) if environ.get(DATA_ENV) else None
        return cls(problems, cache, sandbox, data)

    def level(self) -> str:
        """The level asked for, resolved: auto is bwrap where it works, else process."""
        return resolve_level(self.sandbox)

    def zygote(self, *, batch: bool = False) -> Zygote:
        """The zygote this context grades with at its level, started on first use: one for single gradings
        (numpy only, quick to start), one for batches (JAX and Flax imported once, and the compile service)."""
        key = (self.level(), batch)
        with self._lock:
            if key not in self._zygotes:
                self._zygotes[key] = Zygote(
                    key[0], self.cache, BATCH_PREIMPORT if batch else ("numpy",), compiles=batch
                )
            return self._zygotes[key]

    def adopt(self, zygote: Zygote | None) -> None:
        """Take a zygote started early (the command line starts one before its own imports) when it suits."""
        if zygote is None:
            return
        if zygote.level != self.level() or zygote.cache != self.cache or (self.level(), False) in self._zygotes:
            zygote.close()
            return
        self._zygotes[(zygote.level, False)] = zygote

    def close(self) -> None:
        with self._lock:
            zygotes, self._zygotes = list(self._zygotes.values()), {}
        for z in zygotes:
            z.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
