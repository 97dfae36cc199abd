"""The cgroup files the judge reads and writes, on a fake tree (cgroup v2 cannot be made on every test machine)."""

from pathlib import Path

from grader.sandbox import cgroups, policy
from grader.child.protocol import KeeperReport

HYBRID = """31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
PROC_CGROUP = "8:pids:/\n4:memory:/process_api/abc\n2:cpuacct:/\n0::/\n"


def test_the_hierarchies_and_the_judges_own_groups_are_found():
    mounts = cgroups._mounts(HYBRID)
    assert mounts["memory"] == ("/sys/fs/cgroup/memory", "/") and mounts["unified"] == ("/sys/fs/cgroup/unified", "/")
    own = cgroups._own(PROC_CGROUP)
    assert own == {"pids": "/", "memory": "/process_api/abc", "cpuacct": "/", "unified": "/"}
    assert cgroups._join(*mounts["memory"], own["memory"]) == Path("/sys/fs/cgroup/memory/process_api/abc")
    # a container's cgroup namespace: the mount's root is the container's group
    assert cgroups._join("/sys/fs/cgroup", "/docker/x", "/docker/x/judge") == Path("/sys/fs/cgroup/judge")


def test_a_v2_group_gets_its_limits_and_reports_its_totals(tmp_path, monkeypatch):
    monkeypatch.setattr(cgroups, "_where", lambda: ("v2", {"unified": tmp_path}))
    mkdir = Path.mkdir

    def kernel_mkdir(self, *args, **kwargs):  # the kernel makes a group's files with it
        mkdir(self, *args, **kwargs)
        (self / "cgroup.procs").touch()

    monkeypatch.setattr(Path, "mkdir", kernel_mkdir)
    group = cgroups.create(2048, 256)
    assert group is not None and group.version == "v2" and len(group.joins) == 1
    group.close_joins()
    folder = group.main
    assert (folder / "memory.max").read_text() == str(2048 * 2**20)
    assert (folder / "pids.max").read_text() == "256" and (folder / "memory.oom.group").read_text() == "1"
    (folder / "memory.peak").write_text(f"{300 * 2**20}\n")
    (folder / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (folder / "pids.events").write_text("max 0\n")
    totals = group.totals()
    assert (totals.peak_mb, totals.cpu_s, totals.oom_kills, totals.forks_refused) == (300.0, 2.5, 1, 0)
    assert totals.over(10.0) == "memory"
    group.kill()
    assert (folder / "cgroup.kill").read_text() == "1"  # one write kills the whole group (Linux 5.14+)


def test_v2_groups_go_where_the_controllers_are_given(tmp_path):
    top = tmp_path / "cgroup"
    own = top / "user.slice" / "app.slice" / "judge.scope"
    own.mkdir(parents=True)
    (own / "cgroup.subtree_control").write_text("\n")
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    assert cgroups._v2_parent(own, top) == own.parent  # beside the judge: its own group holds the judge
    (own / "cgroup.subtree_control").write_text("memory pids\n")
    assert cgroups._v2_parent(own, top) == own  # a delegated subtree that gives them already
    (top / "cgroup.controllers").write_text("cpu\n")
    (top / "cgroup.subtree_control").write_text("")
    assert cgroups._v2_parent(top, top) is None  # no memory controller, and nothing above the namespace's root


def test_the_limit_gone_over_is_named_in_order():
    assert cgroups.Totals(None, 3.0, 0, 0).over(2.0) == "cpu"
    assert cgroups.Totals(None, 1.0, 0, 5).over(2.0) == "tasks"
    assert cgroups.Totals(None, 1.0, 0, 0).over(2.0) is None


def test_without_a_group_the_keepers_report_is_the_sandboxs_totals():
    totals = cgroups.summed(None, KeeperReport(exit=-9, limit="memory", peak_kb=2 * 2**20, cpu_ms=1500), 20.0, None)
    assert (totals.limit, totals.peak_mb, totals.cpu_s, totals.measured) == ("memory", 2048.0, 1.5, True)
    assert cgroups.summed(None, None, 20.0, None).measured is False


def test_no_group_is_made_when_told_not_to(monkeypatch):
    monkeypatch.setenv("JUDGE_NO_CGROUP", "1")
    assert cgroups.create(2048, 256, policy.cgroups_allowed()) is None
    assert cgroups.mechanism(policy.cgroups_allowed()) == "keeper"
