"""The shape of the code: layers that import only downward, no circle, a self-contained child, one home per name.

The layers, bottom up (a package may import its own modules and those of lower layers, never sideways or up):

    model                              the data: problems, verdicts and their facts, errors, comparison, storage
    sets, sandbox, render              problem sets and their answers; running learner code; sentences and documents
    context                            which set, cache and zygotes a call works with
    grading                            one submission: reading it, the one case loop, diagnosis, check_function
    batch, practice, authoring         a class; practising alone; `judge check` and `judge new`
    package                            learner kits and Gradescope zips
    api                                the library's functions, one per command
    cli                                parse, call one api function, render
    launch                             the console script

`child` is apart: it runs inside the sandbox and imports nothing of the judge; sandbox and grading import it.
"""

import ast
import sys
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parents[2] / "grader"
MODULES = sorted(p for p in GRADER.rglob("*.py") if "__pycache__" not in p.parts)
RANK = {
    "model": 0,
    "child": 0,
    "sets": 1,
    "sandbox": 1,
    "render": 1,
    "context": 2,
    "grading": 3,
    "batch": 4,
    "practice": 4,
    "authoring": 4,
    "package": 5,
    "api": 6,
    "cli": 7,
    "launch": 8,
    "__main__": 9,
    "__init__": 9,
}
CHILD = sorted((GRADER / "child").glob("*.py"))
# What the child may import when it runs as a script in the sandbox (the compile server, trusted, also JAX).
CHILD_ALLOWED = set(sys.stdlib_module_names) | {"numpy", *(p.stem for p in CHILD)}
SERVER_ALLOWED = CHILD_ALLOWED | {"jax"}
# Only these read the process environment: the command line's entry, the context built from it, and the sandbox
# policy (which also writes the environment of the processes it starts). The child reads its own, set by the policy.
ENVIRONMENT_READERS = {"launch.py", "context.py", "sandbox/policy.py", "child"}


