"""Sealed cache entries: what the judge wrote reads back; anything else is refused."""

from grader.model.storage import seal, unseal


def test_a_sealed_entry_reads_back_and_a_changed_one_does_not(tmp_path):
    key = tmp_path / "key"
    blob = seal(b"expected output", key)
    assert unseal(blob, key) == b"expected output"
    assert (key.stat().st_mode & 0o777) == 0o600
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert unseal(tampered, key) is None
    assert unseal(b"expected output", key) is None  # a plain file a learner wrote
    assert unseal(seal(b"x", tmp_path / "other-key"), key) is None  # sealed with a key that is not the judge's
