"""The sandbox works wherever the interpreter is installed, and a first run finds its caches ready."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import ROOT, SUBMISSIONS, strong_level

MASK = "cross_attention_mask"


def test_a_venv_under_tmp_grades_at_the_strong_level_on_a_cold_cache():
    """bwrap mounts a fresh /tmp: a venv there used to vanish (`bwrap: execvp /tmp/.../bin/python3`), and the
    compilation cache, made only after the sandbox started, showed learners `PermissionError: '/xla-cache'`."""
    level = strong_level()
    with tempfile.TemporaryDirectory(prefix="judge-venv-", dir="/tmp") as tmp:
        venv = Path(tmp) / "venv"
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run(
            [base, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True, timeout=120
        )
        site = next((venv / "lib").glob("python3*/site-packages"))
        (site / "judge-under-test.pth").write_text(str(ROOT) + "\n")  # the checkout, as an editable install has it
        python = venv / "bin" / "python"
        probe = subprocess.run(
            [str(python), "-c", "import grader, sys; print(sys.prefix)"], capture_output=True, text=True, timeout=60
        )
        assert probe.stdout.strip() == str(venv), probe.stderr  # the judge runs from the venv under /tmp
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "JUDGE_CACHE_DIR": str(Path(tmp) / "cold-cache")}
        proc = subprocess.run(
            [
                str(python),
                "-m",
                "grader",
                "run",
                MASK,
                "--file",
                str(SUBMISSIONS / MASK / "correct_jax.py"),
                "--sandbox",
                level,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp,
        )
    doc = json.loads(proc.stdout)
    assert doc["status"] == "passed", doc["message"]
    assert "xla-cache" not in doc["stderr"] and "PermissionError" not in doc["stderr"], doc["stderr"]
