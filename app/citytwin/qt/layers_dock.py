"""The Layers dock: a list of layers (visibility check box, order) and the current
layer's style (opacity, colour by, LoD, textures). It holds no state: a change is asked of the
window (``request(layer, what, value)``), which makes it through the viewer model; the model
publishes a :class:`~citytwin.model.events.LayerChanged` and the visual follows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import plural
from ..model.colour_source import SEMANTIC_KEY, ColourSourceRegistry, default_registry
from ..model.events import EventBus
from .checklist import fill_check_list
from .colorby import ColorByButton
from .layers import Layer

SEMANTIC = SEMANTIC_KEY


def _swatch(kind: str) -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor(60, 60, 60))
    p.setBrush(QColor("#9aa37e") if kind == "terrain" else QColor("#b5533c"))
    p.drawRoundedRect(1, 1, 12, 12, 3, 3)
    p.end()
    return QIcon(pm)


def lod_choices(layer: Layer) -> list[tuple[str, str | float]]:
    out: list[tuple[str, str | float]] = [("Best per object", "best"), ("Lowest per object", "lowest")]
    out += [(f"LoD {v:g}", v) for v in layer.model.lods()]
    return out


class QtLayersDock(QDockWidget):
    def __init__(self, bus: EventBus, layers: Callable[[], Sequence[Layer]], parent: QWidget | None = None,
                 sources: ColourSourceRegistry | None = None,
                 request: Callable[[Layer, str, Any], None] | None = None) -> None:
        super().__init__("Layers", parent)
        self.setObjectName("LayersDock")
        self.bus = bus
        self.layers = layers
        self.request = request if request is not None else _set_directly
        # the colour sources on offer per layer: semantic, attributes, and what others register (sensors)
        self.sources = sources if sources is not None else default_registry()
        w = QWidget(self)
        v = QVBoxLayout(w)
        v.setContentsMargins(4, 4, 4, 4)
        self.list = QListWidget(w)
        self.list.setObjectName("layerList")
        self.list.setAlternatingRowColors(True)
        v.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.up_btn = QToolButton(w, text="▲", toolTip="Move layer up")
        self.down_btn = QToolButton(w, text="▼", toolTip="Move layer down")
        self.remove_btn = QToolButton(w, text="✕", toolTip="Remove layer")
        for b in (self.up_btn, self.down_btn, self.remove_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        v.addLayout(buttons)
        form = QFormLayout()
        self.opacity = QSlider(Qt.Orientation.Horizontal, w)
        self.opacity.setRange(0, 100)
        self.opacity.setObjectName("opacitySlider")
        self.color_by = ColorByButton(w)  # grouped menu: Semantic; Attributes ▸; Sensors ▸ property ▸ …
        self.color_by.setObjectName("colorByCombo")
        self.lod = QComboBox(w)
        self.lod.setObjectName("lodCombo")
        self.textures = QCheckBox("Show the images of textured surfaces", w)
        self.textures.setObjectName("texturesCheck")
        self.textures.setToolTip("Textures of this layer (off while it is coloured by an attribute)")
        form.addRow("Opacity", self.opacity)
        form.addRow("Colour by", self.color_by)
        form.addRow("LoD", self.lod)
        form.addRow("Textures", self.textures)
        v.addLayout(form)
        self.setWidget(w)
        self._filling = False
        self.list.itemChanged.connect(self._item_changed)
        self.list.currentRowChanged.connect(self._current_changed)
        self.opacity.valueChanged.connect(lambda val: self._emit("opacity", val / 100.0))
        self.color_by.currentIndexChanged.connect(lambda _i: self._emit("color_by", self.color_by.currentData()))
        self.lod.currentIndexChanged.connect(lambda _i: self._emit("lod", self.lod.currentData()))
        self.textures.toggled.connect(self._textures_toggled)
        self.up_btn.clicked.connect(lambda: self._emit("order", -1))
        self.down_btn.clicked.connect(lambda: self._emit("order", +1))
        self.remove_btn.clicked.connect(lambda: self._emit("remove", None))
        self.refresh()

    def current(self) -> int:
        return self.list.currentRow()

    def refresh(self, current: int | None = None) -> None:
        """Rebuild the list from the layers (after add, remove or reorder)."""
        self._filling = True
        try:
            fill_check_list(
                self.list,
                (
                    (_swatch(layer.kind), layer.name, layer.visible,
                     f"{layer.path}\n{layer.model.format} {layer.model.version} · "
                     f"{plural(layer.model.n_objects, 'object')} · {plural(layer.model.n_triangles, 'triangle')}")
                    for layer in self.layers()
                ),
                current,
            )
        finally:
            self._filling = False
        self._current_changed(self.list.currentRow())

    def _current_changed(self, row: int) -> None:
        layers = self.layers()
        enabled = 0 <= row < len(layers)
        for wdg in (self.opacity, self.color_by, self.lod, self.up_btn, self.down_btn, self.remove_btn):
            wdg.setEnabled(enabled)
        self.textures.setEnabled(False)
        if not enabled:
            return
        layer = layers[row]
        self._filling = True
        try:
            self.opacity.setValue(int(round(layer.opacity * 100)))
            self.color_by.clear()
            for src in self.sources.sources(layer):  # keys as scene files save them
                self.color_by.addItem(src.label, src.key(), *src.menu_path)
            i = self.color_by.findData(layer.color_by)
            self.color_by.setCurrentIndex(max(i, 0))
            self.lod.clear()
            for label, value in lod_choices(layer):
                self.lod.addItem(label, value)
            j = self.lod.findData(layer.lod)
            self.lod.setCurrentIndex(max(j, 0))
            has = bool(getattr(layer.visual, "has_textures", False))
            self.textures.setEnabled(has)
            self.textures.setChecked(has and bool(getattr(layer.visual, "textures_enabled", False)))
        finally:
            self._filling = False

    def _textures_toggled(self, on: bool) -> None:
        """The "Textures" switch of the current layer."""
        if self._filling or self.current() < 0:
            return
        self._emit("textures", bool(on))

    def _item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        row = self.list.row(item)
        layers = self.layers()
        if 0 <= row < len(layers):
            self.request(layers[row], "visible", item.checkState() == Qt.CheckState.Checked)

    def _emit(self, what: str, value: object) -> None:
        layers = self.layers()
        if self._filling or not 0 <= self.current() < len(layers):
            return
        self.request(layers[self.current()], what, value)

    def set_checked(self, row: int, visible: bool) -> None:
        """Tick or untick a layer as the user would (emits the event)."""
        self.list.item(row).setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)


def _set_directly(layer: Any, what: str, value: Any) -> None:
    """Without a window: set the layer's attribute (visibility, opacity, colour by, LoD)."""
    if what in ("visible", "opacity", "color_by", "lod"):
        setattr(layer, what, value)
