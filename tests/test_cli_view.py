"""``citytwin view`` / ``citytwin render``: parser, headless PNG rendering, one-line errors."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from citytwin.cli import main
from citytwin.cli import view as view_cli

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FZK2 = DATA / "citygml" / "fzk-haus" / "FZK-House-LoD2-KIT-IAI-KHH-V2.gml"
DENHAAG_JSON = DATA / "cityjson" / "denhaag" / "DenHaag_01_v1.0.city.json"


def need(p: Path) -> Path:
    if not p.exists():
        pytest.skip(f"shared data file missing: {p}")
    return p


def can_render() -> None:
    from citytwin.render import offscreen_available

    ok, why = offscreen_available()
    if not ok:
        pytest.skip(why)


def test_add_parser_registers_view_and_render() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    view_cli.add_parser(sub)
    a = p.parse_args(["view", "a.gml", "b.json", "--crs", "EPSG:3946"])
    assert a.files == ["a.gml", "b.json"] and a.crs == "EPSG:3946" and callable(a.handler)
    r = p.parse_args(["render", "x.gml", "--out", "o.png", "--size", "800x600", "--view", "top",
                      "--color-by", "function"])
    assert (r.input, r.out, r.size, r.view, r.color_by) == (["x.gml"], "o.png", "800x600", "top", "function")
    assert callable(view_cli.open_viewer)


@pytest.mark.parametrize("text,size", [("1920x1080", (1920, 1080)), (" 640 X 480 ", (640, 480)), ("32×16", (32, 16))])
def test_parse_size(text: str, size: tuple[int, int]) -> None:
    assert view_cli.parse_size(text) == size


@pytest.mark.parametrize("text", ["1920", "axb", "0x10", "100000x10"])
def test_parse_size_rejects(text: str) -> None:
    from citytwin.core.errors import CityTwinError

    with pytest.raises(CityTwinError):
        view_cli.parse_size(text)


def _png(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def test_render_png_iso_and_top(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    can_render()
    out = tmp_path / "fzk.png"
    assert main(["render", str(need(FZK2)), "--out", str(out), "--size", "320x240"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    img = _png(out)
    assert img.shape == (240, 320, 3)
    differs = np.abs(img.astype(int) - img[:, :1].astype(int)).max(axis=2) > 12
    assert differs.mean() > 0.05  # the house, not just sky
    top = tmp_path / "top.png"
    assert main(["render", str(FZK2), "--out", str(top), "--size", "320x240", "--view", "top"]) == 0
    assert not np.array_equal(_png(top), img)


def test_render_color_by_changes_pixels(tmp_path: Path) -> None:
    can_render()
    a, b = tmp_path / "sem.png", tmp_path / "attr.png"
    src = str(need(DENHAAG_JSON))
    assert main(["render", src, "--out", str(a), "--size", "400x300", "--view", "top"]) == 0
    assert main(["render", src, "--out", str(b), "--size", "400x300", "--view", "top",
                 "--color-by", "RelativeRidgeHeight"]) == 0
    diff = np.abs(_png(a).astype(int) - _png(b).astype(int)).max(axis=2) > 20
    assert diff.mean() > 0.02


def test_render_scene_file_saved_view(tmp_path: Path) -> None:
    can_render()
    from citytwin.model.scenefile import Camera, Dataset, SceneFile, View, write_scene

    need(FZK2)
    cam = Camera((457_800.0, 5_439_000.0, 300.0), (457_842.0, 5_439_088.0, 0.0))
    scene = write_scene(SceneFile(datasets=[Dataset(FZK2)], views=[View("Close", cam)]), tmp_path / "s.toml")
    out = tmp_path / "v.png"
    assert main(["render", str(scene), "--out", str(out), "--size", "200x150", "--view", "Close"]) == 0
    assert _png(out).shape == (150, 200, 3)


def test_render_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x.png")
    assert main(["render", str(tmp_path / "missing.gml"), "--out", out]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("citytwin: error:") and "missing.gml" in err and "\n" not in err
    assert main(["render", str(need(FZK2)), "--out", out, "--size", "big"]) == 1
    assert "--size" in capsys.readouterr().err
    assert main(["render", str(FZK2), "--out", out, "--view", "sideways"]) == 1
    assert "--view" in capsys.readouterr().err
    assert main(["render", str(FZK2), "--out", out, "--color-by", "noSuchAttribute"]) == 1
    assert "noSuchAttribute" in capsys.readouterr().err
    assert not Path(out).exists()


def test_view_without_display_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-m", "citytwin", "view", str(need(FZK2))], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 1
    assert "no display" in r.stderr and r.stderr.count("\n") == 1


def test_view_missing_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["view", "/nonexistent/file.gml"]) == 1
    err = capsys.readouterr().err
    assert "file.gml" in err and err.count("\n") == 1


def test_cli_and_app_modules_load_no_gui_until_used() -> None:
    """``citytwin info`` must not pay for Qt or VTK: the view command imports them lazily."""
    code = (
        "import sys, citytwin.cli, citytwin.cli.view, citytwin.app, citytwin.qt\n"
        "citytwin.cli._parser()\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'vtkmodules', 'pyvista')))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert r.stdout.strip() == ""


def test_only_qt_imports_pyside6() -> None:
    """The renderer draws without Qt; only ``citytwin.qt`` (and the app that composes it) loads PySide6."""
    code = (
        "import sys, citytwin.render, citytwin.render.viewtools, citytwin.render.snapshot\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] == 'PySide6'))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert r.stdout.strip() == ""
