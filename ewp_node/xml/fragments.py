"""Built elements kept serialised and re-parsed instead of rebuilt: parsing a fragment costs about a quarter
of building it in Python.

Only for elements that are a pure function of their key (a public document keyed by its whole content, as
read from the store): an entry never needs invalidating, so it can never be stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from lxml import etree

K = TypeVar("K", bound=Hashable)


class FragmentCache(Generic[K]):
    """A thread-safe LRU of the elements ``build(key)`` makes, bounded by the size of their serialisation.

    A fragment is serialised in its parent, so it holds the parent's prefixes; every parent given to
    :meth:`append` must declare the same namespaces (one response root type per cache).
    """

    def __init__(self, build: Callable[[K], etree._Element], max_bytes: int) -> None:
        self._build = build
        self._max_bytes = max_bytes
        self._fragments: OrderedDict[K, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def append(self, parent: etree._Element, key: K) -> None:
        """Append the element of ``key`` to ``parent``: a copy of the cached one (lxml drops the copy's
        namespace declarations that ``parent`` already makes, so the bytes are those of a fresh build), or a
        fresh build, then cached."""
        with self._lock:
            fragment = self._fragments.get(key)
            if fragment is not None:
                self._fragments.move_to_end(key)
        if fragment is not None:
            # Our own serialisation (no DTD, no entities): the thread's default parser, no shared parser lock.
            parent.append(etree.fromstring(fragment))
            return
        element = self._build(key)
        parent.append(element)
        fragment = etree.tostring(element)
        if len(fragment) > self._max_bytes:
            return
        with self._lock:
            if key in self._fragments:
                return
            self._fragments[key] = fragment
            self._bytes += len(fragment)
            while self._bytes > self._max_bytes:
                self._bytes -= len(self._fragments.popitem(last=False)[1])

    def clear(self) -> None:
        """Forget every fragment."""
        with self._lock:
            self._fragments.clear()
            self._bytes = 0
