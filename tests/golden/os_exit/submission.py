import os


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    os._exit(3)
