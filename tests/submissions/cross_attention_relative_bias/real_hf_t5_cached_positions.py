# Adapted from huggingface/transformers (models/t5/modeling_flax_t5.py, FlaxT5Attention._create_position_bias
# and compute_bias), in NumPy: with a cache, the queries are the last query_length positions of the key range
# (HF keeps the bias's last query_length rows). That is right only when there are as many queries as keys.
# (The clipped table lookup stands in for T5's buckets.)
# expect: mistakes queries_from_end
import numpy as np


def compute_bias(rel_bias, query_length, key_length):
    max_distance = (rel_bias.shape[1] - 1) // 2
    context_position = np.arange(key_length - query_length, key_length, dtype="i4")[:, None]
    memory_position = np.arange(key_length, dtype="i4")[None, :]
    relative_position = memory_position - context_position
    buckets = np.clip(relative_position, -max_distance, max_distance) + max_distance
    return rel_bias[:, buckets]  # (H, query_length, key_length)


def cross_attention_relative_bias(decoder_x, encoder_out, w_q, w_k, w_v, w_o, rel_bias, num_heads):
    n, t_dec, d = decoder_x.shape
    t_enc = encoder_out.shape[1]
    h = int(num_heads)
    dh = d // h

    def shape(states):
        return states.reshape(n, -1, h, dh).transpose(0, 2, 1, 3)

    q, k, v = shape(decoder_x @ w_q), shape(encoder_out @ w_k), shape(encoder_out @ w_v)
    position_bias = compute_bias(np.asarray(rel_bias), t_dec, t_enc)[None]
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh) + position_bias
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return (w @ v).transpose(0, 2, 1, 3).reshape(n, t_dec, d) @ w_o
