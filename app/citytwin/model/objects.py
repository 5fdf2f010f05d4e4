"""The object table: one row per city object (Building, BuildingPart, Road, ...)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


class ObjectTable:
    """Ids, types, parents and attributes of city objects, indexed ``0..n-1``.

    Rows are appended by readers through :meth:`add`; children are derived from
    parents on demand. Ids are unique: a duplicate id gets a ``#2`` suffix and the
    reader reports it.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.types: list[str] = []
        self._parents: list[int] = []
        self.attributes: list[dict[str, Any]] = []
        self.index: dict[str, int] = {}
        self._children: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None
        self._parent_arr: NDArray[np.int32] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        obj_id: str,
        obj_type: str,
        attributes: dict[str, Any] | None = None,
        parent: int = -1,
    ) -> int:
        """Append an object and return its index."""
        if obj_id in self.index:
            k = 2
            while f"{obj_id}#{k}" in self.index:
                k += 1
            obj_id = f"{obj_id}#{k}"
        i = len(self.ids)
        self.ids.append(obj_id)
        self.types.append(obj_type)
        self._parents.append(parent)
        self.attributes.append(attributes if attributes is not None else {})
        self.index[obj_id] = i
        self._children = None
        self._parent_arr = None
        return i

    def set_parent(self, child: int, parent: int) -> None:
        self._parents[child] = parent
        self._children = None
        self._parent_arr = None

    @property
    def parents(self) -> NDArray[np.int32]:
        """Parent index of every object (-1 for top-level objects)."""
        if self._parent_arr is None:
            self._parent_arr = np.asarray(self._parents, dtype=np.int32).reshape(-1)
        return self._parent_arr

    def parent(self, i: int) -> int:
        return self._parents[i]

    def children(self, i: int) -> list[int]:
        """Direct children of object ``i``."""
        if self._children is None:
            par = self.parents
            order = np.argsort(par, kind="stable")
            starts = np.searchsorted(par[order], np.arange(len(par) + 1))
            self._children = (order.astype(np.int64), starts.astype(np.int64))
        order, starts = self._children
        return order[starts[i] : starts[i + 1]].tolist()

    def descendants(self, i: int) -> list[int]:
        """``i`` and every object below it."""
        out, stack = [], [i]
        while stack:
            j = stack.pop()
            out.append(j)
            stack.extend(self.children(j))
        return out

    def roots(self) -> NDArray[np.int64]:
        """For every object, the index of its top-level ancestor."""
        par = self.parents.astype(np.int64)
        root = np.arange(len(par), dtype=np.int64)
        cur = par.copy()
        while True:
            has = cur >= 0
            if not has.any():
                break
            root[has] = cur[has]
            nxt = np.full_like(cur, -1)
            nxt[has] = par[cur[has]]
            cur = nxt
        return root

    def counts_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.types:
            counts[t] = counts.get(t, 0) + 1
        return dict(sorted(counts.items()))

    def row(self, i: int) -> dict[str, Any]:
        """A plain dict describing object ``i`` (for the attribute dock and ``info``)."""
        return {
            "id": self.ids[i],
            "type": self.types[i],
            "parent": self.ids[self._parents[i]] if self._parents[i] >= 0 else None,
            "children": [self.ids[c] for c in self.children(i)],
            "attributes": dict(self.attributes[i]),
        }
