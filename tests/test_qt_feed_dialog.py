"""The window's Add sensor feed dialog and scene-file [[sensors]] refuse MQTT topic filters
a broker would reject, saying why, instead of a layer stuck in "connecting"."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QLineEdit

import qt_fixtures
from citytwin.live.broker import free_port

make_window = qt_fixtures.make_window  # the fixture

pytestmark = pytest.mark.gui


def _ok(dlg) -> None:  # noqa: ANN001
    dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_dialog_shows_the_problem_and_stays_open(qtbot, make_window) -> None:
    win = make_window()
    dlg, chosen = win.sensors.feed_dialog()
    dlg.show()
    qtbot.waitExposed(dlg)
    src, topics = dlg.findChild(QLineEdit, "feedSource"), dlg.findChild(QLineEdit, "feedTopics")
    error = dlg.findChild(QLabel, "feedError")
    url = f"mqtt://127.0.0.1:{free_port()}"
    src.setText(url)
    topics.setText("v1.1/Datastreams(+)/Observations")
    _ok(dlg)
    assert dlg.isVisible() and not chosen  # not accepted
    assert error.isVisible()
    assert "v1.1/Datastreams(+)/Observations" in error.text() and "v1.1/+/Observations" in error.text()

    topics.setText("v1.1/+/Observations city/#")
    _ok(dlg)
    assert not dlg.isVisible() and dlg.result() == dlg.DialogCode.Accepted
    assert len(chosen) == 1 and chosen[0].source == url
    assert chosen[0].topics == ["v1.1/+/Observations", "city/#"]


def test_dialog_refuses_topics_for_a_replay_file_and_an_empty_source(qtbot, make_window) -> None:
    win = make_window()
    dlg, chosen = win.sensors.feed_dialog()
    dlg.show()
    qtbot.waitExposed(dlg)
    error = dlg.findChild(QLabel, "feedError")
    _ok(dlg)
    assert dlg.isVisible() and error.isVisible() and "broker URL" in error.text()
    dlg.findChild(QLineEdit, "feedSource").setText(str(qt_fixtures.ROOT / "scenes" / "x.csv"))
    dlg.findChild(QLineEdit, "feedTopics").setText("v1.1/#")
    _ok(dlg)
    assert dlg.isVisible() and not chosen and "only apply to an MQTT broker" in error.text()
    dlg.reject()


def test_scene_file_sensors_with_a_bad_filter_are_named_and_skipped(qtbot, make_window, tmp_path: Path) -> None:
    scene = tmp_path / "feeds.toml"
    port = free_port()
    scene.write_text(
        "version = 1\n\n"
        f'[[sensors]]\nname = "bad"\nsource = "mqtt://127.0.0.1:{port}"\n'
        'topics = ["v1.1/Datastreams(+)/Observations"]\n\n'
        f'[[sensors]]\nname = "good"\nsource = "mqtt://127.0.0.1:{port}"\ntopics = ["v1.1/+/Observations"]\n',
        encoding="utf-8")
    win = make_window()
    win.open_scene(scene)
    qtbot.waitUntil(lambda: len(win.sensors.entries) == 1, timeout=10000)
    assert [e.spec.name for e in win.sensors.entries] == ["good"]
    errors = [m for m in win.log_dock.messages() if "Datastreams(+)" in m]
    assert len(errors) == 1, win.log_dock.messages()
    assert str(scene) in errors[0] and "[[sensors]] #1" in errors[0] and "'v1.1/+/Observations'" in errors[0]
    assert win.log_dock.counts[logging.ERROR] >= 1
