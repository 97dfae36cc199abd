"""A learner kit's command line shows the learner's commands only."""

import subprocess


def test_the_kits_help_lists_only_the_commands_it_has(kit_venv):
    """A kit refuses the instructor's commands; its --help once listed them all the same."""
    venv, _, work = kit_venv
    proc = subprocess.run(
        [str(venv / "bin" / "judge"), "--help"],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
    )
    assert proc.returncode == 0, proc.stderr
    commands = proc.stdout.split("Commands:")[1].splitlines()
    listed = {line.split()[0] for line in commands if line.startswith("  ") and line.split()}
    assert {"list", "show", "init", "run", "hint"} <= listed, proc.stdout
    assert not listed & {"batch", "gradescope", "check", "new", "release", "autograder"}, proc.stdout


def test_the_kits_version_names_its_course_and_date(kit_venv):
    venv, _, work = kit_venv
    proc = subprocess.run(
        [str(venv / "bin" / "judge"), "--version"], capture_output=True, text=True, cwd=work, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout.startswith("judge 0.1.0+builtin."), proc.stdout + proc.stderr
