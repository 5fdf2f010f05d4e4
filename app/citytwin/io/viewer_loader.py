"""A :class:`~citytwin.model.viewer.ViewerModel` filled from files or a scene file, in one go
(the headless renderer's loader; the window reads the same datasets in a background thread and
adds them with :meth:`ViewerModel.add_model` as they arrive)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.crs import parse_crs
from ..model.layer import LayerKind
from ..model.scenefile import Dataset, SceneFile, read_scene
from ..model.sensor_spec import SensorLayerSpec
from ..model.viewer import ViewerModel
from .scene_loader import load_into_scene

__all__ = ["load_viewer"]


def load_viewer(inputs: Sequence[str | Path], crs: str | None = None,
                viewer: ViewerModel | None = None) -> tuple[ViewerModel, SceneFile | None]:
    """Read ``inputs`` (files, or one scene ``.toml``) into a viewer model.

    A scene file brings its datasets with their styles (hidden ones too, as the window loads
    them), its camera, saved views, sensor layers (the ``[[sensors]]`` tables) and the sun's
    time on the clock. ``crs`` is the CRS of files that state none.

    Raises
    ------
    CityTwinError
        A file that cannot be read, or a sensor layer table that is malformed (naming the
        scene file and the table).
    """
    vm = viewer if viewer is not None else ViewerModel()
    names = [str(p) for p in inputs]
    if len(names) == 1 and names[0].lower().endswith(".toml"):
        sf = read_scene(names[0])
        if sf.crs and vm.scene.crs is None:
            vm.scene.crs = parse_crs(sf.crs)
        for d in sf.datasets:
            model = load_into_scene_model(vm, d, crs)
            ds = Dataset(path=d.path, crs=d.crs, name=d.name, visible=d.visible, opacity=d.opacity,
                         color_by=d.color_by or sf.color_by, lod=d.lod, textures=d.textures)
            vm.add_model(model, ds)
        vm.set_views(list(sf.views))
        if sf.camera is not None:
            vm.set_camera(sf.camera)
        for k, table in enumerate(sf.sensors):
            try:
                spec = SensorLayerSpec.from_dict(table)
            except ValueError as exc:
                from ..core.errors import ReaderError

                raise ReaderError(Path(names[0]), f"[[sensors]] #{k + 1} ({table.get('name', '?')!r}): {exc}") from None
            vm.add_layer(LayerKind.SENSORS, spec.name, spec, visible=spec.visible)
        return vm, sf
    for f in names:
        model = load_into_scene_model(vm, Dataset(path=Path(f)), crs)
        vm.add_model(model, Dataset(path=Path(f), name=Path(f).name))
    return vm, None


def load_into_scene_model(vm: ViewerModel, d: Dataset, crs: str | None):  # noqa: ANN201
    """Read dataset ``d`` into the viewer's scene CRS and origin (not yet added)."""
    model = load_into_scene(vm.scene, d.path, crs=d.crs or crs)
    vm.scene.models.remove(model)  # added back, with its layers, by ViewerModel.add_model
    return model
