"""What a sandbox sees and may use, as data: the levels, the mounts, the limits and the environment.

Nothing here starts a process (but the one probe of whether bubblewrap works): `zygote.py`
turns this policy into a running sandbox. This is also the one place of the sandbox that reads the judge's
environment: its switches (JUDGE_NO_LANDLOCK, JUDGE_NO_CGROUP, JUDGE_COMPILE_SERVICE, JUDGE_EAGER), each of
which only weakens or measures. Paths are kept as the judge sees them and mapped with
`inside()` to where the sandbox shows them: folders the sandbox mounts over (/tmp, /dev, /proc)
cannot hold the Python runtime, so a runtime found there (a venv under /tmp) is shown under
RELOCATED instead.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.sandbox import cgroups
from grader.child import confine
from grader.model.cache import Cache
from grader.model.errors import BwrapUnusable, UsageError

if TYPE_CHECKING:
    from grader.model.problem import Limits
    from grader.model.verdict import SandboxInfo

LEVELS = ("bwrap", "process")
STARTUP_S = 60.0  # the runtime's own start (importing numpy/jax), never charged to the learner
TMPFS_MB = 64
SHM_MB = 16
XLA_MOUNT = "/xla-cache"
CHILD_DIR = "/run/child"  # the child package, read-only; covered again in each learner's process
CHILD = Path(__file__).resolve().parents[1] / "child"  # grader/child: everything that runs in the sandbox
# Tasks (processes and threads) of one sandbox together: far above what JAX's thread pools start on a big machine.
TASKS = max(256, 4 * (os.cpu_count() or 1))
RELOCATED = "/run/rt"  # where runtime folders that lie under MOUNTED_OVER are shown
MOUNTED_OVER = ("/tmp", "/dev", "/proc")
JUDGE_ROOT = Path(__file__).resolve().parents[2]
JUDGE_NAMES = ("grader", "reference", "problems")
JUDGE_DIST = "judge-*.dist-info"  # every judge's distribution, a learner kit's or an autograder's included
JUDGE_GLOBS = (JUDGE_DIST, "__editable__*judge*", "judge*.pth", "__pycache__/__editable__*judge*")


# ---------------------------------------------------------------- levels


@functools.cache
def bwrap_available() -> bool:
    if not shutil.which("bwrap") or (os.geteuid() == 0 and not shutil.which("setpriv")):
        return False
    probe = ["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--as-pid-1", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def resolve_level(level: str) -> str:
    """'auto' picks bwrap where it works; asking for bwrap where it does not is an error."""
    if level == "auto":
        return "bwrap" if bwrap_available() else "process"
    if level not in LEVELS:
        raise UsageError(f"unknown sandbox level {level!r}; choose auto, {', '.join(LEVELS)}")
    if level == "bwrap" and not bwrap_available():
        raise BwrapUnusable()
    return level


# ---------------------------------------------------------------- the runtime and the judge in it


def site_packages() -> list[str]:
    """The runtime's site-packages folders (the user's too where Python reads it), resolved."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(os.path.realpath(d) for d in dirs) if os.path.isdir(d)]


def pth_dirs(site_dir: str) -> list[str]:
    """The folders a site-packages folder's .pth files add to sys.path, found as `site.addpackage` finds them:
    every line but comments, blank lines and `import` lines (code, which is not run here), taken relative to
    the folder, kept when it exists. A venv reaches another's libraries this way (`JUDGE_SETUP_DEPS`)."""
    try:
        names = sorted(n for n in os.listdir(site_dir) if n.endswith(".pth"))
    except OSError:
        return []
    found = []
    for name in names:
        try:
            with open(os.path.join(site_dir, name), encoding="locale", errors="surrogateescape") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            if not line.strip() or line.startswith(("#", "import ", "import\t")):
                continue
            path = os.path.realpath(os.path.join(site_dir, line.rstrip()))
            if os.path.isdir(path):
                found.append(path)
    return found


