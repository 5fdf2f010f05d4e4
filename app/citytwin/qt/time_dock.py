"""The Time dock: drives the shared :class:`~citytwin.model.clock.SceneClock`.

Live (follow the wall clock), play/pause, speed 1×/60×/3600× and a slider to scrub
to any time within the sensor history. The dock only changes the clock; the
sensor controller reads the clock once per frame and calls :meth:`QtTimeDock.show_time`.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QToolButton,
    QWidget,
)

from ..model.clock import SceneClock

SPEEDS = (1.0, 60.0, 3600.0)
STEPS = 10_000


def format_time(t: float) -> str:
    """``YYYY-MM-DD HH:MM:SS UTC`` of epoch seconds (``—`` for NaN)."""
    if not math.isfinite(t):
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


class QtTimeDock(QDockWidget):
    """Time slider, Live, Play/Pause and speed for ``clock``; ``clockChanged`` after every user change."""

    clockChanged = Signal()

    def __init__(self, clock: SceneClock, parent: QWidget | None = None) -> None:
        super().__init__("Time", parent)
        self.setObjectName("TimeDock")
        self.clock = clock
        self.span = (math.nan, math.nan)
        w = QWidget(self)
        h = QHBoxLayout(w)
        h.setContentsMargins(4, 2, 4, 2)
        self.live_btn = QToolButton(w, text="● Live", checkable=True, toolTip="Follow the current time")
        self.live_btn.setObjectName("liveButton")
        self.play_btn = QToolButton(w, toolTip="Play / pause")
        self._icons = (self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay),
                       self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        self.play_btn.setObjectName("playButton")
        self.speed = QComboBox(w)
        self.speed.setObjectName("speedCombo")
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.slider = QSlider(Qt.Orientation.Horizontal, w)
        self.slider.setObjectName("timeSlider")
        self.slider.setRange(0, STEPS)
        self.label = QLabel("—", w)
        self.label.setObjectName("timeLabel")
        self.label.setMinimumWidth(190)
        for wdg in (self.live_btn, self.play_btn, self.speed):
            h.addWidget(wdg)
        h.addWidget(self.slider, 1)
        h.addWidget(self.label)
        self.setWidget(w)
        self._filling = False
        self.live_btn.clicked.connect(self._live_clicked)
        self.play_btn.clicked.connect(self._play_clicked)
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.slider.valueChanged.connect(self._slider_moved)
        self.show_time(clock.time())

    # ------------------------------------------------------------ user
    def _live_clicked(self, on: bool) -> None:
        if on:
            self.clock.go_live()
        else:
            self.clock.pause()
        self._changed()

    def _play_clicked(self) -> None:
        if self.clock.playing and not self.clock.live:
            self.clock.pause()
        else:
            self.clock.play(float(self.speed.currentData()))
        self._changed()

    def _speed_changed(self, _i: int) -> None:
        if not self._filling:
            self.clock.speed = float(self.speed.currentData())
            self._changed()

    def _slider_moved(self, value: int) -> None:
        if self._filling:
            return
        self.set_time(self.time_of(value))

    def set_time(self, t: float) -> None:
        """Scrub to ``t`` (leaves live mode, keeps playing or paused)."""
        self.clock.set_time(t)
        self._changed()

    def _changed(self) -> None:
        self.show_time(self.clock.time())
        self.clockChanged.emit()

    # ------------------------------------------------------------ display
    def set_span(self, t0: float, t1: float) -> None:
        """The scrubbing range (the sensor history)."""
        self.span = (t0, t1)

    def time_of(self, value: int) -> float:
        t0, t1 = self.span
        if not (math.isfinite(t0) and math.isfinite(t1)) or t1 <= t0:
            return self.clock.time()
        return t0 + (t1 - t0) * value / STEPS

    def show_time(self, t: float) -> None:
        """Move the slider and label to ``t`` without touching the clock."""
        self._filling = True
        try:
            t0, t1 = self.span
            if math.isfinite(t0) and math.isfinite(t1) and t1 > t0:
                self.slider.setEnabled(True)
                self.slider.setValue(int(round(min(max((t - t0) / (t1 - t0), 0.0), 1.0) * STEPS)))
            else:
                self.slider.setEnabled(False)
            self.label.setText(format_time(t))
            self.live_btn.setChecked(self.clock.live)
            self.play_btn.setIcon(self._icons[1 if self.clock.playing and not self.clock.live else 0])
            i = self.speed.findData(self.clock.speed)
            if i < 0:  # a speed the scene file asked for
                self.speed.addItem(f"{self.clock.speed:g}×", self.clock.speed)
                i = self.speed.count() - 1
            if i >= 0 and i != self.speed.currentIndex():
                self.speed.setCurrentIndex(i)
        finally:
            self._filling = False
