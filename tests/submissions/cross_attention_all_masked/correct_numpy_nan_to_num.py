# Softmax over -inf gives NaN rows; replace them by zeros afterwards, as the tutorial does.
import numpy as np


def cross_attention_all_masked(q, k, v, decoder_ids, encoder_ids, pad_id=0):
    mask = (decoder_ids != pad_id)[:, :, None] * (encoder_ids != pad_id)[:, None, :]  # (N, T_dec, T_enc)
    scores = q.astype(np.float64) @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1])
    scores[np.broadcast_to(mask[:, None] == 0, scores.shape)] = -np.inf
    with np.errstate(invalid="ignore"):
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights = e / e.sum(axis=-1, keepdims=True)
    return np.nan_to_num(weights, nan=0.0) @ v
