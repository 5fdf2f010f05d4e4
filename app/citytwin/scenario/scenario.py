"""A scenario (a base and an ordered list of edits) and its undo/redo stack.

A :class:`Scenario` is immutable: an edit makes a new one. :class:`ScenarioEditor` keeps
the current one with an undo and a redo stack, and the edited model of each state it has
seen (the last few), so undo and redo cost nothing and a new edit is applied to the model
before it only. An edit that fails leaves the editor as it was.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..model.city import CityModel
from .apply import Applied, apply_edits
from .edits import Edit, EditError

__all__ = ["BaseInfo", "Scenario", "ScenarioEditor", "base_fingerprint"]


def base_fingerprint(model: CityModel) -> str:
    """A short hash of the base's top-level object ids: the same data gives the same one
    whatever the file's name or encoding."""
    par = model.objects.parents
    ids = sorted(i for i, p in zip(model.objects.ids, par.tolist()) if p < 0)
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class BaseInfo:
    """What the scenario was made on (all optional: a scenario written by hand may say nothing)."""

    file: str | None = None
    objects: int | None = None  # top-level objects
    fingerprint: str | None = None

    @classmethod
    def of(cls, model: CityModel, file: str | None = None) -> BaseInfo:
        return cls(file=file or Path(model.source).name or None,
                   objects=int((model.objects.parents < 0).sum()), fingerprint=base_fingerprint(model))

    def mismatch(self, model: CityModel) -> str | None:
        """Why ``model`` is not this scenario's base, or None."""
        if self.fingerprint is None and self.objects is None:
            return None
        if self.fingerprint is not None and self.fingerprint == base_fingerprint(model):
            return None
        n = int((model.objects.parents < 0).sum())
        made = f" ({self.file})" if self.file else ""
        if self.objects is not None and self.objects != n:
            return f"made for another base{made}: it had {self.objects} top-level objects, this one has {n}"
        if self.fingerprint is not None:
            return f"made for another base{made}: its objects' ids differ (fingerprint {self.fingerprint})"
        return None


@dataclass(frozen=True)
class Scenario:
    """A named list of edits on a base."""

    name: str = "Scenario"
    edits: tuple[Edit, ...] = ()
    storey_height: float = 3.0
    base: BaseInfo = field(default_factory=BaseInfo)
    description: str = ""
    source: str = ""  # the file it was read from ("" when none)

    def with_edit(self, edit: Edit) -> Scenario:
        return replace(self, edits=(*self.edits, edit))

    def apply(self, base: CityModel, base_dir: str | Path | None = None) -> Applied:
        """The edited model (``base`` unchanged); :class:`EditError` names the file and edit."""
        problem = self.base.mismatch(base)
        if problem:
            raise EditError(problem, None, self.source)
        bdir = base_dir if base_dir is not None else (Path(self.source).parent if self.source else None)
        try:
            return apply_edits(base, self.edits, name=self.name, storey_height=self.storey_height, base_dir=bdir)
        except EditError as exc:
            raise exc.located(self.source) if self.source else exc from None

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"version": 1, "name": self.name}
        if self.description:
            doc["description"] = self.description
        if self.storey_height != 3.0:
            doc["storey_height"] = self.storey_height
        b = {k: v for k, v in (("file", self.base.file), ("objects", self.base.objects),
                               ("fingerprint", self.base.fingerprint)) if v is not None}
        if b:
            doc["base"] = b
        doc["edits"] = [e.to_table() for e in self.edits]
        return doc


def _key(edits: tuple[Edit, ...]) -> str:
    return "\n".join(e.key() for e in edits)


class ScenarioEditor:
    """The scenario being edited on ``base``: edits, undo, redo, and the edited model."""

    KEEP_MODELS = 6

    def __init__(self, base: CityModel, scenario: Scenario | None = None, base_dir: str | Path | None = None) -> None:
        self.base = base
        self.base_dir = base_dir
        self.scenario = scenario if scenario is not None else Scenario(base=BaseInfo.of(base))
        self._undo: list[Scenario] = []
        self._redo: list[Scenario] = []
        self._models: OrderedDict[str, Applied] = OrderedDict()
        self.dirty = False  # changed since the last save (autosave looks at it)

    def applied(self) -> Applied:
        """The current scenario's model and what it changed."""
        key = _key(self.scenario.edits)
        if key not in self._models:
            self._remember(key, self.scenario.apply(self.base, self.base_dir))
        self._models.move_to_end(key)
        return self._models[key]

    @property
    def model(self) -> CityModel:
        return self.applied().model

    def _remember(self, key: str, applied: Applied) -> None:
        self._models[key] = applied
        while len(self._models) > self.KEEP_MODELS:
            self._models.popitem(last=False)

    def do(self, edit: Edit) -> Applied:
        """Apply ``edit`` on top of the current state; on :class:`EditError` nothing changes."""
        before = self.applied()
        number = len(self.scenario.edits) + 1
        step = apply_edits(before.model, [edit], name=self.scenario.name,
                           storey_height=self.scenario.storey_height, base_dir=self.base_dir, first_number=number)
        gone = set(before.removed) | set(step.removed)
        added = [i for i in [*before.added, *step.added] if i not in gone]
        merged = Applied(
            model=step.model, added=added,
            changed=[i for i in dict.fromkeys([*before.changed, *step.changed]) if i not in gone and i not in added],
            removed=list(dict.fromkeys([*before.removed, *[i for i in step.removed if i not in before.added]])),
            solids=(before.solids | step.solids) & set(added),
        )
        self._undo.append(self.scenario)
        self._redo.clear()
        self.scenario = self.scenario.with_edit(edit)
        self._remember(_key(self.scenario.edits), merged)
        self.dirty = True
        return merged

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> Scenario:
        if not self._undo:
            raise IndexError("nothing to undo")
        self._redo.append(self.scenario)
        self.scenario = self._undo.pop()
        self.dirty = True
        return self.scenario

    def redo(self) -> Scenario:
        if not self._redo:
            raise IndexError("nothing to redo")
        self._undo.append(self.scenario)
        self.scenario = self._redo.pop()
        self.dirty = True
        return self.scenario
