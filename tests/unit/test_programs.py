"""The judge's own process gives JAX's memory back past a limit (answers.release_programs): `judge check`'s survey
of 200 secrets compiled thousands of programs and held 4 GB. Their lowerings go first, and the programs stay."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grader.sets.answers import drop_lowerings, held_mb, release_programs


def test_compiled_programs_are_kept_below_the_limit_and_dropped_past_it():
    double = jax.jit(lambda x: x * 2)
    double(jnp.ones(3))
    assert double._cache_size() == 1
    assert release_programs(over_mb=1 << 20) is False  # a TB: never reached, nothing dropped
    assert double._cache_size() == 1
    assert release_programs(over_mb=0) is True  # any process is past 0 MB
    assert double._cache_size() == 0
    assert float(double(jnp.ones(3))[0]) == 2.0  # compiled again when called again


def compiled(programs: int):
    """A jitted function compiled for `programs` sizes, the lowerings earlier tests left dropped first."""
    scale = jax.jit(lambda x: jnp.tanh(x) * 3 + 1)
    drop_lowerings()
    for n in range(1, programs + 1):
        scale(np.ones(n, np.float32))
    return scale


def test_dropping_the_lowerings_gives_most_of_the_memory_back_and_keeps_the_programs():
    drop_lowerings()
    before = held_mb()
    scale = compiled(60)
    grown = held_mb() - before
    assert grown > 40, grown  # about 1.5 MB a program
    assert drop_lowerings() is True
    assert held_mb() - before < grown * 0.6, (grown, held_mb() - before)  # the lowerings were 1.1 MB of each 1.5
    assert scale._cache_size() == 60  # the compiled programs stay: called again, nothing is compiled
    assert float(scale(np.ones(7, np.float32))[0]) == pytest.approx(np.tanh(1.0) * 3 + 1, rel=1e-6)
    assert scale._cache_size() == 60


def test_past_the_limit_the_lowerings_go_first_and_the_programs_stay_when_that_is_enough():
    scale = compiled(100)
    assert release_programs(over_mb=held_mb()) is True  # at the limit; 100 lowerings are more than a twentieth
    assert scale._cache_size() == 100
