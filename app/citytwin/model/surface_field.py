"""Sensor values on the surfaces of city layers: a value per building object and per ground vertex.

:class:`SurfaceField` is what colours city layers whose colour source is a
:class:`~citytwin.model.colour_source.SensorColour`. Given the layers, the sensor state of a
property (:class:`SensorState`: positions relative to the scene origin, values at the clock
time, colour range, unit) and the interpolation settings, :meth:`SurfaceField.update`
computes nearest or IDW values for

- buildings: one value per object, at the objects' xy centres (written with the visual's
  ``set_object_values``), other object types kept in their semantic colours;
- the ground: one value per vertex of the layer's ground-type objects (terrain, roads,
  land use) and of the terrain layer split off its model (``set_vertex_values``), smooth
  across the triangles.

Weights (:func:`~citytwin.model.sensor_field.field_weights`) are kept per surface while the
sensor positions and settings stay; an update is one ``FieldWeights.apply`` per surface and is
skipped where nothing it depends on changed. Caches are keyed by the identity of the layers,
models and visuals (:class:`ObjectKey`: a weak reference, so a dead object's key never matches
a new one that happens to get its ``id()``) and pruned to the live ones on every update.

No Qt, no VTK: layers and visuals are duck-typed (:class:`SurfaceLayer`, :class:`SurfaceVisual`);
the viewer's :class:`~citytwin.qt.sensor_layers.QtSensorController` gathers the sensor state
and calls :meth:`SurfaceField.update` from its frame timer.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .colour_source import SENSOR_METHODS, ColourSourceError, SensorColour, parse
from .semantics import SEMANTICS, semantic_code
from .sensor_field import FieldWeights, field_weights, object_centres, object_vertices
from .sensor_spec import IdwSettings

__all__ = ["GROUND_CODES", "SURFACE_CANDIDATES", "ObjectFrame", "ObjectKey", "SensorState", "SurfaceField",
           "SurfaceLayer", "SurfaceUpdate", "SurfaceVisual", "sensor_source"]

SURFACE_CANDIDATES = 16  # nearest sensors kept per point, so a silent one needs no new weights
GROUND_CODES = frozenset(SEMANTICS.index(n) for n in (
    "Terrain", "Road", "TrafficArea", "AuxiliaryTrafficArea", "Railway", "LandUse"))  # coloured per vertex
_BUILDING = SEMANTICS.index("Building")


class SurfaceVisual(Protocol):
    """What :class:`SurfaceField` needs of a layer's visual (``VtkCityVisual`` has it)."""

    model: Any
    styling: Any

    def set_object_values(self, values: NDArray[np.floating], vmin: float, vmax: float, label: str,
                          context_types: Iterable[str] = (), notify: bool = True) -> Any: ...

    def set_vertex_values(self, values: NDArray[np.floating] | None, vmin: float = 0.0, vmax: float = 1.0,
                          objects: NDArray[np.bool_] | None = None, notify: bool = True) -> None: ...

    def set_color_mode(self, mode: str, value_range: tuple[float, float] | None = None,
                       notify: bool = True) -> Any: ...


class SurfaceLayer(Protocol):
    """What :class:`SurfaceField` needs of a layer (the viewer's ``Layer`` has it)."""

    model: Any
    visual: Any
    color_by: str
    owner: Any


