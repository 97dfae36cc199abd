# A learner's answer that fills masked scores with -1e9: no NaN, but padded queries average every value.
import numpy as np


def cross_attention_all_masked(q, k, v, decoder_ids, encoder_ids, pad_id=0):
    mask = (decoder_ids != pad_id)[:, None, :, None] & (encoder_ids != pad_id)[:, None, None, :]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    scores = np.where(mask, scores, -1e9)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)) @ v
