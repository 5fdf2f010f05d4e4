"""The main window: menus, toolbar, status bar, docks around the 3D viewport.

The state is the :class:`~citytwin.model.viewer.ViewerModel` (scene, layers with stable ids,
selection, camera and saved views, the scene clock); its visuals are drawn by
:class:`~citytwin.render.layer_visuals.LayerVisuals` on the viewport, as ``citytwin render`` draws
them off screen. The window holds widgets: docks ask it for changes, it makes them through the
viewer model and reacts to the model's events; docks never call each other.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from PySide6.QtCore import QEvent, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QStyle,
    QToolButton,
    QWidget,
)

from ..core.crs import crs_label
from ..core.errors import plural
from ..model.city import CityModel
from ..model.clock import SceneClock
from ..model.colour_source import SensorColour, default_registry
from ..model.colour_source import parse as parse_colour_source
from ..model.events import (
    CameraChanged,
    EventBus,
    LayerAdded,
    LayerChanged,
    LayerProperty,
    LayerRemoved,
    LayersReordered,
    SelectionChanged,
    ViewsChanged,
)
from ..model.layer import LayerKind
from ..model.scene import Scene
from ..model.scenefile import Camera, Dataset, SceneFile, View, read_scene, write_scene
from ..model.viewer import ViewerModel
from ..render.layer_visuals import LayerVisuals
from ..render.overlays import Legend, MapOverlays, set_overlay_scale
from . import icons
from .attributes_dock import QtAttributesDock
from .layers import Hit, Layer
from .layers_dock import QtLayersDock
from .loader import LoadJob, QtLoader
from .log_dock import QtLogDock
from .measure_tool import QtMeasureDock, QtMeasureTool
from .objects_dock import QtObjectsDock
from .render_settings import QtRenderSettings
from .sensor_layers import QtSensorController
from .shortcuts import TextFieldShortcutGuard
from .sunlight import QtSunController
from .viewport import QtViewport

log = logging.getLogger("citytwin")

FILE_FILTER = (
    "City models (*.gml *.xml *.citygml *.gz *.json *.jsonl *.city.json *.city.jsonl *.geojson "
    "*.obj *.ply *.stl *.glb *.gltf *.off);;Scene files (*.toml);;All files (*)"
)
MAX_RECENT = 10
#: Version of the dock layout kept in the settings: a saved state of another version is not
#: restored (2: one side column, bottom docks closed, sensor docks only with sensors)
LAYOUT_VERSION = 2
SIDE_WIDTH = 320  # px asked for the docks' column (the docks' minimum widths may make it wider)
WALK_SENSOR_PX = 14.0  # sensor glyph diameter in pixels in walk mode (metres-wide spheres fill the view there)


class QtMainWindow(QMainWindow):
    """The citytwin viewer window.

    Parameters
    ----------
    settings
        Where recent files and the window layout are kept (default: the user's
        ``citytwin`` settings); tests pass a temporary ini file.
    multi_samples
        MSAA samples of the render window (0 for software rendering).
    """

    layersChanged = Signal()
    firstFrame = Signal(float)  # seconds from open to first frame of the newest layer

    def __init__(self, settings: QSettings | None = None, multi_samples: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("citytwin")
        self.setObjectName("CityTwinMainWindow")
        self.resize(1440, 900)
        self.settings = settings if settings is not None else QSettings("citytwin", "citytwin")
        self.viewer = ViewerModel()  # the state: scene, layers, selection, camera, views, the one clock
        self._handles: dict[int, Layer] = {}  # the window's handle on each layer, by layer id
        self.scene_path: Path | None = None
        self.timings: dict[str, float] = {}
        self._to_wgs84: Transformer | None = None
        self._pending_camera: Camera | None = None

        self.viewport = QtViewport(self, multi_samples=multi_samples)
        # the layers' visuals follow the viewer model's events (the sensor frame timer drives the clock)
        self.visuals = LayerVisuals(self.viewer, self.viewport, follow_clock=False)
        self.bus.subscribe(LayerAdded, self._on_layer_added)
        self.map_overlays = MapOverlays(self.viewport.renderer)  # north arrow and scale bar
        self.legend = Legend(self.viewport.renderer)
        self._update_overlay_scale()
        self.viewport.layers = lambda: self.layers
        self.viewport.scene_bounds = self.scene_bounds
        self.viewport.scene_points = self.scene_points
        self.setCentralWidget(self.viewport)
        self.setAcceptDrops(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )

        self.colour_sources = default_registry()  # what a layer can be coloured by (the sensors add theirs)
        self.layers_dock = QtLayersDock(self.bus, lambda: self.layers, self, sources=self.colour_sources,
                                        request=self.change_layer)
        self.attributes_dock = QtAttributesDock(self)
        self.objects_dock = QtObjectsDock(self)
        self.log_dock = QtLogDock(self)
        self.measure_tool = QtMeasureTool(self.viewport.overlay_renderer, self.viewport.request_render, self)
        self.measure_dock = QtMeasureDock(self.measure_tool, self)
        # one side column leaves the view most of the window: Layers (with Sensors) over Attributes
        # (with Measurements and Alerts); Objects and Log below, closed until asked for (View ▸ Panels)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.layers_dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.attributes_dock)
        self.splitDockWidget(self.layers_dock, self.attributes_dock, Qt.Orientation.Vertical)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.measure_dock)
        self.tabifyDockWidget(self.attributes_dock, self.measure_dock)
        self.attributes_dock.raise_()
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.objects_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.tabifyDockWidget(self.objects_dock, self.log_dock)
        self.objects_dock.raise_()
        self.objects_dock.hide()
        self.log_dock.hide()
        self.resizeDocks([self.layers_dock], [SIDE_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.layers_dock, self.attributes_dock], [300, 450], Qt.Orientation.Vertical)
        self.resizeDocks([self.objects_dock], [230], Qt.Orientation.Vertical)
        logging.getLogger("citytwin").addHandler(self.log_dock.handler)
        self.sensors = QtSensorController(self)  # sensor layers, scene clock, Time/Alerts/Sensors docks

        self.loader = QtLoader(self.scene, self)
        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._connect()
        self._update_actions()
        self._restore_layout()
        self.act_trackball.setChecked(self.settings.value("view/trackball", False, type=bool))
        self.viewport.set_navigation("trackball" if self.act_trackball.isChecked() else "turntable")
        self.shortcut_guard = TextFieldShortcutGuard(self)
        self.viewport.renderer.AddObserver("StartEvent", lambda *_: self._size_sensor_glyphs())
        self.viewport.set_camera_state({"position": [-300, -400, 350], "focal_point": [0, 0, 0],
                                        "view_up": [0, 0, 1], "view_angle": 30.0})

    # ------------------------------------------------------------------ the model's state
    @property
    def scene(self) -> Scene:
        return self.viewer.scene

    @property
    def bus(self) -> EventBus:
        return self.viewer.bus

    @property
    def clock(self) -> SceneClock:
        """The scene's one clock: sensor replay and the sun."""
        return self.viewer.clock

    @property
    def layers(self) -> list[Layer]:
        """The window's handles on the viewer model's layers, first to last (a new list)."""
        return [self._handles[lay.id] for lay in self.viewer.layers if lay.id in self._handles]

    def layer_handle(self, layer_id: int) -> Layer | None:
        return self._handles.get(layer_id)

    @property
    def views(self) -> list[View]:
        return self.viewer.views

    @property
    def selection(self) -> tuple[Layer, int] | None:
        sel = self.viewer.selection
        if sel is None or sel.layer.id not in self._handles:
            return None
        return self._handles[sel.layer.id], sel.objects[0]

    def _on_layer_added(self, ev: LayerAdded) -> None:
        if ev.kind in (LayerKind.CITY, LayerKind.TERRAIN):
            self._handles[ev.layer] = Layer("", "", None, self.visuals.visual(ev.layer),
                                            state=self.viewer.layer(ev.layer), viewer=self.viewer,
                                            handles=self._handles)

    # ------------------------------------------------------------------ UI set-up
    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.coord_label = QLabel("", self)
        self.coord_label.setObjectName("coordLabel")
        self.coord_label.setMinimumWidth(520)
        self.coord_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.crs_label = QLabel("no CRS", self)
        self.crs_label.setMinimumWidth(90)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setObjectName("cancelLoad")
        self.progress.hide()
        self.cancel_button.hide()
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        sb.addPermanentWidget(self.coord_label)
        sb.addPermanentWidget(self.crs_label)
        sb.showMessage("Open a CityGML, CityJSON or mesh file (File ▸ Open, or drop it here).")

    def _act(self, text: str, slot: Any, shortcut: Any = None, tip: str = "", icon: Any = None,
             checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(f"{tip} ({a.shortcut().toString()})" if shortcut else tip)
        if isinstance(icon, str):
            a.setIcon(icons.icon(icon))
        elif icon is not None:
            a.setIcon(self.style().standardIcon(icon))
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        return a

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        self.act_open = self._act("&Open…", self.open_dialog, QKeySequence.StandardKey.Open,
                                  "Open city model files", SP.SP_DialogOpenButton)
        self.act_open_scene = self._act("Open &scene…", self.open_scene_dialog, "Ctrl+Shift+O",
                                        "Open a scene file (.toml)", SP.SP_DirOpenIcon)
        self.act_save_scene = self._act("Sa&ve scene…", self.save_scene_dialog, QKeySequence.StandardKey.Save,
                                        "Save datasets, styles, camera and views", SP.SP_DialogSaveButton)
        self.act_export = {
            s: self._act(f"Export view as PNG ({s}×)…", lambda _=False, s=s: self.export_dialog(s),
                         "Ctrl+E" if s == 1 else None, f"Save the view as an image at {s}× the window size",
                         "export")
            for s in (1, 2, 4)
        }
        self.act_quit = self._act("&Quit", self.close, QKeySequence.StandardKey.Quit, "Quit citytwin")
        self.act_reset = self._act("&Reset view", lambda: self.viewport.set_view("reset"), "R",
                                   "Show the whole scene", "reset")
        self.act_top = self._act("&Top view", lambda: self.viewport.set_view("top"), "T", "Look straight down", "top")
        self.act_iso = self._act("&Iso view", lambda: self.viewport.set_view("iso"), "I", "Oblique view from the south-west", "iso")
        self.act_fly = self._act("&Fly to selection", self.fly_to_selection, "F", "Frame the selected object", "fly")
        self.act_walk = self._act("&Walk mode", self._toggle_walk, "Ctrl+W",
                                  "First person: W A S D to move, drag to look, Esc to leave", "walk", checkable=True)
        self.act_save_view = self._act("Save current view…", self.save_view_dialog, "Ctrl+B", "Bookmark this camera")
        self.act_trackball = self._act("Trac&kball rotation", self._set_trackball, None,
                                       "Left-drag tumbles the camera freely instead of turning it about the "
                                       "vertical (the horizon then tilts)", checkable=True)
        self.act_clear_sel = self._act("Clear selection", self.clear_selection, None, "Clear the selection")
        self.measure_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        for mode, label, key in (("distance", "Measure &distance", "Ctrl+1"),
                                 ("height", "Measure &height", "Ctrl+2"),
                                 ("area", "Measure &area", "Ctrl+3")):
            a = self._act(label, lambda checked, m=mode: self.measure_tool.set_mode(m if checked else ""), key,
                          label.replace("&", ""), mode, checkable=True)
            group.addAction(a)
            self.measure_actions[mode] = a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.act_open, self.act_open_scene, self.act_save_scene])
        m.addAction(self.sensors.act_add_feed)
        self.recent_menu = m.addMenu("Recent files")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        m.addSeparator()
        for a in self.act_export.values():
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_quit)
        v = mb.addMenu("&View")
        v.addActions([self.act_reset, self.act_top, self.act_iso])
        v.addSeparator()
        v.addActions([self.act_fly, self.act_walk, self.act_clear_sel])
        v.addAction(self.act_trackball)
        self.render_settings = QtRenderSettings(self, v)  # View > Rendering: FXAA, SSAO, horizon
        self.sun = QtSunController(self, v)  # the key light follows the clock; View > Cast shadows
        v.addSeparator()
        self.views_menu = v.addMenu("Saved views")
        self.views_menu.aboutToShow.connect(self._fill_views)
        v.addAction(self.act_save_view)
        v.addSeparator()
        panels = v.addMenu("Panels")
        for d in (self.layers_dock, self.attributes_dock, self.objects_dock, self.log_dock, self.measure_dock,
                  *self.sensors.docks()):
            panels.addAction(d.toggleViewAction())
        t = mb.addMenu("&Tools")
        t.addActions(list(self.measure_actions.values()))
        h = mb.addMenu("&Help")
        h.addAction(self._act("&About citytwin", self._about))

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("MainToolbar")
        tb.setMovable(True)
        tb.setIconSize(QSize(18, 18))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addActions([self.act_open, self.act_open_scene, self.act_save_scene])
        tb.addSeparator()
        tb.addActions([self.act_reset, self.act_top, self.act_iso, self.act_fly, self.act_walk])
        tb.addSeparator()
        tb.addActions(list(self.measure_actions.values()))
        tb.addSeparator()
        tb.addAction(self.act_export[1])
        self.toolbar = tb

    def _connect(self) -> None:
        vp = self.viewport
        vp.clicked.connect(self._on_click)
        vp.hovered.connect(self._on_hover)
        vp.escapePressed.connect(self._on_escape)
        vp.enterPressed.connect(self._on_enter)
        vp.walkChanged.connect(self.act_walk.setChecked)
        vp.walkChanged.connect(self._walk_changed)
        self.bus.subscribe(SelectionChanged, self._on_selection)
        self.bus.subscribe(LayerChanged, self._on_layer_changed)
        self.bus.subscribe(LayerRemoved, self._on_layer_removed)
        self.bus.subscribe(LayersReordered, lambda _ev: self.layers_dock.refresh())
        self.bus.subscribe(ViewsChanged, lambda _ev: self._fill_views())
        self.bus.subscribe(CameraChanged, self._on_camera)
        self.objects_dock.objectActivated.connect(lambda lay, obj: self.select(lay, obj, fly=True))
        self.objects_dock.matchesChanged.connect(self._show_matches)
        self.attributes_dock.objectRequested.connect(lambda lay, obj: self.select(lay, obj, fly=True))
        self.measure_tool.modeChanged.connect(self._measure_mode_changed)
        self.measure_tool.finished.connect(lambda m: self.statusBar().showMessage(m.text, 10000))
        ld = self.loader
        ld.started.connect(self._load_started)
        ld.progress.connect(lambda job, f: self.progress.setValue(int(f * 1000)))
        ld.loaded.connect(self._load_done)
        ld.failed.connect(self._load_failed)
        ld.cancelled.connect(lambda job: self.notify(logging.WARNING, f"Loading cancelled: {job.path}"))
        ld.idle.connect(self._load_idle)
        self.cancel_button.clicked.connect(self.loader.cancel)

    # ------------------------------------------------------------------ messages
    def notify(self, level: int, text: str, timeout_ms: int = 8000) -> None:
        """A message in the Log dock and, for warnings and errors, in the status bar."""
        self.log_dock.add(level, text)
        if level >= logging.INFO:
            self.statusBar().showMessage(text, timeout_ms)
        if level >= logging.ERROR:
            self.log_dock.show()
            self.log_dock.raise_()

    def _about(self) -> None:
        from .. import __version__

        QMessageBox.about(self, "About citytwin",
                          f"<b>citytwin {__version__}</b><p>A desktop 3D digital twin of a city: "
                          "CityGML, CityJSON and meshes in one VTK scene.</p>")

    # ------------------------------------------------------------------ loading
    def open_files(self, paths: list[str | Path], crs: str | None = None) -> None:
        """Read files in the background and add each as a layer."""
        jobs = []
        for p in paths:
            p = Path(p)
            if p.suffix.lower() == ".toml":
                self.open_scene(p)
                continue
            jobs.append(LoadJob(str(p), crs))
            self._add_recent(str(p))
        if jobs:
            self.timings["open"] = time.perf_counter()
            self.loader.load(jobs)

    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open city model", self._last_dir(), FILE_FILTER)
        if paths:
            self.settings.setValue("lastDir", str(Path(paths[0]).parent))
            self.open_files(paths)

    def _last_dir(self) -> str:
        return str(self.settings.value("lastDir", str(Path.home())))

    def _load_started(self, job: LoadJob) -> None:
        self.progress.setValue(0)
        self.progress.setFormat(f"{Path(job.path).name}  %p%")
        self.progress.show()
        self.cancel_button.show()
        self.statusBar().showMessage(f"Reading {job.path}…")

    def _load_idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        if self._pending_camera is not None:
            self.viewport.set_camera_state(self._world_to_camera(self._pending_camera), animate=False)
            self._pending_camera = None

    def _load_failed(self, job: LoadJob, msg: str) -> None:
        self.notify(logging.ERROR, msg)

    def _load_done(self, job: LoadJob, model: CityModel) -> None:
        try:
            self.add_model(model, job.path, job.style, crs=job.crs, texture_set=job.texture_set)
        except Exception as exc:  # never a crash: the error goes to the log
            log.debug("add_model failed", exc_info=True)
            self.notify(logging.ERROR, f"{job.path}: could not show the model: {type(exc).__name__}: {exc}")
            return
        dt = time.perf_counter() - job.started
        self.notify(logging.INFO, f"Loaded {Path(job.path).name}: {plural(model.n_objects, 'object')}, "
                                  f"{model.n_triangles:,} triangles in {dt:.2f} s")
        self.log_dock.add_report(Path(job.path).name, model.report)  # one row per kind, details inside

    def add_model(self, model: CityModel, path: str, style: dict[str, Any] | None = None,
                  crs: str | None = None, texture_set: Any = None) -> list[Layer]:
        """Add a loaded model to the viewer model as one layer (two when it carries terrain).

        ``texture_set``: the model's images already packed (the loader thread does it);
        without it a layer with textures reads its images here.
        """
        style = dict(style or {})
        first = not self.layers
        ds = Dataset(path=Path(path), crs=crs, name=style.get("name") or "",
                     visible=bool(style.get("visible", True)), opacity=float(style.get("opacity", 1.0)),
                     color_by=style.get("color_by") or "semantic", lod=style.get("lod", "best"),
                     textures=style.get("textures", True) is not False)
        if texture_set is not None:
            self.visuals.add_texture_set(model, texture_set)
        added = self.viewer.add_model(model, ds, name=style.get("name") or Path(path).name)
        if first:
            self._to_wgs84 = None
            self.crs_label.setText(crs_label(self.scene.crs))
        new = [self._handles[lay.id] for lay in added]
        self._layers_changed()
        if first:
            self.viewport.set_view("iso", animate=False)
        self.viewport.render_sync()
        if "open" in self.timings:
            self.timings["first_frame"] = time.perf_counter() - self.timings["open"]
            self.firstFrame.emit(self.timings["first_frame"])
        # build the pick locators after the first frame, when the user looks at the picture
        QTimer.singleShot(0, self, lambda: [lay.visual.build_locator() for lay in new if lay in self.layers])
        return new

    def _update_legend(self) -> None:
        """The in-view legend explains the attribute colouring of the first visible layer using one."""
        self.legend.set_entries(*self.visuals.legend())

    def _layers_changed(self) -> None:
        self._update_legend()
        self.layers_dock.refresh()
        self.objects_dock.set_layers(self.layers)
        self._update_actions()
        self.layersChanged.emit()
        n_obj = sum(lay.model.n_objects for lay in self.layers if lay.kind == "city")
        title = self.scene_path.name if self.scene_path else (self.layers[0].name if self.layers else "")
        self.setWindowTitle(f"{title} — citytwin ({plural(n_obj, 'object')})" if title else "citytwin")

    def scene_bounds(self) -> NDArray[np.float64] | None:
        """Bounds ``(2, 3)`` of the visible layers, scene-relative."""
        boxes = []
        for lay in self.layers:
            if lay.visible and lay.visual.n_cells:
                b = lay.visual.bounds()
                boxes.append([[b[0], b[2], b[4]], [b[1], b[3], b[5]]])
        if not boxes:
            boxes = [[[lay.visual.bounds()[k] for k in (0, 2, 4)], [lay.visual.bounds()[k] for k in (1, 3, 5)]]
                     for lay in self.layers if lay.visual.n_cells]
        if not boxes:
            return None
        arr = np.asarray(boxes, dtype=np.float64)
        return np.stack([arr[:, 0].min(0), arr[:, 1].max(0)])

    def scene_points(self) -> NDArray[np.float64] | None:
        """A sample of the drawn vertices of the visible layers (scene-relative), for framing."""
        pts = [lay.visual.sample_points(20_000) for lay in self.layers if lay.visible and lay.visual.n_cells]
        return np.concatenate(pts) if pts else None

    # ------------------------------------------------------------------ layers
    def change_layer(self, layer: Layer, what: str, value: Any) -> None:
        """A change asked for by the Layers dock, made through the viewer model (which publishes it);
        one that cannot be made is a warning in the log."""
        vm, lid = self.viewer, layer.id
        try:
            if what == "visible":
                vm.set_visible(lid, bool(value))
            elif what == "opacity":
                vm.set_opacity(lid, float(value))
            elif what == "color_by":
                old = layer.color_by
                try:
                    vm.set_color_by(lid, value)
                except Exception:
                    if layer.color_by != old:  # the visual refused it: the layer keeps what it shows
                        vm.set_color_by(lid, old)
                    raise
            elif what == "lod":
                vm.set_lod(lid, value)
            elif what == "textures":
                vm.set_textures(lid, bool(value))
            elif what == "order":  # past the neighbour in the dock (other kinds of layers are not listed there)
                shown = self.layers
                j = shown.index(layer) + int(value)
                if 0 <= j < len(shown) and vm.move_layer(lid, vm.index(shown[j].id) - vm.index(lid)):
                    self.layers_dock.refresh(current=self.layers.index(layer))
            elif what == "remove":
                self.remove_layer(layer)
        except Exception as exc:
            if what == "color_by":
                self.notify(logging.WARNING, f"Cannot colour {layer.name} by {value}: {exc}")
            else:
                self.notify(logging.WARNING, f"Cannot change the {what} of {layer.name}: {exc}")

    def _on_layer_changed(self, ev: LayerChanged) -> None:
        """What the window does after a layer changed (the visual has followed already)."""
        layer = self._handles.get(ev.layer)
        if layer is None:
            return
        if ev.what == LayerProperty.COLOUR:
            try:
                source = parse_colour_source(ev.value)
            except ValueError:
                source = None
            if isinstance(source, SensorColour):  # sensor values: the sensor controller writes them
                self.sensors.apply_surface(layer)
        elif ev.what == LayerProperty.LOD:
            QTimer.singleShot(0, self, layer.visual.build_locator)
        elif ev.what == LayerProperty.NAME:
            self.layers_dock.refresh()
        if ev.what in (LayerProperty.COLOUR, LayerProperty.VISIBLE):
            self._update_legend()
        self.viewport.request_render()

    def remove_layer(self, layer: Layer) -> None:
        """Remove a layer (its visual leaves the screen; its model the scene, once no layer draws it)."""
        self.viewer.remove_layer(layer.id)

    def _on_layer_removed(self, ev: LayerRemoved) -> None:
        if self._handles.pop(ev.layer, None) is not None:
            self._layers_changed()

    # ------------------------------------------------------------------ selection
    def select(self, layer: Layer | None, obj: int, fly: bool = False) -> None:
        """Select object ``obj`` of ``layer`` (None or -1 clears)."""
        if layer is None or obj < 0:
            self.clear_selection()
            return
        self.viewer.select(layer.id, obj)
        if fly:
            self.fly_to_selection()

    def _show_matches(self, matches: list[tuple[Layer, Any]] | None, only: bool) -> None:
        """The Objects filter in 3D: its matches tinted, the others hidden with ``only``
        (a terrain layer split off a model follows its owner's matches)."""
        by_layer = {id(lay): mask for lay, mask in (matches or [])}
        for lay in self.layers:
            mask = by_layer.get(id(lay.owner or lay))
            lay.visual.set_matches(mask if matches is not None else None, hide_others=only)
        self.viewport.request_render()

    def clear_selection(self) -> None:
        self.viewer.clear_selection()

    def _on_selection(self, ev: SelectionChanged) -> None:
        """Highlight the selection in place (the terrain split off a model with it) and show it."""
        layer = self._handles.get(ev.layer) if ev.layer >= 0 and ev.objects else None
        for lay in self.layers:
            same_objects = layer is not None and (lay is layer or lay.owner is layer or layer.owner is lay)
            if same_objects:
                lay.visual.highlight(list(ev.objects))
            elif len(lay.visual.highlighted):
                lay.visual.highlight(None)
        self.viewport.request_render()
        if layer is None:
            self.attributes_dock.show_object(None, -1)
            self.objects_dock.show_object(None, -1)
            self._update_actions()
            return
        obj = ev.objects[0]
        self.attributes_dock.show_object(layer, obj)
        self.objects_dock.show_object(layer.owner or layer, obj)
        ot = layer.model.objects
        self.statusBar().showMessage(f"Selected {ot.types[obj]} {ot.ids[obj]}", 6000)
        self._update_actions()

    def selection_bounds(self) -> NDArray[np.float64] | None:
        if self.selection is None:
            return None
        layer, obj = self.selection
        bb = layer.model.object_bboxes()[obj]
        if not np.isfinite(bb).all():
            return None
        return bb - np.asarray(self.scene.origin, dtype=np.float64)

    def fly_to_selection(self) -> None:
        bb = self.selection_bounds()
        if bb is not None:
            self.viewport.fly_to(bb)

    def _on_click(self, hit: Hit | None) -> None:
        if self.measure_tool.active:
            if hit is not None:
                self.measure_tool.add_point(hit.point)
            return
        if self.sensors.consume_click():
            return
        if hit is None:
            self.clear_selection()
        else:
            self.select(self.layers[hit.layer], hit.obj)

    def _on_escape(self) -> None:
        if self.measure_tool.active:
            self.measure_tool.cancel()
        else:
            self.clear_selection()

    def _on_enter(self) -> None:
        if self.measure_tool.active:
            self.measure_tool.close()

    def keyPressEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.measure_tool.active:
            self._on_enter()
            return
        if ev.key() == Qt.Key.Key_Escape:
            self._on_escape()
            return
        super().keyPressEvent(ev)

    def _measure_mode_changed(self, mode: str) -> None:
        for m, a in self.measure_actions.items():
            a.setChecked(m == mode)
        self.viewport.rwi.setCursor(Qt.CursorShape.CrossCursor if mode else Qt.CursorShape.ArrowCursor)

    # ------------------------------------------------------------------ status bar
    def world_point(self, rel: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(rel, dtype=np.float64) + np.asarray(self.scene.origin, dtype=np.float64)

    def lonlat(self, world: NDArray[np.float64]) -> tuple[float, float] | None:
        crs = self.scene.crs
        if crs is None:
            return None
        if self._to_wgs84 is None:
            try:
                src = crs.sub_crs_list[0] if crs.is_compound else crs
                self._to_wgs84 = Transformer.from_crs(src, CRS.from_epsg(4326), always_xy=True)
            except Exception:
                return None
        lon, lat = self._to_wgs84.transform(float(world[0]), float(world[1]))
        return (lon, lat) if np.isfinite(lon) and np.isfinite(lat) else None

    def coordinate_text(self, rel: NDArray[np.float64]) -> str:
        w = self.world_point(rel)
        text = f"X {w[0]:,.2f}  Y {w[1]:,.2f}  H {w[2]:.2f} m"
        ll = self.lonlat(w)
        if ll is not None:
            lon, lat = ll
            text += f"   │   {abs(lat):.6f}°{'N' if lat >= 0 else 'S'}  {abs(lon):.6f}°{'E' if lon >= 0 else 'W'}"
        return text

    def _on_hover(self, hit: Hit | None) -> None:
        if hit is None:
            self.coord_label.setText("")
            return
        text = self.coordinate_text(hit.point)
        lay = self.layers[hit.layer] if 0 <= hit.layer < len(self.layers) else None
        if lay is not None and 0 <= hit.obj < lay.model.n_objects:
            text += f"   │   {lay.model.objects.types[hit.obj]}"
        self.coord_label.setText(text)

    # ------------------------------------------------------------------ views
    def _set_trackball(self, on: bool) -> None:
        self.settings.setValue("view/trackball", bool(on))
        self.viewport.set_navigation("trackball" if on else "turntable")

    def _walk_changed(self, on: bool) -> None:
        # a ground distance at the focal point means nothing in a street-level perspective
        self.map_overlays.scale_bar = not on
        self.viewport.request_render()

    def _size_sensor_glyphs(self) -> None:
        """Before each frame: in walk mode sensor glyphs keep a fixed size on screen."""
        px = WALK_SENSOR_PX if self.viewport.walk_mode else 0.0
        cam = self.viewport.renderer.GetActiveCamera()
        h = self.viewport.renderer.GetSize()[1]
        for e in self.sensors.entries:
            e.visual.fit_to_camera(cam, h, px)

    def _toggle_walk(self, on: bool) -> None:
        self.viewport.set_walk_mode(bool(on))
        if on:
            self.statusBar().showMessage("Walk mode: W/S forward/back, A/D sideways, Q/E down/up, "
                                         "drag to look, Shift faster, Esc to leave", 15000)

    def _camera_to_world(self) -> Camera:
        st = self.viewport.camera_state()
        o = np.asarray(self.scene.origin if self.scene.origin is not None else np.zeros(3), dtype=np.float64)
        return Camera(tuple((np.asarray(st["position"]) + o).tolist()),
                      tuple((np.asarray(st["focal_point"]) + o).tolist()),
                      tuple(st["view_up"]), float(st["view_angle"]))

    def _world_to_camera(self, cam: Camera) -> dict[str, Any]:
        o = np.asarray(self.scene.origin if self.scene.origin is not None else np.zeros(3), dtype=np.float64)
        return {"position": (np.asarray(cam.position) - o).tolist(),
                "focal_point": (np.asarray(cam.focal_point) - o).tolist(),
                "view_up": list(cam.up), "view_angle": cam.view_angle}

    def save_view(self, name: str) -> View:
        """Bookmark the current camera under ``name`` (kept in the scene file)."""
        return self.viewer.save_view(View(name, self._camera_to_world()))

    def go_to_view(self, name: str, animate: bool = True) -> bool:
        for v in self.views:
            if v.name == name:
                self.viewport.set_camera_state(self._world_to_camera(v.camera), animate=animate)
                return True
        return False

    def save_view_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "Save view", "Name of the view:", text=f"View {len(self.views) + 1}")
        if ok and name.strip():
            self.save_view(name.strip())
            self.statusBar().showMessage(f"Saved view '{name.strip()}'", 4000)

    def _fill_views(self) -> None:
        self.views_menu.clear()
        if not self.views:
            a = self.views_menu.addAction("(no saved views)")
            a.setEnabled(False)
        for k, v in enumerate(self.views):
            a = self.views_menu.addAction(v.name, lambda n=v.name: self.go_to_view(n))
            if k < 9:
                a.setShortcut(QKeySequence(f"Alt+{k + 1}"))
        if self.views:
            self.views_menu.addSeparator()
            self.views_menu.addAction("Delete all saved views", self._delete_views)

    def _delete_views(self) -> None:
        self.viewer.delete_views()

    def _on_camera(self, ev: CameraChanged) -> None:
        """A camera asked for (a scene file's): shown now, or once the files being read are in."""
        self._pending_camera = ev.camera
        if ev.camera is not None and not self.loader.busy:
            self._load_idle()

    # ------------------------------------------------------------------ scene files
    def open_scene(self, path: str | Path) -> None:
        """Load a scene file: its datasets with their styles, camera and saved views."""
        try:
            sf = read_scene(path)
        except Exception as exc:
            self.notify(logging.ERROR, str(exc))
            return
        self.scene_path = Path(path)
        self._add_recent(str(path))
        if sf.crs and self.scene.crs is None and not self.layers:
            from ..core.crs import parse_crs

            try:
                self.scene.crs = parse_crs(sf.crs)
            except Exception as exc:
                self.notify(logging.WARNING, f"{path}: scene CRS {sf.crs!r} not understood: {exc}")
        self.viewer.set_views(list(sf.views))  # their Alt+1…9 shortcuts work before the menu is ever opened
        jobs = [LoadJob(str(d.path), d.crs, {"name": d.name, "visible": d.visible, "opacity": d.opacity,
                                              "color_by": d.color_by or sf.color_by, "lod": d.lod,
                                              "textures": d.textures})
                for d in sf.datasets]
        self.timings["open"] = time.perf_counter()
        self.loader.load(jobs)
        if sf.camera is not None:
            self.viewer.set_camera(sf.camera)  # shown once the datasets are in
        self.sensors.load_specs(sf.sensors)
        self.sun.set_shadows(sf.shadows)
        if sf.time:
            self.sun.set_time_text(sf.time)  # read in the place's zone once the datasets are in

    def open_scene_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open scene", self._last_dir(), "Scene files (*.toml)")
        if path:
            self.open_scene(path)

    def scene_file(self) -> SceneFile:
        """The current state as a :class:`SceneFile` (datasets, styles, camera, views)."""
        datasets = self.viewer.datasets()
        crs = None
        if self.scene.crs is not None:
            auth = self.scene.crs.to_authority()
            crs = f"{auth[0]}:{auth[1]}" if auth else None
        return SceneFile(datasets=datasets, camera=self._camera_to_world() if self.layers else None,
                         views=list(self.views), title=self.windowTitle().split(" — ")[0], crs=crs,
                         sensors=self.sensors.spec_dicts(), shadows=self.sun.shadows,
                         time=self._clock_text() if self.sun.follows and not self.clock.live else None)

    def _clock_text(self) -> str:
        from ..sim.place import local_iso

        tz = self.sun.sunlight.place.timezone if self.sun.sunlight is not None else "UTC"
        return local_iso(self.clock.time(), tz)

    def save_scene(self, path: str | Path) -> Path:
        p = write_scene(self.scene_file(), path)
        self.scene_path = p
        self._add_recent(str(p))
        self.statusBar().showMessage(f"Saved scene {p}", 5000)
        return p

    def save_scene_dialog(self) -> None:
        start = str(self.scene_path) if self.scene_path else str(Path(self._last_dir()) / "scene.toml")
        path, _ = QFileDialog.getSaveFileName(self, "Save scene", start, "Scene files (*.toml)")
        if path:
            try:
                self.save_scene(path if path.endswith(".toml") else path + ".toml")
            except Exception as exc:
                self.notify(logging.ERROR, f"Could not save {path}: {exc}")

    # ------------------------------------------------------------------ export
    def export_png(self, path: str | Path, scale: int = 1) -> Path:
        """Save the view as PNG at ``scale`` times the window size (the overlays ``scale`` times
        as large too, so that the image looks like the window)."""
        self._update_overlay_scale(scale)
        try:
            arr = self.viewport.snapshot(scale)
        finally:
            self._update_overlay_scale()
        h, w, _ = arr.shape
        img = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        p = Path(path)
        if not img.save(str(p), "PNG"):
            raise OSError(f"could not write {p}")
        self.viewport.request_render()
        return p

    def export_dialog(self, scale: int) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export view ({scale}×)",
                                              str(Path(self._last_dir()) / "view.png"), "PNG images (*.png)")
        if path:
            try:
                p = self.export_png(path if path.lower().endswith(".png") else path + ".png", scale)
                self.statusBar().showMessage(f"Saved {p}", 5000)
            except Exception as exc:
                self.notify(logging.ERROR, f"Could not export {path}: {exc}")

    # ------------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        val = self.settings.value("recentFiles", [])
        if isinstance(val, str):
            val = [val]
        return [str(v) for v in (val or [])]

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [f for f in self.recent_files() if f != path]
        self.settings.setValue("recentFiles", [path, *files][:MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        if not files:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
            return
        for f in files:
            self.recent_menu.addAction(Path(f).name, lambda f=f: self.open_files([f])).setToolTip(f)
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list", lambda: self.settings.setValue("recentFiles", []))

    # ------------------------------------------------------------------ misc Qt
    def _update_actions(self) -> None:
        has = bool(self.layers)
        for a in (self.act_reset, self.act_top, self.act_iso, self.act_walk, self.act_save_scene,
                  *self.act_export.values(), *self.measure_actions.values(), self.act_save_view):
            a.setEnabled(has)
        self.act_fly.setEnabled(self.selection is not None)

    def overlay_ui_scale(self) -> float:
        """Size factor of the in-view overlays: the screen's device pixel ratio (VTK draws in
        device pixels), more where the logical DPI is above 96 (larger fonts asked for)."""
        return float(self.viewport.devicePixelRatioF()) * max(1.0, self.viewport.logicalDpiY() / 96.0)

    def _update_overlay_scale(self, magnification: float = 1.0) -> None:
        set_overlay_scale(self.viewport.renderer, self.overlay_ui_scale() * magnification)
        self.viewport.request_render()

    def event(self, ev: QEvent) -> bool:
        if ev.type() in (QEvent.Type.DevicePixelRatioChange, QEvent.Type.ScreenChangeInternal):
            self._update_overlay_scale()
        return super().event(ev)

    def _restore_layout(self) -> None:
        geometry = self.settings.value("windowGeometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("windowState")
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)  # False (and the default layout) for an older one
        self.sensors.show_docks(bool(self.sensors.entries))

    def dragEnterEvent(self, ev: QDragEnterEvent) -> None:  # noqa: N802
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()

    def dropEvent(self, ev: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.open_files(paths)

    def closeEvent(self, ev: QCloseEvent) -> None:  # noqa: N802
        self.loader.cancel()
        self.loader.reader.wait_idle(10.0)
        self.shortcut_guard.remove()
        self.settings.setValue("windowState", self.saveState(LAYOUT_VERSION))
        self.settings.setValue("windowGeometry", self.saveGeometry())
        logging.getLogger("citytwin").removeHandler(self.log_dock.handler)
        self.measure_tool.clear()
        self.sensors.close()
        self.sun.close()
        self.visuals.close()
        self._handles.clear()
        self.viewport.close()
        super().closeEvent(ev)
