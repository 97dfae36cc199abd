"""The judge's own process drops JAX's compiled programs past a limit (answers.release_programs): `judge check`'s
survey of 200 secrets compiled thousands and held 4 GB."""

import jax
import jax.numpy as jnp

from grader.sets.answers import release_programs


def test_compiled_programs_are_kept_below_the_limit_and_dropped_past_it():
    double = jax.jit(lambda x: x * 2)
    double(jnp.ones(3))
    assert double._cache_size() == 1
    assert release_programs(over_mb=1 << 20) is False  # a TB: never reached, nothing dropped
    assert double._cache_size() == 1
    assert release_programs(over_mb=0) is True  # any process is past 0 MB
    assert double._cache_size() == 0
    assert float(double(jnp.ones(3))[0]) == 2.0  # compiled again when called again
