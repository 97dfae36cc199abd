"""What one sandboxed run gives the judge: an Outcome of facts, within a bounded channel."""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.child.protocol import Frame

MAX_FRAMES = 10_000  # far more than any problem's cases


def output_budget(expected_sizes: list[int]) -> int:
    """Room on the channel for answers of these sizes: 64 bytes a value (float64 is 8) and 1 MiB a case."""
    return sum(64 * n + (1 << 20) for n in expected_sizes)


@dataclass
class Outcome:
    """What happened to one learner's process, as the judge saw it."""

    level: str
    frames: list[tuple[Frame, bytes]] = field(default_factory=list)
    exit_code: int | None = None  # from the keeper
    signal: int | None = None  # from the keeper
    timed_out: str | None = None  # "import" or "cases": the judge's clock ran out, or the code loops forever
    forever_s: float | None = None  # the learner's process said it loops forever, this long into the phase
    overflow: bool = False  # the result channel went past the sandbox's max_output
    bad_frame: str | None = None  # the channel broke the protocol: why (the learner's fault)
    stdout: str = ""  # the learner's output: evidence for people, never an input to a status
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    wall_s: float = 0.0
    peak_rss_mb: float | None = None  # the learner's own process (the keeper's wait4)
    limit: str | None = None  # a summed limit the sandbox went over: memory, cpu or tasks (the group or the keeper)
    memory_mb: float | None = None  # peak memory of the whole sandbox, where measured
    cpu_s: float | None = None  # CPU seconds of every process of the sandbox