def _within(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def site_dirs() -> list[str]:
    """Every folder the runtime's sys.path takes libraries from: its site-packages and the folders their .pth
    files add (`pth_dirs`), but never one that would show the judge (`_shows_judge`)."""
    own = site_packages()
    added = [path for d in own for path in pth_dirs(d) if not _shows_judge(path, own)]
    return list(dict.fromkeys(own + added))


def _shows_judge(path: str, own: list[str]) -> bool:
    """Whether a folder a .pth line adds would show the judge to learners: it holds the judge's root (the
    checkout, or the site-packages the judge is installed in), or it lies in the checkout outside the runtime
    (an editable install's source; a venv inside the checkout is the runtime)."""
    judge = str(JUDGE_ROOT)
    if _within(judge, path):
        return True
    in_runtime = any(_within(path, os.path.realpath(p)) for p in (sys.prefix, sys.base_prefix))
    return judge not in own and _within(path, judge) and not in_runtime


def runtime_dirs() -> list[str]:
    """The folders the sandbox shows of the Python runtime (read-only): its prefixes and every folder its
    sys.path takes libraries from (`site_dirs`), without those inside another."""
    dirs = sorted(dict.fromkeys(os.path.realpath(d) for d in [sys.base_prefix, sys.prefix, *site_dirs()]))
    return [d for d in dirs if not any(d != o and d.startswith(o + os.sep) for o in dirs)]


def judge_masks() -> list[str]:
    """Files and folders of a judge inside the folders the sandbox shows, to be hidden there: this judge's
    packages where it is installed, the packages of any judge whose distribution lies beside them (a full
    install reached through a .pth line holds a `reference`), and every judge's metadata and .pth files."""
    masks = []
    for d in site_dirs():
        found = {pattern: glob.glob(os.path.join(glob.escape(d), pattern)) for pattern in JUDGE_GLOBS}
        other_judge = bool(found[JUDGE_DIST])
        masks += [
            os.path.join(d, n)
            for n in JUDGE_NAMES  # a learner kit has no `reference` to hide
            if os.path.lexists(os.path.join(d, n))
            and (other_judge or os.path.realpath(JUDGE_ROOT / n) == os.path.join(d, n))
        ]
        masks += [path for paths in found.values() for path in paths]
    return sorted(set(masks))


def hidden_paths() -> list[str]:
    """The judge's checkout, where it is one (not an install in site-packages): never shown to learners."""
    root = str(JUDGE_ROOT)
    return [] if root in site_packages() else [root]


def inside(path: str) -> str:
    """Where the bwrap sandbox shows a path of the runtime."""
    if any(path == top or path.startswith(top + os.sep) for top in MOUNTED_OVER):
        return RELOCATED + path
    return path


def interpreter() -> str:
    """This interpreter, as the bwrap sandbox shows it (the folder resolved like the runtime dirs are)."""
    return inside(os.path.join(os.path.realpath(os.path.dirname(sys.executable)), os.path.basename(sys.executable)))


def child_files() -> list[Path]:
    """The child side, the modules of grader/child: run from a read-only copy or mount of that folder alone,
    never from the judge's package."""
    return sorted(CHILD.glob("*.py"))


def prepare_compile_cache(cache: Cache) -> Path | None:
    """The compilation cache must exist before the sandbox mounts it (else learners' JAX tries to make it)."""
    path = cache.compile_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o711)  # other uids (learners, as root) open entries by exact key, never list them
    except OSError:
        return None
    return path


# ---------------------------------------------------------------- the level without namespaces

# What a learner's process at the process level may read besides the runtime: what the interpreter and
# XLA's CPU client read at start (the process's own /proc entry, the CPU's description).
SYSTEM_READ = (
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/etc",
    "/proc/self",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
)


@functools.cache
def confinable() -> bool:
    """Whether the process level can keep learners from the answers, the caches and the results (Landlock).

    JUDGE_NO_LANDLOCK=1 grades as on a kernel without it (to see or test that fallback); it only ever weakens.
    """
    return confine.landlock_abi() >= 1 and not os.environ.get("JUDGE_NO_LANDLOCK")


