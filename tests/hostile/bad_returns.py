# Returns a different wrong type on each case: str, None, dict, ragged list.
import itertools

_answers = itertools.cycle(["1.0", None, {"mask": 1}, [[1.0, 2.0], [3.0]]])


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    return next(_answers)
