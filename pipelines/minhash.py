"""MinHash signatures with numpy alone: the values datasketch 2.x's ``MinHash(seed=1)`` gives.

datasketch's default scheme ("affine32"): each shingle hashed to the first 4 bytes of its SHA-1
(little-endian), mixed by the MurmurHash3 32-bit finalizer, then permuted by ``a*h + b mod 2**32``
with odd ``a``; the signature is the per-permutation minimum. The permutations come from
``numpy.random.RandomState(seed)`` drawn as datasketch draws them, so stored signatures stay valid.
Importing datasketch costs 1-3 s per process (it pulls scipy), once per crawl and per worker
process: that is why this module exists. ``tests/test_minhash.py`` pins the equality.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection

import numpy as np

__all__ = ["minhash_signature"]

_MAX = np.uint32(0xFFFFFFFF)  # an empty set's signature (datasketch's "no value yet")


@functools.cache
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b), each uint32 × num_perm, drawn in datasketch's order."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, element-wise (uint32 arithmetic wraps, as intended)."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def minhash_signature(shingles: Collection[bytes], num_perm: int, seed: int = 1) -> np.ndarray:
    """The MinHash signature (uint32 × ``num_perm``) of a set of byte strings."""
    if not shingles:
        return np.full(num_perm, _MAX, dtype=np.uint32)
    digests = b"".join(hashlib.sha1(s).digest()[:4] for s in shingles)
    hv = _fmix32(np.frombuffer(digests, dtype="<u4").astype(np.uint32)).reshape(-1, 1)
    a, b = _permutations(num_perm, seed)
    return (hv * a + b).min(axis=0)
