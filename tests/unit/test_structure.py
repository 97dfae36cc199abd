"""The shape of the code: no import cycle, small modules, no Python source in strings, a self-contained child."""

import ast
import sys
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parents[2] / "grader"
MODULES = sorted(GRADER.glob("*.py"))
CHILD = ("worker", "runner", "traced", "protocol", "confine", "watch", "compile_hook")


def imports_of(path: Path) -> set[str]:
    """grader modules imported anywhere in the file (lazily too), except for type checking only."""
    found = set()
    tree = ast.parse(path.read_text())
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
            found |= {f"grader.{a.name}" for a in node.names} if node.module == "grader" else {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("grader.")}
    return {m for m in found if (GRADER / f"{m.split('.')[1]}.py").exists()} - {f"grader.{path.stem}"}


def test_no_import_cycle():
    graph = {f"grader.{p.stem}": imports_of(p) for p in MODULES}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        if state.get(m) == 1:
            pytest.fail("import cycle: " + " -> ".join(trail[trail.index(m) :] + [m]))
        if state.get(m) == 2:
            return
        state[m] = 1
        for dep in sorted(graph.get(m, ())):
            visit(dep, trail + [m])
        state[m] = 2

    for m in graph:
        visit(m, [])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_is_over_350_lines(path):
    assert len(path.read_text().splitlines()) <= 350


def test_no_python_source_is_run_from_a_string():
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            assert not (isinstance(node, ast.Constant) and node.value == "-c"), f"{path.name} runs `python -c`"


@pytest.mark.parametrize("name", CHILD)
def test_the_child_side_imports_nothing_of_the_judge_when_run_in_the_sandbox(name):
    """Outside the `if __package__:` branch (the judge's own tests), only the stdlib, numpy and its siblings."""
    tree = ast.parse((GRADER / f"{name}.py").read_text())
    allowed = set(sys.stdlib_module_names) | {"numpy", *CHILD}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__package__":
            node_list = node.orelse
        else:
            node_list = [node]
        for n in node_list:
            for sub in ast.walk(n):
                if isinstance(sub, ast.Import):
                    assert {a.name.split(".")[0] for a in sub.names} <= allowed, ast.unparse(sub)
                elif isinstance(sub, ast.ImportFrom) and sub.level == 0:
                    assert sub.module.split(".")[0] in allowed, ast.unparse(sub)


def test_the_child_runs_as_a_script_without_the_judge(tmp_path):
    """Copied alone into a folder, the child's modules load (the judge's package unreachable)."""
    import shutil
    import subprocess

    for name in CHILD:
        shutil.copy(GRADER / f"{name}.py", tmp_path / f"{name}.py")
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import runpy, sys\nsys.argv = ['worker.py']\n"
        f"ns = runpy.run_path({str(tmp_path / 'worker.py')!r}, run_name='not_main')\n"
        "print(sorted(m for m in sys.modules if m.startswith('grader')), ns['runner'].__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-I", str(probe)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "runner"]
