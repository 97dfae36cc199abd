"""Keys and files for what the judge stores: one fingerprint for every cache and resume key, one atomic write.

Light on purpose (stdlib only): the expected-output cache, the warm marker, the batch's stored results
and the class reports all go through these two functions, so a key never misses a part in one place only.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import tempfile
from pathlib import Path


def fingerprint(*parts: bytes | str) -> str:
    """A hex digest of the parts, in order; each part is hashed on its own, so no two lists of parts collide.

    Example:
        >>> fingerprint("a", "bc") != fingerprint("ab", "c")
        True
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part.encode() if isinstance(part, str) else part).digest())
    return h.hexdigest()


@functools.cache
def judge_version() -> str:
    """The installed judge's version: part of every key a judge change can invalidate."""
    try:
        return importlib.metadata.version("judge")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old content or the new, never a part (a unique temp file, renamed).

    Raises OSError when the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