def name_of(path: Path) -> str:
    rel = path.relative_to(GRADER).with_suffix("")
    return ".".join(("grader", *rel.parts)).removesuffix(".__init__")


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def grader_imports(path: Path) -> set[str]:
    """Every grader module the file imports, anywhere in it: lazily and for type checking too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("grader"):
            base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if (GRADER / Path(*sub.split(".")[1:])).with_suffix(".py").exists() else base)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("grader.")}
    known = {name_of(p) for p in MODULES}
    return {m for m in found if m in known} - {name_of(path)}


GRAPH = {name_of(p): grader_imports(p) for p in MODULES}


def test_every_package_is_a_layer_named_here():
    assert {package_of(m) for m in GRAPH} <= set(RANK)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_a_module_imports_only_its_own_package_and_lower_layers(module):
    here = package_of(module)
    for dep in sorted(GRAPH[module]):
        there = package_of(dep)
        if there == here or (there == "child" and here in ("sandbox", "grading")):
            continue
        assert there != "child", f"{module} imports the child side ({dep}): only sandbox and grading may"
        assert RANK[there] < RANK[here], f"{module} (layer {here}) imports {dep} (layer {there}): not below it"


def test_no_import_circle_even_through_type_only_imports():
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        if state.get(m) == 1:
            pytest.fail("import circle: " + " -> ".join(trail[trail.index(m) :] + [m]))
        if state.get(m) == 2:
            return
        state[m] = 1
        for dep in sorted(GRAPH.get(m, ())):
            visit(dep, trail + [m])
        state[m] = 2

    for m in GRAPH:
        visit(m, [])


def test_the_cli_calls_the_library_it_does_not_reach_into_it():
    """The commands parse, call one function of grader.api and render: nothing of the inner packages."""
    allowed = {"cli", "api", "context", "render", "model"}
    for module, deps in GRAPH.items():
        if package_of(module) == "cli":
            inner = sorted(d for d in deps if package_of(d) not in allowed)
            assert not inner, f"{module} reaches into {inner}"


def test_no_folder_holds_more_than_a_dozen_modules():
    for folder in [GRADER, *(p for p in GRADER.iterdir() if p.is_dir() and p.name != "__pycache__")]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 12, f"{folder.name}/ holds {len(modules)} modules"


def test_each_name_has_one_home_no_re_exports():
    """No `import x as x`, no `__all__` lists of borrowed names, no unused-import waivers: a name is imported
    from where it is defined."""
    for path in MODULES:
        text = path.read_text()
        for line in text.splitlines():
            assert not ("noqa: F401" in line and "grader" in line), f"{path.relative_to(GRADER)}: {line.strip()}"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    assert alias.asname != alias.name.split(".")[-1], f"{path.relative_to(GRADER)}: {ast.unparse(node)}"


def environment_reads(tree: ast.AST) -> list[str]:
    """The places that read os.environ (or getenv): setting a variable for a process the judge starts, or for
    its own JAX before it starts (`os.environ.update`, `os.environ[k] = v`), is not reading."""
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "getenv":
            reads.append(ast.unparse(node))
        if not (isinstance(node, ast.Attribute) and node.attr == "environ"):
            continue
        parent = parents.get(id(node))
        writes = (isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store)) or (
            isinstance(parent, ast.Attribute) and parent.attr == "update"
        )
        if not writes:
            reads.append(ast.unparse(parent or node))
    return reads


def test_only_the_entry_and_the_sandbox_policy_read_the_environment():
    for path in MODULES:
        rel = path.relative_to(GRADER).as_posix()
        if rel in ENVIRONMENT_READERS or rel.split("/")[0] in ENVIRONMENT_READERS or rel.startswith("cli/"):
            continue
        reads = environment_reads(ast.parse(path.read_text()))
        assert not reads, f"{rel} reads the environment: {reads[0]}"


def test_no_python_source_is_run_from_a_string():
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            assert not (isinstance(node, ast.Constant) and node.value == "-c"), f"{path.name} runs `python -c`"


@pytest.mark.parametrize("path", CHILD, ids=lambda p: p.name)
def test_the_child_side_imports_nothing_of_the_judge_when_run_in_the_sandbox(path):
    """Outside the `if __package__:` branch (the judge importing it as grader.child), only the stdlib, numpy and
    its siblings (the compile server, trusted and outside the sandbox, JAX too)."""
    allowed = SERVER_ALLOWED if path.stem == "compile_server" else CHILD_ALLOWED
    for node in ast.parse(path.read_text()).body:
        nodes = node.orelse if isinstance(node, ast.If) and ast.unparse(node.test) == "__package__" else [node]
        for n in nodes:
            for sub in ast.walk(n):
                if isinstance(sub, ast.Import):
                    assert {a.name.split(".")[0] for a in sub.names} <= allowed, ast.unparse(sub)
                elif isinstance(sub, ast.ImportFrom) and sub.level == 0:
                    assert (sub.module or "").split(".")[0] in allowed, ast.unparse(sub)


def test_the_child_runs_as_a_script_without_the_judge(tmp_path):
    """Copied alone into a folder, the child package's modules load (the judge's package unreachable)."""
    import shutil
    import subprocess

    for path in CHILD:
        shutil.copy(path, tmp_path / path.name)
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import runpy, sys\nsys.argv = ['worker.py']\n"
        f"ns = runpy.run_path({str(tmp_path / 'worker.py')!r}, run_name='not_main')\n"
        "print(sorted(m for m in sys.modules if m.startswith('grader')), ns['runner'].__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-I", str(probe)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "runner"]


def test_the_sandbox_starts_before_the_heavier_imports():
    """`judge run` starts its zygote before the judge's own imports (grader/launch.py): the sandbox's modules
    load neither pydantic nor numpy, nor rich or typer."""
    import subprocess

    heavy = "{'pydantic', 'numpy', 'rich', 'typer'}"
    probe = f"import sys, grader.sandbox.box, grader.launch; print(sorted(set(sys.modules) & {heavy}))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.split() == ["[]"], proc.stdout + proc.stderr
