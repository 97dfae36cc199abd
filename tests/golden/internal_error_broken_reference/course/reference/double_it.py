import numpy as np


def double_it(x, scale):
    raise RuntimeError("this reference is broken on purpose: the judge cannot compute the expected output")
