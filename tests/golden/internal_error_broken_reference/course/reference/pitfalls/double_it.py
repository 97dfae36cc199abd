import numpy as np

PITFALLS = {
    "no_scale": ("Your output matches x itself: multiply by scale.", lambda x, scale: np.asarray(x, np.float64)),
}