def guarded(level: str) -> bool:
    """Whether learners graded at this level are kept from the judge's files, the results and the network."""
    return level == "bwrap" or confinable()


def info(level: str) -> SandboxInfo:
    """What a level keeps a learner from, and what bounds the memory, tasks and CPU time of all a learner's
    processes together: facts for the people who read a grade (grader/render/commands.py words them)."""
    from grader.model.verdict import SandboxInfo  # here: the policy is imported before pydantic is loaded

    landlock = confine.landlock_abi() if level != "bwrap" and confinable() else 0
    return SandboxInfo(level=level, landlock_abi=landlock, bounds=cgroups.mechanism(cgroups_allowed()))


def cgroups_allowed() -> bool:
    """JUDGE_NO_CGROUP=1 grades as where no cgroup can be made: the keeper's supervision bounds the sandbox."""
    return not os.environ.get("JUDGE_NO_CGROUP")


def compile_service_on(default: bool) -> bool:
    """JUDGE_COMPILE_SERVICE=0 or 1 turns the compile service off or on everywhere (to measure, or where it
    misbehaves)."""
    return {"0": False, "1": True}.get(os.environ.get("JUDGE_COMPILE_SERVICE", ""), default)


def bubblewrap_installed() -> bool:
    return shutil.which("bwrap") is not None


_MANAGERS = (
    ("apt-get", "apt-get install -y bubblewrap"),
    ("dnf", "dnf install -y bubblewrap"),
    ("yum", "yum install -y bubblewrap"),
    ("zypper", "zypper install -y bubblewrap"),
    ("pacman", "pacman -S --noconfirm bubblewrap"),
    ("apk", "apk add bubblewrap"),
)


def bubblewrap_install_command() -> str | None:
    """The one command that installs bubblewrap here: with `sudo` only when not root and sudo exists."""
    for tool, command in _MANAGERS:
        if shutil.which(tool):
            if os.geteuid() != 0:
                command = f"sudo {command}" if shutil.which("sudo") else f"{command} (as root)"
            return command
    return None


def confinement(workdir: str, cache: Cache) -> tuple[list[str], list[str]]:
    """What a learner's process at the process level may read, and write: the runtime without the judge in it,
    the compilation cache (read), its own work folder. Not the judge's checkout, its references, its expected
    outputs, nor any results folder."""
    hidden = judge_masks() + hidden_paths()
    read = list(SYSTEM_READ) + [d for top in runtime_dirs() for d in confine.tree_except(top, hidden)]
    return read + [str(cache.compile_dir)], [workdir, "/dev/null"]


def others_can_run_runtime() -> bool:
    """Whether another uid can reach the runtime (pyenv under /root cannot): the process level has no mounts to
    make it reachable, so a learner gets a uid of its own only then."""
    for top in [*runtime_dirs(), os.path.realpath(sys.executable)]:
        for folder in [top, *map(str, Path(top).parents)]:
            try:
                if os.path.isdir(folder) and not os.stat(folder).st_mode & 0o001:
                    return False
            except OSError:
                return False
    return True


# ---------------------------------------------------------------- limits and environment


def rlimits(limits: Limits, own_uid: bool) -> dict[str, int]:
    rl = {
        "RLIMIT_AS": limits.memory_mb * 1024 * 1024,
        "RLIMIT_FSIZE": TMPFS_MB * 1024 * 1024,
        "RLIMIT_CORE": 0,
        "RLIMIT_NOFILE": 1024,
        "RLIMIT_CPU": int(STARTUP_S + limits.import_s + limits.time_s) * 2 + 10,
    }
    if own_uid:  # counts per uid, so only meaningful where the learner has a uid of their own: a backstop
        rl["RLIMIT_NPROC"] = 2 * TASKS
    return rl


def cpu_limit_s(limits: Limits) -> float:
    """CPU seconds of all a sandbox's processes together: the wall-clock limits' sum unless the limits say."""
    return limits.cpu_s if limits.cpu_s is not None else limits.import_s + limits.time_s


