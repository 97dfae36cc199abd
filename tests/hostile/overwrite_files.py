# Tries to overwrite or delete files outside its sandbox: the path is set by the test.
import os

TARGET = "/nonexistent"


def cross_attention_mask(encoder_ids, decoder_len, pad_id=0):
    done = []
    for action in ("write", "delete"):
        try:
            if action == "write":
                with open(TARGET, "w") as f:
                    f.write("pwned")
            else:
                os.remove(TARGET)
            done.append(action)
        except OSError:
            pass
    raise RuntimeError("DID " + ",".join(done) if done else "DID nothing")
