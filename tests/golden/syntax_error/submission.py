def cross_attention_mask(encoder_ids, decoder_len, pad_id=0)
    return encoder_ids
