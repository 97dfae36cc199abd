"""A pure-Python wheel and a zip, written byte by byte: fixed order, dates and modes, so that the same files
give the same bytes (`judge release` and `judge autograder` package problem sets with them).

Every package of a set is the `judge` distribution, so a venv holds one: a newer kit of a course replaces the
older in place, and another course's kit replaces it too (pip says which it uninstalls). Its version says
what it holds: `0.1.0+<course>.<date>.g<digest>`, the engine's version, then a local label with the course
(the set's folder name), the date of the newest file it was made from (UTC, to the second) and a digest of
its contents. Different contents never share a version, so pip always installs a changed kit over the old one
(pip reinstalls whenever the versions differ, newer or not), and a kit made from newer files sorts after the
older (`pip install -U`, `pip list`); the same set packaged twice gives the same version, and the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import re
import stat
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

from grader.model.storage import fingerprint

DIST = "judge"
FALLBACK_VERSION = "0.1.0"
FALLBACK_REQUIRES = ["jax>=0.4.30", "flax>=0.10", "numpy>=1.26", "pydantic>=2.6", "typer>=0.12"]
REQUIRES_PYTHON = ">=3.10"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_EPOCH = 315532800  # 1980-01-01 UTC: no package is dated before its zip's own date


def zip_bytes(files: dict[str, bytes], compression: int, modes: dict[str, int] | None = None) -> bytes:
    """A zip of `files` in name order, dated 1980, mode 0644 unless `modes` says otherwise."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = compression
            info.external_attr = (stat.S_IFREG | (modes or {}).get(name, 0o644)) << 16
            z.writestr(info, files[name])
    return buf.getvalue()


def _requires() -> tuple[str, list[str]]:
    """The engine's version (its public part: an installed kit's own label is not carried on) and requirements."""
    try:
        version = importlib.metadata.version(DIST)
        reqs = [r for r in importlib.metadata.requires(DIST) or [] if "extra ==" not in r]
        return (version or FALLBACK_VERSION).split("+")[0], reqs or FALLBACK_REQUIRES
    except importlib.metadata.PackageNotFoundError:
        return FALLBACK_VERSION, FALLBACK_REQUIRES


ENGINE = Path(__file__).resolve().parent.parent


def engine_paths() -> list[Path]:
    """The judge's own package, as installed or checked out: its Python files only."""
    return [p for p in sorted(ENGINE.rglob("*.py")) if "__pycache__" not in p.parts]


def engine_files() -> dict[str, bytes]:
    """The judge's own package, as the wheels hold it."""
    return {f"grader/{p.relative_to(ENGINE).as_posix()}": p.read_bytes() for p in engine_paths()}


def course_label(name: str) -> str:
    """A course's name as a segment of a version's local label: lower-case letters and digits, never digits
    alone (PEP 440 would read those as a number and drop their leading zeros)."""
    label = re.sub(r"[^a-z0-9]", "", name.lower())
    return label if label and not label.isdigit() else f"set{label}"


def made_at(sources: Iterable[Path]) -> int:
    """When a package's contents last changed: the modification time of the newest file it is made from (not
    the clock: the same set packaged twice gives the same bytes)."""
    return max((int(p.stat().st_mtime) for p in sources), default=0)


SHOWN = "%Y-%m-%d %H:%M UTC"  # a package's date, as its summary and README show it


def utc(when: int, form: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    return time.strftime(form, time.gmtime(max(when, ZIP_EPOCH)))


def package_version(course: str, files: dict[str, bytes], when: int) -> str:
    """`0.1.0+<course>.<yyyymmddhhmmss>.g<digest>`: the engine's version, the course, the date (UTC), and a
    digest of the files (each name and its bytes), so different contents never share a version."""
    digest = fingerprint(*(part for name in sorted(files) for part in (name, files[name])))
    return f"{_requires()[0]}+{course_label(course)}.{utc(when, '%Y%m%d%H%M%S')}.g{digest[:10]}"


def wheel(files: dict[str, bytes], summary: str, version: str) -> tuple[str, bytes]:
    """A pure-Python wheel of the `judge` distribution at `version` holding `files`; (its file name, its bytes)."""
    requires = _requires()[1]
    dist_info = f"{DIST}-{version}.dist-info"
    tops = sorted({name.split("/")[0] for name in files})
    files = dict(files)
    files[f"{dist_info}/METADATA"] = "\n".join(
        [
            "Metadata-Version: 2.1",
            f"Name: {DIST}",
            f"Version: {version}",
            f"Summary: {summary}",
            f"Requires-Python: {REQUIRES_PYTHON}",
            *[f"Requires-Dist: {r}" for r in requires],
            "",
        ]
    ).encode()
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: judge release\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{dist_info}/entry_points.txt"] = b"[console_scripts]\njudge = grader.launch:main\n"
    files[f"{dist_info}/top_level.txt"] = ("\n".join(tops) + "\n").encode()
    record = []
    for name in sorted(files):
        digest = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(files[name])}")
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    return wheel_name(version), zip_bytes(files, zipfile.ZIP_DEFLATED)


def wheel_name(version: str) -> str:
    """The file name of the `judge` wheel at `version` (a kit's, for the notebooks that install it)."""
    return f"{DIST}-{version}-py3-none-any.whl"
