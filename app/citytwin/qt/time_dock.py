"""The Time dock: drives the shared :class:`~citytwin.model.clock.SceneClock`.

Live (follow the wall clock, "now"), play/pause, speed 1×/60×/3600× and a slider to scrub
to any time within the sensor history. A second row is the sun's: a date picker, the
solstices and equinoxes of its year one click away, and a slider over that day (local
time of the scene's place); playing at 3600× runs through a day in 24 s. The dock only
changes the clock; the sensor and sun controllers read the clock and call
:meth:`QtTimeDock.show_time` / :meth:`QtTimeDock.show_sun`.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..model.clock import SceneClock

SPEEDS = (1.0, 60.0, 3600.0)
STEPS = 10_000
DAY_MINUTES = 24 * 60
#: the sun row's one-click dates: (button text, tool tip, month, day)
KEY_DATES = (("Mar eq", "March equinox", 3, 20), ("Jun sol", "June solstice", 6, 21),
             ("Sep eq", "September equinox", 9, 22), ("Dec sol", "December solstice", 12, 21))


def format_time(t: float) -> str:
    """``YYYY-MM-DD HH:MM:SS UTC`` of epoch seconds (``—`` for NaN)."""
    if not math.isfinite(t):
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


class QtTimeDock(QDockWidget):
    """Time slider, Live, Play/Pause and speed for ``clock``; ``clockChanged`` after every user change.
    With ``viewer`` (the window's :class:`~citytwin.model.viewer.ViewerModel`, whose clock it is) the
    changes go through the model, which publishes them (:class:`~citytwin.model.events.TimeChanged`)."""

    clockChanged = Signal()
    sunRequested = Signal()  # the sun row was used: the key light should follow the clock

    def __init__(self, clock: SceneClock, parent: QWidget | None = None, viewer: Any = None) -> None:
        super().__init__("Time", parent)
        self.setObjectName("TimeDock")
        self.clock = clock
        self.viewer = viewer
        self.span = (math.nan, math.nan)
        w = QWidget(self)
        rows = QVBoxLayout(w)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        h = QHBoxLayout()
        h.setContentsMargins(4, 2, 4, 2)
        rows.addLayout(h)
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
        self._build_sun_row(w, rows)
        self.setWidget(w)
        self._filling = False
        self.live_btn.clicked.connect(self._live_clicked)
        self.play_btn.clicked.connect(self._play_clicked)
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.slider.valueChanged.connect(self._slider_moved)
        self.show_time(clock.time())

    def _build_sun_row(self, w: QWidget, rows: QVBoxLayout) -> None:
        """Date picker, solstice/equinox buttons and a slider over the day, in ``tz`` (UTC until
        :meth:`set_zone` gives the scene's zone)."""
        self.tz: ZoneInfo = ZoneInfo("UTC")
        h = QHBoxLayout()
        h.setContentsMargins(4, 0, 4, 2)
        rows.addLayout(h)
        h.addWidget(QLabel("Sun", w))
        self.date_edit = QDateEdit(w)
        self.date_edit.setObjectName("sunDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setToolTip("The day (the sun's date; the clock keeps its time of day)")
        h.addWidget(self.date_edit)
        self.key_buttons: dict[str, QToolButton] = {}
        for text, tip, month, day in KEY_DATES:
            b = QToolButton(w, text=text, toolTip=f"{tip} of the year shown, same time of day")
            b.setObjectName(f"sunKey{month:02d}")
            b.clicked.connect(lambda _=False, m=month, d=day: self.go_to_date(self.date_edit.date().year(), m, d))
            h.addWidget(b)
            self.key_buttons[tip] = b
        self.day_slider = QSlider(Qt.Orientation.Horizontal, w)
        self.day_slider.setObjectName("daySlider")
        self.day_slider.setRange(0, DAY_MINUTES - 1)
        self.day_slider.setToolTip("Time of day (local time of the scene)")
        h.addWidget(self.day_slider, 1)
        self.sun_label = QLabel("", w)
        self.sun_label.setObjectName("sunLabel")
        self.sun_label.setMinimumWidth(250)
        h.addWidget(self.sun_label)
        self.date_edit.dateChanged.connect(self._date_changed)
        self.day_slider.valueChanged.connect(self._day_moved)

    def set_zone(self, tz: str) -> None:
        """The time zone of the sun row's date and time of day (the scene's place)."""
        try:
            self.tz = ZoneInfo(tz)
        except Exception:  # noqa: BLE001 - keep UTC for an unknown name
            self.tz = ZoneInfo("UTC")
        self.show_time(self.clock.time())

    def local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, UTC).astimezone(self.tz)

    def go_to_date(self, year: int, month: int, day: int) -> None:
        """The same local time of day on ``year-month-day``."""
        now = self.local(self.clock.time())
        start = datetime(year, month, day, tzinfo=self.tz)
        self.sunRequested.emit()
        self.set_time((start + timedelta(hours=now.hour, minutes=now.minute, seconds=now.second)).timestamp())

    def _date_changed(self, d: QDate) -> None:
        if not self._filling:
            self.go_to_date(d.year(), d.month(), d.day())

    def _day_moved(self, minute: int) -> None:
        if self._filling:
            return
        now = self.local(self.clock.time())
        start = datetime(now.year, now.month, now.day, tzinfo=self.tz)
        self.sunRequested.emit()
        self.set_time((start + timedelta(minutes=int(minute))).timestamp())

    def show_sun(self, text: str) -> None:
        """The sun's read-out (azimuth, elevation) beside the day slider."""
        self.sun_label.setText(text)

    # ------------------------------------------------------------ user
    def _live_clicked(self, on: bool) -> None:
        if on:
            self._do("go_live")
        else:
            self._do("pause")
        self._changed()

    def _play_clicked(self) -> None:
        if self.clock.playing and not self.clock.live:
            self._do("pause")
        else:
            self._do("play", float(self.speed.currentData()))
        self._changed()

    def _speed_changed(self, _i: int) -> None:
        if not self._filling:
            if self.viewer is not None:
                self.viewer.set_speed(float(self.speed.currentData()))
            else:
                self.clock.speed = float(self.speed.currentData())
            self._changed()

    def _slider_moved(self, value: int) -> None:
        if self._filling:
            return
        self.set_time(self.time_of(value))

    def set_time(self, t: float) -> None:
        """Scrub to ``t`` (leaves live mode, keeps playing or paused)."""
        self._do("set_time", t)
        self._changed()

    def _do(self, method: str, *args: Any) -> None:
        """``method`` of the viewer model (published) or, without one, of the clock."""
        getattr(self.viewer if self.viewer is not None else self.clock, method)(*args)

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
            if math.isfinite(t):
                loc = self.local(t)
                self.date_edit.setDate(QDate(loc.year, loc.month, loc.day))
                self.day_slider.setValue(loc.hour * 60 + loc.minute)
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
