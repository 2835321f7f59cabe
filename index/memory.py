"""Handing freed memory back to the operating system between indexing batches.

Inference allocates large temporaries whose sizes follow the batch's sequence length, and the
indexer's batches are sorted by length, so nearly every batch has a new shape. glibc's malloc
keeps what is freed for reuse (its mmap threshold rises with each large free), and the heap
fragments: indexing 10 x SciFact with the bf16 model grew to 3.8 GiB by 50,000 chunks and kept
growing. ``malloc_trim(0)`` after each batch returns the free pages: the same 121 batch shapes
ended at 0.9 GiB instead of 3.1 GiB, at the same speed (45.4 vs 47.4 s).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

__all__ = ["release_free_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim  # glibc only
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool:
    """Return the C heap's free pages to the OS; False where that is not available (not glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