def watch_limits(limits: Limits) -> dict[str, float]:
    """What the keeper enforces where no cgroup does (worker.keeper, watch.py)."""
    return {"memory_mb": limits.memory_mb, "cpu_s": cpu_limit_s(limits), "tasks": TASKS}


def env(tmp: str, cache: Cache, compile_dir: str) -> dict[str, str]:
    """The sandbox's whole environment: the compilation cache (shown at `compile_dir`) only read in here."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": tmp,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **cache.jax_settings(writes=False, compile_dir=compile_dir),
        # Learners' calls run eagerly, never compiled whole (grader/child/traced.py): for measuring the difference.
        **({"JUDGE_EAGER": "1"} if os.environ.get("JUDGE_EAGER") == "1" else {}),
    }


# ---------------------------------------------------------------- the bwrap level's file system


@dataclass(frozen=True)
class Mount:
    """One entry of the sandbox's file system, in the order bubblewrap applies them."""

    op: str  # ro-bind, symlink, dir, tmpfs, proc, dev, null (a file hidden behind /dev/null)
    target: str  # the path in the sandbox
    source: str = ""  # ro-bind: the judge's path; symlink: where the link points
    size_mb: int = 0  # tmpfs

    def argv(self) -> list[str]:
        if self.op == "ro-bind":
            return ["--ro-bind", self.source, self.target]
        if self.op == "symlink":
            return ["--symlink", self.source, self.target]
        if self.op == "dir":
            return ["--perms", "0755", "--dir", self.target]
        if self.op == "tmpfs":
            sized = ["--size", str(self.size_mb << 20), "--perms", "1777"] if self.size_mb else []
            return [*sized, "--tmpfs", self.target]
        if self.op == "null":
            return ["--ro-bind", "/dev/null", self.target]
        return [f"--{self.op}", self.target]  # proc, dev


def mounts(cache: Cache) -> list[Mount]:
    """The zygote's file system: the runtime read-only, the judge masked, private /tmp, the caches."""
    out = [Mount("ro-bind", "/usr", "/usr")]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            out.append(Mount("symlink", top, os.readlink(top)))
        elif os.path.isdir(top):
            out.append(Mount("ro-bind", top, top))
    out += [
        Mount("proc", "/proc"),
        Mount("dev", "/dev"),
        Mount("dir", "/dev/shm"),
        Mount("tmpfs", "/tmp", size_mb=TMPFS_MB),
    ]
    made = {"/", "/usr", "/tmp", "/dev", "/proc"}
    for d in runtime_dirs():
        for parent in reversed(Path(inside(d)).parents):
            if str(parent) not in made:
                made.add(str(parent))
                out.append(Mount("dir", str(parent)))
        out.append(Mount("ro-bind", inside(d), d))
    out += [Mount("tmpfs" if os.path.isdir(m) else "null", inside(m)) for m in judge_masks()]
    compiled = prepare_compile_cache(cache)
    out.append(Mount("ro-bind", XLA_MOUNT, str(compiled)) if compiled else Mount("dir", XLA_MOUNT))
    out.append(Mount("ro-bind", CHILD_DIR, str(CHILD)))
    return out


def bwrap_argv(cache: Cache) -> list[str]:
    """The zygote's confinement; each learner's process then gets fresh namespaces of its own inside it."""
    argv = [
        shutil.which("bwrap") or "bwrap",  # found on the judge's PATH: the zygote's own is /usr/bin:/bin
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--as-pid-1",
        "--new-session",
        "--die-with-parent",
    ]
    for m in mounts(cache):
        argv += m.argv()
    argv += ["--clearenv", "--chdir", "/tmp"]
    if os.geteuid() != 0:  # unprivileged, bwrap's user namespace gives the zygote what it needs to isolate learners
        argv += ["--unshare-user", "--cap-add", "ALL"]
    for k, v in env("/tmp", cache, XLA_MOUNT).items():
        argv += ["--setenv", k, v]
    return argv
