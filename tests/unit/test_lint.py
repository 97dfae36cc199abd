"""The linters as tests, so that `pytest` alone is the whole check (CI runs exactly that): ruff, its formatter,
and mypy over grader/. Each says how to fix what it found."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tool(*args: str) -> subprocess.CompletedProcess:
    module = args[0]
    try:
        __import__(module)
    except ImportError:
        pytest.fail(f"{module} is not installed: pip install -e '.[test]'")
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_ruff_finds_nothing():
    proc = tool("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_code_is_formatted():
    proc = tool("ruff", "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr + "\n(fix: ruff format .)"


def test_mypy_finds_nothing():
    proc = tool("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
