"""The sandbox's policy as data: what is mounted where, what is masked, which limits (no process started)."""

import os
import sys
from pathlib import Path

import pytest

from grader.model.cache import Cache
from grader.model.errors import BwrapUnusable, UsageError
from grader.model.problem import Limits
from grader.sandbox import policy

CACHE = Cache.under(Path("/nonexistent/judge-cache"))


def bound(mounts) -> dict[str, str]:
    return {m.target: m.source for m in mounts if m.op == "ro-bind"}


def test_a_runtime_under_tmp_is_shown_elsewhere_so_the_sandboxs_tmp_cannot_hide_it(monkeypatch, tmp_path):
    venv = "/tmp/class/.venv"
    monkeypatch.setattr(policy, "runtime_dirs", lambda: ["/usr", venv])
    monkeypatch.setattr(policy, "judge_masks", list)
    targets = bound(policy.mounts(CACHE))
    assert targets[policy.RELOCATED + venv] == venv
    assert not [t for t in targets if t.startswith("/tmp/")]  # /tmp is the learner's tmpfs


@pytest.mark.parametrize(
    "path,shown",
    [
        ("/tmp/v", "/run/rt/tmp/v"),
        ("/tmp", "/run/rt/tmp"),
        ("/usr/lib", "/usr/lib"),
        ("/var/tmp/v", "/var/tmp/v"),
        ("/root/.venv", "/root/.venv"),
        ("/tmpfoo/v", "/tmpfoo/v"),
    ],
)
def test_only_paths_the_sandbox_mounts_over_are_relocated(path, shown):
    assert policy.inside(path) == shown


