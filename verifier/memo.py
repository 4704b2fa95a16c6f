"""A small thread-safe LRU memo (cachetools underneath), bounded by count or by size."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache


class Memo:
    """A locked LRU cache, bounded by count or by size (getsizeof); errors are never remembered."""

    def __init__(self, size: int, getsizeof: Callable[[Any], int] | None = None) -> None:
        self._cache: LRUCache = LRUCache(maxsize=size, getsizeof=getsizeof)
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            if self._cache.getsizeof(value) <= self._cache.maxsize:
                self._cache[key] = value
        return value