class _Strong:
    """A strong reference with the call interface of a weak one."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __call__(self) -> Any:
        return self.obj


class ObjectKey:
    """A dict key naming one object by identity, without keeping it alive.

    Equal only while the object lives and to a key of the same object; a key whose object
    is gone equals no other key, so a new object that reuses the old ``id()`` never hits it.
    """

    __slots__ = ("_hash", "_ref")

    def __init__(self, obj: Any) -> None:
        self._hash = id(obj)
        self._ref: Callable[[], Any]
        try:
            self._ref = weakref.ref(obj)
        except TypeError:  # not weak-referenceable: hold it (pruned with the caches)
            self._ref = _Strong(obj)

    def get(self) -> Any:
        """The object, None once it is gone."""
        return self._ref()

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObjectKey):
            return NotImplemented
        if other._hash != self._hash:
            return False
        mine = self._ref()
        return mine is not None and mine is other._ref()

    def __repr__(self) -> str:
        return f"ObjectKey({type(self._ref()).__name__} at {self._hash:#x})"


@dataclass(frozen=True)
class SensorState:
    """The sensors of one property at one time: ``positions`` ``(S, 2)`` relative to the scene
    origin, ``values`` ``(S,)`` (NaN: no reading, stale or unplaced), the colour range and the unit."""

    positions: NDArray[np.float64]
    values: NDArray[np.float64]
    value_range: tuple[float, float]
    unit: str = ""


@dataclass(frozen=True)
class ObjectFrame:
    """Per model: object xy centres relative to the scene origin, its building and ground types,
    and which objects are drawn ground (coloured per vertex)."""

    centres: NDArray[np.float64]
    building: frozenset[str]
    ground: frozenset[str]
    is_ground: NDArray[np.bool_]


@dataclass(frozen=True)
class SurfaceUpdate:
    """What an update did: ``wrote`` (a visual changed), ``legend`` (a layer's styling changed),
    ``reverted`` (layers went back to semantic colours: the Layers dock shows another key)."""

    wrote: bool = False
    legend: bool = False
    reverted: bool = False


def sensor_source(key: Any) -> SensorColour | None:
    """The sensor colour source of a colour-by key, None for other (or malformed) keys."""
    if not isinstance(key, str):
        return None
    try:
        src = parse(key)
    except ColourSourceError:
        return None
    return src if isinstance(src, SensorColour) else None


class SurfaceField:
    """Sensor fields on city layers, with their caches (see the module docstring)."""

    candidates = SURFACE_CANDIDATES

    def __init__(self) -> None:
        self._seen: dict[ObjectKey, tuple[Any, ...]] = {}  # layer -> what was written last
        self._styled: dict[ObjectKey, tuple[Any, ...]] = {}  # layer -> object styling written last (ground only)
        self._frames: dict[ObjectKey, tuple[Any, ObjectFrame]] = {}  # model -> (origin key, frame)
        self._ground: dict[ObjectKey, tuple[Any, NDArray[np.int64], NDArray[np.float64]]] = {}  # model -> ...
        self._weights: dict[tuple[ObjectKey, Any], tuple[Any, FieldWeights]] = {}  # (layer, part) -> (key, weights)
        self._vfields: dict[ObjectKey, Any] = {}  # visual carrying a ground field -> the visual

    # ------------------------------------------------------------------ caches
    def forget(self, layer: Any) -> None:
        """Recompute ``layer`` on the next update (its colour source was just chosen)."""
        self._seen.pop(ObjectKey(layer), None)

    def invalidate(self) -> None:
        """Recompute every layer on the next update (interpolation settings changed)."""
        self._seen.clear()

    def cached_models(self) -> int:
        """Models with cached frames or ground points (for tests)."""
        return len(set(self._frames) | set(self._ground))

    def _prune(self, layers: Sequence[Any], surfaced: set[ObjectKey]) -> None:
        live_models = {ObjectKey(lay.model) for lay in layers}
        for cache in (self._frames, self._ground):
            for k in [k for k in cache if k not in live_models]:
                del cache[k]
        live_layers = {ObjectKey(lay) for lay in layers}
        for lcache in (self._seen, self._styled):
            for k in [k for k in lcache if k not in live_layers]:
                del lcache[k]
        live_visuals = {ObjectKey(lay.visual) for lay in layers}
        for wk in [wk for wk in self._weights
                   if wk[0] not in surfaced or (isinstance(wk[1], ObjectKey) and wk[1] not in live_visuals)]:
            del self._weights[wk]

    # ------------------------------------------------------------------ geometry
    def object_frame(self, model: Any, origin: NDArray[np.float64]) -> ObjectFrame:
        """Object xy centres relative to the scene ``origin``, the building and the ground types."""
        key = tuple(np.asarray(origin, dtype=np.float64).tolist())
        mk = ObjectKey(model)
        hit = self._frames.get(mk)
        if hit is not None and hit[0] == key:
            return hit[1]
        centres = object_centres(model.object_bboxes(), origin)  # world boxes minus the SCENE origin
        types = set(model.objects.types)
        building = frozenset(t for t in types if semantic_code(t) == _BUILDING)
        ground = frozenset(t for t in types if semantic_code(t) in GROUND_CODES)
        is_ground = np.array([t in ground for t in model.objects.types], dtype=bool)
        tri_obj = np.asarray(model.tri_object)
        drawn = np.bincount(tri_obj[tri_obj >= 0], minlength=model.n_objects)[: model.n_objects] > 0
        is_ground &= drawn  # only objects this model draws (a relief split off into a terrain layer is not)
        frame = ObjectFrame(centres, building, ground, is_ground)
        self._frames[mk] = (key, frame)
        return frame

    def ground_points(self, model: Any, objects: NDArray[np.bool_], origin: NDArray[np.float64]
                      ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Vertices of the triangles of ``objects`` and their xy relative to the scene ``origin``."""
        origin = np.asarray(origin, dtype=np.float64)
        key = (tuple(origin.tolist()), objects.tobytes())
        mk = ObjectKey(model)
        hit = self._ground.get(mk)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        idx = object_vertices(model.triangles, model.tri_object, objects)
        xy = (model.vertices[idx, :2].astype(np.float64) + (np.asarray(model.origin, float)[:2] - origin[:2]))
        self._ground[mk] = (key, idx, xy)
        return idx, xy

    def ground_parts(self, lay: Any, layers: Sequence[Any], origin: NDArray[np.float64]
                     ) -> list[tuple[Any, NDArray[np.bool_]]]:
        """``(visual, objects)`` drawing the ground of city layer ``lay``: its own ground-type objects
        (terrain, roads, land use) and the terrain layer split off its model (``owner is lay``)."""
        sel = self.object_frame(lay.model, origin).is_ground
        parts = []
        if sel.any():
            parts.append((lay.visual, sel))
        for other in layers:
            if other.owner is lay:
                parts.append((other.visual, np.ones(other.model.n_objects, dtype=bool)))
        return parts

    def values(self, key: Any, pts: NDArray[np.float64], pos: NDArray[np.float64], vals: NDArray[np.float64],
               method: str, st: IdwSettings) -> NDArray[np.float64]:
        """Field values at ``pts``: weights kept per ``key`` while the sensors and settings stay."""
        # the weights depend only on where the sensors are (spare candidates cover silent ones): kept
        wkey = (method, st, len(pts), pos.tobytes())
        cached = self._weights.get(key)
        if cached is None or cached[0] != wkey:
            cand = self.candidates if method == "nearest" else (2 * st.k if st.k > 0 else None)
            cached = (wkey, field_weights(pts, pos, method=method, power=st.power, k=st.k, candidates=cand,
                                          max_distance=st.max_distance))
            self._weights[key] = cached
        fw = cached[1]
        out = fw.apply(vals)
        # points whose candidates all lack a value: from the sensors that have one (rare)
        redo = np.isnan(out) & fw.refillable() & np.isfinite(pts).all(axis=1)
        if redo.any() and np.isfinite(vals).any():
            out[redo] = field_weights(pts[redo], pos, np.isfinite(vals), method=method, power=st.power, k=st.k,
                                      max_distance=st.max_distance).apply(vals)
        return out

    # ------------------------------------------------------------------ fields on visuals
    def drop_fields(self, keep: set[ObjectKey], layers: Sequence[Any]) -> bool:
        """Clear the vertex fields written on visuals not in ``keep`` (their layer left the ground mode)."""
        drop = [k for k in self._vfields if k not in keep]
        shown = {ObjectKey(lay.visual) for lay in layers}
        for k in drop:
            vis = self._vfields.pop(k)
            if k in shown:
                vis.set_vertex_values(None, notify=False)
        return bool(drop)

    def release(self, lay: Any, layers: Sequence[Any], origin: NDArray[np.float64]) -> bool:
        """``lay`` left its sensor colour source: forget it and clear its ground fields now."""
        self.forget(lay)
        mine = {ObjectKey(v) for v, _ in self.ground_parts(lay, layers, origin)}
        return self.drop_fields(set(self._vfields) - mine, layers)

    def update(self, layers: Sequence[Any], offered: set[str], state: Callable[[str], SensorState],
               settings: Callable[[str], IdwSettings], origin: NDArray[np.float64],
               revert: bool = False) -> SurfaceUpdate:
        """Write the sensor fields of every layer whose colour source is a sensor source.

        Parameters
        ----------
        layers
            Every layer of the scene (city layers and the terrain layers split off them).
        offered
            Keys of the sensor sources on offer (properties some sensor layer has). A layer whose
            key is not among them keeps what it shows (a scene file may name a property before its
            feed delivered it), or with ``revert`` goes back to semantic colours.
        state, settings
            The :class:`SensorState` and the interpolation settings of a property (called once per
            property and update).
        origin
            The scene origin (sensor positions are relative to it).
        """
        surfaced = {ObjectKey(lay) for lay in layers if lay.color_by in offered}
        self._prune(layers, surfaced)
        wrote = legend = reverted = False
        states: dict[str, SensorState] = {}
        fields: set[ObjectKey] = set()  # visuals that keep a vertex field
        for lay in layers:
            src = sensor_source(lay.color_by)
            if src is None:
                continue
            lk = ObjectKey(lay)
            if lay.color_by not in offered:
                if not revert:  # keeps what it shows until its property comes (back)
                    fields.update(ObjectKey(v) for v, _ in self.ground_parts(lay, layers, origin))
                    continue
                lay.visual.set_color_mode("semantic")
                lay.color_by = "semantic"
                self._seen.pop(lk, None)
                self._styled.pop(lk, None)
                wrote = legend = reverted = True
                continue
            method, prop = src.method, src.property
            parts = self.ground_parts(lay, layers, origin) if src.ground else []
            fields.update(ObjectKey(v) for v, _ in parts)
            if prop not in states:
                states[prop] = state(prop)
            sensors = states[prop]
            pos, vals, rng, unit = sensors.positions, sensors.values, sensors.value_range, sensors.unit
            st = settings(prop)
            frame = self.object_frame(lay.model, origin)
            centres, building, ground = frame.centres, frame.building, frame.ground
            sig = (lay.color_by, rng, st, len(centres), vals.tobytes(), pos.tobytes(),
                   tuple(ObjectKey(v) for v, _ in parts))
            if self._seen.get(lk) == sig:
                continue
            self._seen[lk] = sig
            types = frozenset(lay.model.objects.types)
            if not src.buildings:
                obj_vals = np.full(len(centres), np.nan)
                context = types - ground  # buildings and the rest in semantic colours
            else:
                obj_vals = self.values((lk, "objects"), centres, pos, vals, method, st)
                context = (types - building - (ground if src.ground else frozenset())) if building \
                    else frozenset()
            label = f"{prop} [{unit}]" if unit else prop
            title = f"{label} · {SENSOR_METHODS[method]}"
            styled = (title, rng, context, len(centres))
            st_now = lay.visual.styling
            if src.buildings or self._styled.get(lk) != styled or st_now.mode != title \
                    or st_now.value_range != rng:  # ground only: the buildings' colours stay as they are
                lay.visual.set_object_values(obj_vals, rng[0], rng[1], title, context_types=context, notify=False)
                self._styled[lk] = styled
                legend = True
            for vis, sel in parts:
                idx, xy = self.ground_points(vis.model, sel, origin)
                vk = ObjectKey(vis)
                v = self.values((lk, vk), xy, pos, vals, method, st)
                full = np.full(len(vis.model.vertices), np.nan)
                full[idx] = v
                vis.set_vertex_values(full, rng[0], rng[1], objects=sel, notify=False)
                self._vfields[vk] = vis
            wrote = True
        wrote |= self.drop_fields(fields, layers)
        return SurfaceUpdate(wrote, legend, reverted)
