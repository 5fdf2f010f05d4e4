"""``citytwin tour`` as users run it: a subprocess, its one-line errors, its outputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from render_fixtures import DEMO, RENDER_MARKS

ROOT = Path(__file__).resolve().parents[1]

# a scene whose dataset does not exist: every error below must come before loading it
BROKEN = """version = 1
[[datasets]]
name = "Missing"
path = "no_such_file.city.json"

[[tours]]
name = "Empty"

[[tours]]
name = "Stuck"

[[tours.stops]]
camera = {{ position = [1.0, 2.0, 3.0], focal_point = [1.0, 2.0, 3.0] }}

[[tours]]
name = "Fine"

[[tours.stops]]
camera = {{ position = [0.0, -100.0, 100.0], focal_point = [0.0, 0.0, 0.0] }}
time = "{time}"
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citytwin", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    p = tmp_path / "broken.toml"
    p.write_text(BROKEN.format(time="2026-06-21T10:00:00+02:00"))
    return p


@pytest.mark.parametrize(("args", "line"), [
    (["--tour", "Empty", "--out", "{tmp}/t.mp4"], "{scene}: tour 'Empty' has no stops"),
    (["--tour", "stuck", "--out", "{tmp}/t.mp4"], "{scene}: tour 'Stuck' stop 1: the camera sits on its focal point"),
    (["--tour", "Nope", "--out", "{tmp}/t.mp4"], "{scene}: no tour 'Nope' (tours: 'Empty', 'Stuck', 'Fine')"),
    (["--tour", "Fine", "--out", "{tmp}/no/such/dir/t.mp4"], "{tmp}/no/such/dir/t.mp4: folder {tmp}/no/such/dir does not exist"),
    (["--tour", "Fine", "--out", "/proc/t.mp4"], "/proc/t.mp4: cannot write there"),
    (["--tour", "Fine", "--out", "{tmp}/t.avi"], "{tmp}/t.avi: unknown video type '.avi'"),
    (["--tour", "Fine", "--out", "{tmp}/t.mp4", "--size", "641x480"], "--size 641x480: H.264 needs an even width"),
    (["--tour", "Fine", "--out", "{tmp}/t.mp4", "--fps", "0"], "--fps must be 1..240, got 0.0"),
    (["--tour", "Fine"], "tour render: say --out FILE (.mp4, .gif, .webp) and/or --frames DIR"),
])
def test_bad_input_is_one_line_before_anything_is_loaded(broken: Path, args: list[str], line: str) -> None:
    tmp = broken.parent
    out = run("tour", "render", str(broken), *[a.format(tmp=tmp) for a in args])
    assert out.returncode != 0
    err = out.stderr.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith(f"citytwin: error: {line.format(tmp=tmp, scene=broken)}"), err
    assert "no_such_file" not in err  # the dataset was never read: nothing was rendered
    assert sorted(p.name for p in tmp.iterdir()) == ["broken.toml"]


def test_bad_time_and_malformed_tables(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text(BROKEN.format(time="half past ten"))
    out = run("tour", "render", str(p), "--tour", "Fine", "--out", str(tmp_path / "t.mp4"))
    assert out.returncode == 1
    assert out.stderr.strip() == (f"citytwin: error: {p}: tour 'Fine' stop 1: time 'half past ten' is not an "
                                  "ISO 8601 time (e.g. 2026-06-21T10:00:00+02:00)")
    p.write_text('version = 1\n[[tours]]\nname = "A"\n[[tours.stops]]\nhold = 1.0\n')
    out = run("tour", "list", str(p))
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "tours[0] ('A') stop 1 needs camera" in out.stderr


def test_list_shows_the_demo_tour_and_problems(broken: Path) -> None:
    out = run("tour", "list", str(ROOT / "scenes" / "demo.toml"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["Lindenau in brief\t5 stops\t26.5 s"]
    out = run("tour", "list", str(broken))
    assert out.returncode == 0
    assert out.stdout.splitlines() == [
        "Empty\t0 stops\t0.0 s  (cannot play: has no stops)",
        "Stuck\t1 stops\t2.0 s  (cannot play: stop 1: the camera sits on its focal point)",
        "Fine\t1 stops\t2.0 s",
    ]


@RENDER_MARKS[0]
@RENDER_MARKS[1]
def test_render_preview_gif_and_png_frames(tmp_path: Path) -> None:
    from PIL import Image

    scene = tmp_path / "s.toml"
    scene.write_text(f"""version = 1
crs = "EPSG:25832"
[[datasets]]
name = "District"
path = "{DEMO.as_posix()}"

[[tours]]
name = "Two"

[[tours.stops]]
camera = {{ position = [476700.0, 5428400.0, 600.0], focal_point = [476998.0, 5428728.0, 258.0] }}
hold = 0.4
caption = "One"

[[tours.stops]]
camera = {{ position = [477200.0, 5428450.0, 500.0], focal_point = [477050.0, 5428700.0, 258.0] }}
transition = 0.4
hold = 0.2
""")
    out = run("tour", "render", str(scene), "--tour", "Two", "--out", str(tmp_path / "p.gif"), "--fps", "10",
              "--size", "160x120", "--frames", str(tmp_path / "frames"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(tmp_path / "p.gif"), str(tmp_path / "frames")]
    assert len(list((tmp_path / "frames").glob("frame_*.png"))) == 10
    with Image.open(tmp_path / "p.gif") as im:
        assert im.size == (160, 120) and im.n_frames >= 5
