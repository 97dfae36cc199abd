import numpy as np


def cross_attention_all_masked(q, k, v, decoder_ids, encoder_ids, pad_id=0):
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    visible = (np.asarray(decoder_ids) != pad_id)[:, :, None] & (np.asarray(encoder_ids) != pad_id)[:, None, :]
    visible = visible[:, None]  # (N, 1, T_dec, T_enc): the same for every head
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    scores = np.where(visible, scores, -np.inf)
    # A query that sees no key would get exp(-inf - -inf) = NaN; give it zero weights instead.
    row_max = scores.max(-1, keepdims=True)
    e = np.where(visible, np.exp(scores - np.where(np.isfinite(row_max), row_max, 0.0)), 0.0)
    total = e.sum(-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    return weights @ v
