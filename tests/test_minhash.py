"""``pipelines.minhash`` gives datasketch's MinHash values (signatures stored before stay valid)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.dedupe import Signer
from pipelines.minhash import minhash_signature

datasketch = pytest.importorskip("datasketch")  # the reference; newsmon itself no longer imports it


def reference(shingles: set[bytes], num_perm: int) -> np.ndarray:
    minhash = datasketch.MinHash(num_perm=num_perm, seed=1)
    if shingles:
        minhash.update_batch(list(shingles))
    return minhash.hashvalues.astype(np.uint32)


@settings(max_examples=150, deadline=None)
@given(st.sets(st.binary(max_size=40), max_size=60), st.sampled_from([1, 16, 128, 200]))
def test_signature_equals_datasketch(shingles: set[bytes], num_perm: int) -> None:
    ours = minhash_signature(shingles, num_perm)
    assert ours.dtype == np.uint32
    assert np.array_equal(ours, reference(shingles, num_perm))


def test_signer_keeps_stored_signatures_valid() -> None:
    signer = Signer(num_perm=128, shingle_size=3, threshold=0.5, kind="a")
    text = "Air raid alert in Kyiv oblast; residents asked to stay in shelters until the all-clear."
    encoded, size, _bands = signer.sign(text)
    assert Signer.decode(encoded).tolist() == reference(signer.shingles(text), 128).tolist()
    assert size == len(signer.shingles(text))
