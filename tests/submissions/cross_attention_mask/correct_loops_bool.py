# Plain loops, returning booleans: True counts as 1.0.
def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    return [[[[int(tok) != pad_id for tok in row] for _ in range(decoder_len)]] for row in encoder_ids.tolist()]
