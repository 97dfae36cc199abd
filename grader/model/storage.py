"""Keys and files for what the judge stores: one fingerprint for every cache and resume key, one atomic write.

Light on purpose (stdlib only): the expected-output cache, the warm marker, the batch's stored results
and the class reports all go through these two functions, so a key never misses a part in one place only.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
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


# ---------------------------------------------------------------- sealed entries
#
# What the judge later trusts (expected outputs) is sealed with a key only the judge can read: an entry a
# learner wrote or changed (where the process level is not confined, learners share the judge's uid) does
# not verify, and is recomputed, never trusted.

SEAL = b"judge-sealed-v1\n"


def _key(key_file: Path) -> bytes:
    """The judge's secret key, made on first use (mode 0600, in the cache folder, which learners never see)."""
    try:
        return key_file.read_bytes()
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another judge made it first
        return key_file.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(32))
    return key_file.read_bytes()


def seal(data: bytes, key_file: Path) -> bytes:
    mac = hmac.new(_key(key_file), data, hashlib.sha256).digest()
    return SEAL + mac + data


def unseal(blob: bytes, key_file: Path) -> bytes | None:
    """The data, or None when the entry was not sealed with the judge's key (or was changed since)."""
    if not blob.startswith(SEAL) or len(blob) < len(SEAL) + 32:
        return None
    mac, data = blob[len(SEAL) : len(SEAL) + 32], blob[len(SEAL) + 32 :]
    good = hmac.new(_key(key_file), data, hashlib.sha256).digest()
    return data if hmac.compare_digest(mac, good) else None