def test_the_interpreter_is_named_as_the_sandbox_shows_it(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/tmp/x/venv/bin/python3")
    assert policy.interpreter() == "/run/rt/tmp/x/venv/bin/python3"


def test_the_compile_cache_exists_before_it_is_mounted(tmp_path):
    targets = bound(policy.mounts(Cache.under(tmp_path / "fresh")))
    source = targets[policy.XLA_MOUNT]
    assert os.path.isdir(source) and source.startswith(str(tmp_path))


def test_an_uncreatable_compile_cache_still_gives_the_learner_a_folder(tmp_path):
    (tmp_path / "file").write_text("")
    ops = {m.target: m.op for m in policy.mounts(Cache.under(tmp_path / "file"))}
    assert ops[policy.XLA_MOUNT] == "dir"


def test_the_judges_files_in_site_packages_are_masked(monkeypatch, tmp_path):
    site = tmp_path / "site-packages"
    (site / "judge-0.1.0.dist-info").mkdir(parents=True)
    (site / "__editable__.judge-0.1.0.pth").write_text("")
    (site / "numpy").mkdir()
    monkeypatch.setattr(policy, "site_dirs", lambda: [str(site)])
    masks = policy.judge_masks()
    assert str(site / "judge-0.1.0.dist-info") in masks and str(site / "__editable__.judge-0.1.0.pth") in masks
    assert str(site / "numpy") not in masks
    kinds = {m.target: m.op for m in policy.mounts(CACHE)}
    assert kinds[policy.inside(str(site / "judge-0.1.0.dist-info"))] == "tmpfs"
    assert kinds[policy.inside(str(site / "__editable__.judge-0.1.0.pth"))] == "null"


def test_the_child_code_is_bound_read_only_and_nothing_else_of_the_judge(monkeypatch):
    monkeypatch.setattr(policy, "runtime_dirs", lambda: ["/usr"])
    targets = bound(policy.mounts(CACHE))
    child = {t: s for t, s in targets.items() if t.startswith(policy.CHILD_DIR)}
    assert child == {policy.CHILD_DIR: str(policy.CHILD)}  # the child package, whole, and only it
    judge = str(policy.JUDGE_ROOT)
    assert [s for s in targets.values() if s.startswith(judge + os.sep) and s not in child.values()] == []


def test_mounts_render_as_bubblewrap_arguments():
    assert policy.Mount("ro-bind", "/b", "/a").argv() == ["--ro-bind", "/a", "/b"]
    sized = ["--size", str(1 << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    assert policy.Mount("tmpfs", "/tmp", size_mb=1).argv() == sized
    assert policy.Mount("null", "/x.pth").argv() == ["--ro-bind", "/dev/null", "/x.pth"]
    assert policy.Mount("proc", "/proc").argv() == ["--proc", "/proc"]


def test_limits_follow_the_problem_and_count_processes_only_under_an_own_uid():
    limits = Limits(time_s=5, import_s=10, memory_mb=2000)
    assert policy.rlimits(limits, own_uid=False)["RLIMIT_AS"] == 2000 << 20
    assert "RLIMIT_NPROC" not in policy.rlimits(limits, own_uid=False)
    assert policy.rlimits(limits, own_uid=True)["RLIMIT_NPROC"] == 512


def test_unknown_levels_are_usage_errors(monkeypatch):
    with pytest.raises(UsageError, match="unknown sandbox level 'docker'"):
        policy.resolve_level("docker")
    assert policy.resolve_level("process") == "process"
    monkeypatch.setattr(policy, "bwrap_available", lambda: False)
    with pytest.raises(BwrapUnusable):  # its own type: the command line adds how to install it
        policy.resolve_level("bwrap")


def test_the_sandbox_reads_the_jax_settings_of_its_cache_and_never_writes_it():
    env = policy.env("/tmp", CACHE, policy.XLA_MOUNT)
    assert env["JAX_COMPILATION_CACHE_DIR"] == policy.XLA_MOUNT and env["JAX_PLATFORMS"] == "cpu"
    assert float(env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) >= 1e9  # a compile time no compile reaches
    assert env["XLA_FLAGS"] == CACHE.xla_flags
    assert CACHE.jax_settings(writes=True)["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"


# ---------------------------------------------------------------- folders that .pth files add


def _venv_with_pth(tmp_path, monkeypatch, *lines: str):
    """A runtime whose one site-packages holds `deps.pth` with these lines."""
    site = tmp_path / "venv" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    (site / "deps.pth").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(policy, "site_packages", lambda: [str(site)])
    return site


def test_the_folders_pth_lines_add_are_found_as_site_finds_them(tmp_path, monkeypatch):
    for d in ("deps", "venv/site-packages/relative"):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    site = _venv_with_pth(
        tmp_path,
        monkeypatch,
        "# a comment",
        "",
        "import sys; sys.path.append('/ran')",  # code: never run to find folders
        str(tmp_path / "deps"),
        "relative",  # relative to the site-packages folder
        str(tmp_path / "missing"),  # site skips what does not exist
    )
    assert policy.pth_dirs(str(site)) == [str(tmp_path / "deps"), str(site / "relative")]
    assert policy.site_dirs() == [str(site), str(tmp_path / "deps"), str(site / "relative")]


def test_a_pth_folder_is_shown_read_only_and_readable_at_the_process_level(tmp_path, monkeypatch):
    """A venv reaching another venv's libraries (under /tmp, as `python3 -m venv /tmp/v` makes) through a .pth
    line: the sandbox shows that folder, relocated off the sandbox's own /tmp, and Landlock lets learners read it."""
    deps = tmp_path / "outer" / "site-packages"
    (deps / "numpy").mkdir(parents=True)
    _venv_with_pth(tmp_path, monkeypatch, str(deps))
    assert str(deps) in policy.runtime_dirs()
    targets = bound(policy.mounts(CACHE))
    assert targets[policy.inside(str(deps))] == str(deps)
    assert policy.inside(str(deps)).startswith(policy.RELOCATED)  # tmp_path lies under /tmp
    read, _ = policy.confinement("/work", CACHE)
    assert str(deps) in read


def test_a_judge_reached_through_a_pth_line_stays_hidden(tmp_path, monkeypatch):
    """Another venv's full install of the judge (its `reference` beside its dist-info) and an editable one's
    finder and metadata are masked in a .pth folder as in site-packages; numpy beside them is not."""
    deps = tmp_path / "outer" / "site-packages"
    for name in ("numpy", "reference", "problems", "grader", "judge-0.1.0.dist-info"):
        (deps / name).mkdir(parents=True)
    (deps / "__editable__.judge-0.1.0.pth").write_text("import __editable___judge_0_1_0_finder\n")
    (deps / "__editable___judge_0_1_0_finder.py").write_text("")
    _venv_with_pth(tmp_path, monkeypatch, str(deps))
    masks = policy.judge_masks()
    for name in ("reference", "problems", "grader", "judge-0.1.0.dist-info", "__editable__.judge-0.1.0.pth"):
        assert str(deps / name) in masks, name
    assert str(deps / "__editable___judge_0_1_0_finder.py") in masks and str(deps / "numpy") not in masks
    read, _ = policy.confinement("/work", CACHE)
    assert str(deps / "numpy") in read and not [p for p in read if p.startswith(str(deps / "reference"))]
    kinds = {m.target: m.op for m in policy.mounts(CACHE)}
    assert kinds[policy.inside(str(deps / "reference"))] == "tmpfs"


def test_a_pth_line_never_shows_the_judges_checkout(tmp_path, monkeypatch):
    """An editable install's compat .pth line names the checkout; a careless one names a folder above it: neither
    is shown (the checkout holds the references), while a folder beside it is."""
    checkout = tmp_path / "checkout"
    (checkout / "src").mkdir(parents=True)
    (tmp_path / "deps").mkdir()
    monkeypatch.setattr(policy, "JUDGE_ROOT", checkout)
    _venv_with_pth(tmp_path, monkeypatch, str(checkout), str(checkout / "src"), str(tmp_path), str(tmp_path / "deps"))
    assert policy.hidden_paths() == [str(checkout)]
    shown = policy.site_dirs()
    assert str(tmp_path / "deps") in shown
    assert not [d for d in shown if d.startswith(str(checkout)) or str(checkout).startswith(d + os.sep)], shown
