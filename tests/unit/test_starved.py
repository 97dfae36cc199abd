"""Which timeouts a batch grades again alone: only those the machine's load may have caused."""

import pytest

from grader.batch.run import maybe_starved
from grader.model.verdict import Result, Status


def timeout(limit: str, cpu_s: float | None, wall_s: float) -> Result:
    return Result(
        problem="p", submission="s.py", status=Status.TIMEOUT, message="", time_s=wall_s, cpu_s=cpu_s, limit=limit
    )


@pytest.mark.parametrize(
    ("limit", "cpu_s", "wall_s", "starved"),
    [
        ("cpu", 50.0, 51.0, False),  # the sandbox's own CPU time: the load does not change it
        ("wall", 19.8, 20.0, False),  # a busy loop that had a core all along would time out alone too
        ("wall", 2.0, 20.0, True),  # a tenth of a core: maybe a neighbour's hogs took the rest
        ("wall", None, 20.0, True),  # nothing measured: grade it alone to be sure
        ("wall", 0.1, 20.0, True),  # asleep, or waiting: alone costs little to find out
    ],
)
def test_only_timeouts_the_load_may_explain_are_regraded_alone(limit, cpu_s, wall_s, starved):
    assert maybe_starved(timeout(limit, cpu_s, wall_s)) is starved
