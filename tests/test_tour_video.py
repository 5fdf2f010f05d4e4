"""Tour export for real: the demo district rendered off-screen, encoded by the real ffmpeg
(imageio-ffmpeg's) and read back; captions found in the decoded pixels; cancelled and failed
exports leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from citytwin.io.viewer_loader import load_viewer
from citytwin.model.tour_path import TourPath
from citytwin.render.effects import NO_EFFECTS
from citytwin.render.tour_render import ExportCancelled, TourRenderer, export_tour
from citytwin.render.video import AnimatedWriter, Mp4Writer, PngSequenceWriter, VideoError, check_output
from render_fixtures import DEMO, RENDER_MARKS

pytestmark = RENDER_MARKS

SIZE = (320, 240)
FPS = 10.0

SCENE = """version = 1
crs = "EPSG:25832"

[[datasets]]
name = "District"
path = "{demo}"

[[tours]]
name = "Short"

[[tours.stops]]
camera = {{ position = [476700.0, 5428400.0, 600.0], focal_point = [476998.0, 5428728.0, 258.0] }}
hold = 0.5
caption = "Market square\\nA test caption"

[[tours.stops]]
camera = {{ position = [477200.0, 5428450.0, 500.0], focal_point = [477050.0, 5428700.0, 258.0] }}
transition = 0.6
hold = 0.5
caption = "Second stop"
poi = {{ position = [477050.0, 5428700.0, 270.0], label = "Here" }}
"""


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("tour") / "scene.toml"
    p.write_text(SCENE.format(demo=DEMO.as_posix()))
    return p


@pytest.fixture(scope="module")
def renderer(scene: Path):  # noqa: ANN201
    vm, sf = load_viewer([scene])
    r = TourRenderer(vm, size=SIZE, effects=NO_EFFECTS)
    yield r, TourPath(sf.tours[0])
    r.close()


def _box(img: np.ndarray, rect: tuple[float, float, float, float]) -> np.ndarray:
    """Pixels inside a display rectangle (origin bottom-left), a little inset."""
    x0, y0, x1, y1 = rect
    h = img.shape[0]
    return img[int(h - y1) + 2:int(h - y0) - 2, int(x0) + 2:int(x1) - 2]


def _caption_like(px: np.ndarray) -> tuple[float, float]:
    """Fractions of light box pixels and of dark text pixels."""
    grey = px.astype(np.float64).mean(axis=2)
    return float((grey > 200).mean()), float((grey < 90).mean())


def test_mp4_is_h264_yuv420p_with_every_frame_and_the_caption(renderer, tmp_path: Path) -> None:  # noqa: ANN001
    r, path = renderer
    out = tmp_path / "tour.mp4"
    frames_dir = tmp_path / "frames"
    n = path.frame_count(FPS)
    assert n == 16  # 0.5 + 0.6 + 0.5 s at 10 fps
    written = export_tour(r, path, [Mp4Writer(out, SIZE, FPS), PngSequenceWriter(frames_dir)], FPS)
    assert written == [out, frames_dir]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "tour.mp4"]  # no temporaries left
    assert len(list(frames_dir.glob("frame_*.png"))) == n

    gen = imageio_ffmpeg.read_frames(str(out))
    meta = next(gen)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert tuple(meta["size"]) == SIZE and meta["fps"] == FPS
    decoded = [np.frombuffer(b, dtype=np.uint8).reshape(SIZE[1], SIZE[0], 3) for b in gen]
    assert len(decoded) == n

    r.apply(path.sample(0.3))  # holding at stop 1: caption fully shown
    rect = r.overlay.caption_rect
    assert rect is not None
    light, dark = _caption_like(_box(decoded[3], rect))
    assert light > 0.5 and dark > 0.01, (light, dark)  # a light box with dark letters
    light_mid, _ = _caption_like(_box(decoded[8], rect))  # mid-flight: no caption
    assert light_mid < 0.2, light_mid

    from PIL import Image

    png = np.asarray(Image.open(frames_dir / "frame_00004.png").convert("RGB"))
    assert np.abs(png.astype(int) - decoded[3].astype(int)).mean() < 6  # the video is the rendered frames
    assert np.abs(decoded[3].astype(int) - decoded[13].astype(int)).mean() > 10  # the camera moved


def test_poi_label_is_drawn_at_its_point(renderer) -> None:  # noqa: ANN001
    r, path = renderer
    s = path.sample(path.arrive[1] + 0.2)
    assert s.poi is not None and s.caption_alpha == 1.0
    with_poi = r.frame(s)
    xy = r.overlay.poi_xy
    assert xy is not None
    x, y = int(xy[0]), SIZE[1] - int(xy[1])
    marker = with_poi[y - 2:y + 3, x - 2:x + 3].reshape(-1, 3).mean(axis=0)
    assert marker[0] > 200 and 90 < marker[1] < 160 and marker[2] < 80  # the orange disc
    # the label box sits just above the marker: light pixels there
    above = with_poi[max(0, y - 30):y - 12, x - 8:x + 8].astype(float).mean(axis=2)
    assert (above > 200).mean() > 0.4


def test_cancel_and_failure_leave_no_file(renderer, tmp_path: Path) -> None:  # noqa: ANN001
    r, path = renderer
    out = tmp_path / "cancelled.mp4"
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(ExportCancelled):
        export_tour(r, path, [Mp4Writer(out, SIZE, FPS), PngSequenceWriter(tmp_path / "f"),
                              AnimatedWriter(tmp_path / "p.gif", FPS)], FPS, cancelled=cancelled)
    assert list(tmp_path.iterdir()) == []

    class Broken(Exception):
        pass

    def boom(done: int, total: int) -> None:
        if done == 5:
            raise Broken

    out.write_bytes(b"old video")  # a failed export keeps the old file as it was
    with pytest.raises(Broken):
        export_tour(r, path, [Mp4Writer(out, SIZE, FPS)], FPS, progress=boom)
    assert [p.name for p in tmp_path.iterdir()] == ["cancelled.mp4"] and out.read_bytes() == b"old video"


def test_animated_previews(renderer, tmp_path: Path) -> None:  # noqa: ANN001
    from PIL import Image

    r, path = renderer
    gif, webp = tmp_path / "p.gif", tmp_path / "p.webp"
    export_tour(r, path, [AnimatedWriter(gif, FPS), AnimatedWriter(webp, FPS)], FPS)
    for p in (gif, webp):
        with Image.open(p) as im:
            assert im.size == SIZE and im.info.get("loop") == 0
            assert 8 <= im.n_frames <= 16  # Pillow merges identical frames (a hold) into longer ones
    with Image.open(gif) as im:
        total = 0
        for k in range(im.n_frames):
            im.seek(k)
            total += im.info["duration"]
        assert total == 1600  # 16 frames of 100 ms


def test_outputs_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(VideoError, match="does not exist"):
        check_output(tmp_path / "nope" / "t.mp4")
    with pytest.raises(VideoError, match="does not exist"):
        check_output(tmp_path / "file" / "t.mp4")
    with pytest.raises(VideoError, match="unknown video type '.avi'"):
        check_output(tmp_path / "t.avi")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.png").write_text("x")
    with pytest.raises(VideoError, match="not empty"):
        check_output(tmp_path / "full", frames_dir=True)
    with pytest.raises(VideoError, match="even width and height"):
        Mp4Writer(tmp_path / "odd.mp4", (321, 240), FPS)
    assert list(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
