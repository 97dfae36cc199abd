import jax
import jax.numpy as jnp
from flax import nnx

ORDER = ("q_proj", "k_proj", "v_proj", "out_proj")
XAVIER = nnx.initializers.xavier_uniform()


def _mha(
    seed,
    x,
    num_heads,
    d_model,
    *,
    order=ORDER,
    split="heads_first",
    k_transpose="last_two",
    scale=True,
    softmax_axis=-1,
    out_proj=True,
    init=None,
):
    """The reference forward pass with one detail changed (`init`: the layers' kernel_init)."""
    d, h = int(d_model), int(num_heads)
    rngs = nnx.Rngs(int(seed))
    kernel = {} if init is None else {"kernel_init": init}
    layers = {name: nnx.Linear(d, d, rngs=rngs, **kernel) for name in order}
    t, dh = x.shape[0], d // h
    if split == "heads_first":
        heads = lambda y: y.reshape(t, h, dh).transpose(1, 0, 2)  # noqa: E731
    else:  # reshape straight to (H, T, Dh): heads and positions mixed up
        heads = lambda y: y.reshape(h, t, dh)  # noqa: E731
    q, k, v = (heads(layers[n](x)) for n in ORDER[:3])
    kt = k.transpose(0, 2, 1) if k_transpose == "last_two" else k.transpose(2, 1, 0).reshape(h, dh, t)
    scores = q @ kt
    if scale:
        scores = scores / jnp.sqrt(dh)
    per_head = jax.nn.softmax(scores, axis=softmax_axis) @ v
    concat = per_head.transpose(1, 0, 2).reshape(t, d)
    return (layers["out_proj"](concat) if out_proj else concat).reshape(-1)


PITFALLS = {
    "projection_order": (
        "Your output matches Q and K swapped (or k_proj created before q_proj): queries come from q_proj, created first, then k_proj, v_proj, out_proj.",
        lambda *a: _mha(*a, order=("k_proj", "q_proj", "v_proj", "out_proj")),
    ),
    "fixed_seed": (
        "Your output matches nnx.Rngs(0): build the layers from nnx.Rngs(int(seed)).",
        lambda seed, x, num_heads, d_model: _mha(0, x, num_heads, d_model),
    ),
    "no_head_transpose": (
        "Your output matches reshaping straight to (H, T, head_dim) without moving the heads axis first: reshape to (T, H, head_dim), then transpose(1, 0, 2).",
        lambda *a: _mha(*a, split="reshape_only"),
    ),
    "k_full_transpose": (
        "Your output matches transposing all of K instead of its last two axes: use k.transpose(0, 2, 1).",
        lambda *a: _mha(*a, k_transpose="all"),
    ),
    "no_scale": (
        "Your output matches attention without the 1/sqrt(head_dim) scale on the scores.",
        lambda *a: _mha(*a, scale=False),
    ),
    "softmax_over_heads": (
        "Your output matches a softmax over axis 0 (the heads): normalise over the keys, axis=-1.",
        lambda *a: _mha(*a, softmax_axis=0),
    ),
    "softmax_over_queries": (
        "Your output matches a softmax over axis 1 (the queries): normalise over the keys, axis=-1.",
        lambda *a: _mha(*a, softmax_axis=1),
    ),
    "no_out_proj": (
        "Your output matches the concatenated heads without out_proj: the heads need their final mix.",
        lambda *a: _mha(*a, out_proj=False),
    ),
    "xavier_uniform": (
        "Your output matches kernels initialised with xavier_uniform (glorot): keep nnx.Linear's default kernel_init.",
        lambda *a: _mha(*a, init=XAVIER),
    ),
    "kernels_ones": (
        "Your output matches every kernel fixed to ones (kernel_init=nnx.initializers.ones, as in library tests): "
        "keep nnx.Linear's default kernel_init, which draws the kernels from the Rngs.",
        lambda *a: _mha(*a, init=nnx.initializers.ones),
    ),
}

# Mistakes made together in real code, named together: test code's fixed key with glorot kernels.
COMBINED = {
    ("fixed_seed", "xavier_uniform"): lambda seed, x, num_heads, d_model: _mha(0, x, num_heads, d_model, init=XAVIER),
}
