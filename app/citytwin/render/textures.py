"""Textures of a city model packed for drawing: atlas pages, repeat images, textured PolyData.

A layer's images are packed into a few atlas pages (shelf packing, at most
``max_size`` texels a side, every image surrounded by a gutter of replicated edge
texels so that linear and mipmapped filtering do not bleed between images). All
triangles textured by the images of one page are drawn by ONE extra actor with
their UVs remapped into the page. Images whose UVs leave ``[0, 1]`` (tiling
textures: bricks, shingles, wood) cannot be remapped linearly into an atlas; each
of them gets its own repeating texture (GL_REPEAT / mirrored repeat) instead.
Images are read with Pillow (a project dependency); big JPEGs are decoded at a
reduced size directly (``Image.draft``) when the atlas has to downscale them.
Images that are missing or unreadable leave their triangles to the coloured
actor (semantic / material colours).

Nothing here runs for a model without textures: :func:`build_texture_set`
returns None before reading anything.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyvista as pv
from numpy.typing import NDArray

from ..model.city import CityModel
from .polydata import flat_triangles, triangles_polydata

log = logging.getLogger(__name__)

__all__ = [
    "AtlasPage",
    "TextureGroup",
    "TextureSet",
    "build_texture_set",
    "check_gl",
    "pack_shelves",
    "textured_polydata",
    "textured_triangle_mask",
    "vtk_texture",
]

#: UVs this far outside [0, 1] still count as "inside" (rounding in the data).
UV_SLACK = 0.02

#: Anisotropic filtering of the textures (sharp walls seen at a grazing angle). Software
#: OpenGL (llvmpipe) pays about 40 % of a textured frame for it: :func:`check_gl` turns
#: it off there, once per process, when the first frame is drawn.
_GL = {"anisotropy": 8.0, "checked": False}
_TEXTURES: weakref.WeakSet[Any] = weakref.WeakSet()
_SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "software rasterizer", "microsoft basic render")


@dataclass
class AtlasPage:
    """One packed image ``(H, W, 3)`` uint8, row 0 at the BOTTOM (OpenGL's texture orientation)."""

    image: NDArray[np.uint8]

    @property
    def size(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass
class TextureGroup:
    """What one textured actor draws: an atlas page or a single repeating image."""

    image: NDArray[np.uint8]  # (H, W, 3), row 0 at the bottom
    repeat: bool  # True: a tiling image (UVs used as they are, GL_REPEAT)
    mirror: bool = False  # mirrored repeat (CityGML wrapMode "mirror"): image is the 2 x 2 mirrored tile
    textures: list[int] = field(default_factory=list)  # model texture indices drawn with it


@dataclass
class TextureSet:
    """Everything a layer needs to draw its textures.

    ``group_of[k]`` is the group (index into ``groups``) that draws model texture
    ``k``, or -1 when the image is missing, unreadable or unused; ``rect[k]`` is
    ``(u0, v0, du, dv)``: where texture ``k`` lies in its atlas page (``(0, 0, 1, 1)``
    for a repeat image), so ``atlas_uv = rect[:2] + uv * rect[2:]``.
    """

    groups: list[TextureGroup]
    group_of: NDArray[np.int32]
    rect: NDArray[np.float64]
    scale: float = 1.0  # downscale applied to the atlas images (1 = full resolution)
    seconds: float = 0.0  # time to read and pack the images
    failed: list[int] = field(default_factory=list)  # texture indices whose image could not be read

    @property
    def n_pages(self) -> int:
        return sum(1 for g in self.groups if not g.repeat)

    def texels(self) -> int:
        return int(sum(g.image.shape[0] * g.image.shape[1] for g in self.groups))


# ---------------------------------------------------------------- triangles
def textured_triangle_mask(model: CityModel) -> NDArray[np.bool_]:
    """Triangles that carry a texture index, an existing image and finite UVs at all three corners."""
    p = model.polygons
    if p.uv is None or not model.textures or not len(p.texture):
        return np.zeros(model.n_triangles, dtype=bool)
    found = np.array([bool(t.get("found", True)) for t in model.textures] + [False], dtype=bool)
    tex = p.texture[model.tri_poly]
    ok = found[np.where((tex >= 0) & (tex < len(model.textures)), tex, len(model.textures))]
    if not ok.any():
        return ok
    uv = model.tri_uv
    assert uv is not None
    ok &= np.isfinite(uv).all(axis=(1, 2))
    return ok


def _uv_outside(model: CityModel, tmask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Per model texture: do any of its UVs leave ``[0, 1]`` (a tiling texture)?"""
    n = len(model.textures)
    out = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(tmask)
    if not len(idx):
        return out
    uv = model.tri_uv[idx]  # type: ignore[index]
    tex = model.polygons.texture[model.tri_poly[idx]]
    bad = ((uv < -UV_SLACK) | (uv > 1.0 + UV_SLACK)).any(axis=(1, 2))
    out[np.unique(tex[bad])] = True
    return out


# ---------------------------------------------------------------- images
def _read_image(path: str, max_side: int) -> NDArray[np.uint8]:
    """RGB image, row 0 at the bottom; decoded at a reduced size when larger than ``max_side``."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        if max(w, h) > max_side:
            im.draft("RGB", (max(1, w * max_side // max(w, h)), max(1, h * max_side // max(w, h))))
        rgb = im.convert("RGB")
        if max(rgb.size) > max_side:
            f = max_side / max(rgb.size)
            rgb = rgb.resize((max(1, round(rgb.size[0] * f)), max(1, round(rgb.size[1] * f))), Image.Resampling.BOX)
        arr = np.asarray(rgb, dtype=np.uint8)
    return np.ascontiguousarray(arr[::-1])


def _image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return int(im.size[0]), int(im.size[1])


def _resize(img: NDArray[np.uint8], w: int, h: int) -> NDArray[np.uint8]:
    if img.shape[1] == w and img.shape[0] == h:
        return img
    from PIL import Image

    return np.asarray(Image.fromarray(img).resize((w, h), Image.Resampling.BOX), dtype=np.uint8)


# ---------------------------------------------------------------- packing
def pack_shelves(sizes: list[tuple[int, int]], page: int, align: int = 1) -> list[tuple[int, int, int]] | None:
    """Shelf-pack rectangles ``(w, h)`` into pages of ``page x page``.

    Returns ``(page_index, x, y)`` per rectangle (in input order), or None when one
    does not fit a page at all. Tallest first; a new shelf when a row is full, a new
    page when a shelf does not fit below. Positions are multiples of ``align``.
    """
    def up(v: int) -> int:
        return -(-v // align) * align

    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i][1], -sizes[i][0]))
    out: list[tuple[int, int, int]] = [(0, 0, 0)] * len(sizes)
    pg, x, y, shelf_h = 0, 0, 0, 0
    for i in order:
        w, h = sizes[i]
        if w > page or h > page:
            return None
        if x + w > page:  # next shelf
            x, y, shelf_h = 0, y + up(shelf_h), 0
        if y + h > page:  # next page
            pg, x, y, shelf_h = pg + 1, 0, 0, 0
        out[i] = (pg, x, y)
        x += up(w)
        shelf_h = max(shelf_h, h)
    return out


def _page_side(sizes: list[tuple[int, int]], max_size: int) -> int:
    """A page width: a power of two that holds the widest image and about the total area."""
    area = sum(w * h for w, h in sizes)
    widest = max(w for w, _ in sizes)
    side = 64
    while side < max_size and (side < widest or side * side < area * 1.15):
        side *= 2
    return min(side, max_size)


def build_texture_set(
    model: CityModel,
    max_size: int = 4096,
    max_pages: int = 2,
    pad: int = 8,
    tri_mask: NDArray[np.bool_] | None = None,
    threads: int = 2,
) -> TextureSet | None:
    """Read the images a model's triangles use and pack them for drawing.

    Parameters
    ----------
    model
        The city model (``polygons.texture``, per-corner ``polygons.uv``, ``textures``).
    max_size
        Largest atlas page side in texels (4096 works on every OpenGL 3.2 GPU and llvmpipe).
    max_pages
        Atlas pages allowed before all atlas images are scaled down together.
    pad
        Gutter in texels around every atlas image (replicated edge texels), also the
        alignment of image positions, so mipmap levels up to ``log2(pad)`` do not bleed.
    tri_mask
        Precomputed :func:`textured_triangle_mask` (optional).
    threads
        Images decoded in parallel (Pillow releases the GIL while decoding).

    Returns
    -------
    TextureSet or None
        None when no triangle can be textured (no extra work, no extra actor).
    """
    t0 = time.perf_counter()
    tmask = textured_triangle_mask(model) if tri_mask is None else tri_mask
    if not tmask.any():
        return None
    n = len(model.textures)
    used = np.zeros(n, dtype=bool)
    used[np.unique(model.polygons.texture[model.tri_poly[tmask]])] = True
    outside = _uv_outside(model, tmask)
    group_of = np.full(n, -1, dtype=np.int32)
    rect = np.tile(np.array([0.0, 0.0, 1.0, 1.0]), (n, 1))
    groups: list[TextureGroup] = []
    failed: list[int] = []

    def wrap_mode(k: int) -> str:
        return str(model.textures[k].get("wrapMode", "")).lower()

    repeat_ids = [k for k in np.flatnonzero(used).tolist() if outside[k] and wrap_mode(k) not in ("clamp", "border")]
    atlas_ids = [k for k in np.flatnonzero(used).tolist() if k not in set(repeat_ids)]

    # sizes first (headers only), to choose the atlas scale before decoding
    sizes: dict[int, tuple[int, int]] = {}
    for k in atlas_ids + repeat_ids:
        try:
            sizes[k] = _image_size(str(model.textures[k]["path"]))
        except Exception as exc:  # noqa: BLE001 - any unreadable image falls back to colours
            log.warning("texture %s unreadable: %s", model.textures[k].get("path"), exc)
            failed.append(k)
    atlas_ids = [k for k in atlas_ids if k in sizes]
    repeat_ids = [k for k in repeat_ids if k in sizes]

    scale = 1.0
    placement: list[tuple[int, int, int]] | None = None
    dims: dict[int, tuple[int, int]] = {}
    page_side = max_size
    if atlas_ids:
        inner = max_size - 2 * pad
        area = sum((sizes[k][0] + 2 * pad) * (sizes[k][1] + 2 * pad) for k in atlas_ids)
        budget = max_pages * max_size * max_size * 0.8
        scale = min(1.0, math.sqrt(budget / area)) if area > budget else 1.0
        for _ in range(40):
            dims = {}
            for k in atlas_ids:
                w, h = sizes[k]
                f = min(scale, inner / max(w, h))
                dims[k] = (max(1, round(w * f)), max(1, round(h * f)))
            padded = [(dims[k][0] + 2 * pad, dims[k][1] + 2 * pad) for k in atlas_ids]
            page_side = _page_side(padded, max_size)
            placement = pack_shelves(padded, page_side, align=pad)
            if placement is not None and max(p[0] for p in placement) < max_pages:
                break
            scale *= 0.85
        if scale < 1.0:
            log.info("texture atlas of %s scaled to %.0f %%", model.source, 100 * scale)

    def load(k: int) -> NDArray[np.uint8] | None:
        try:
            want = dims.get(k, sizes[k])
            img = _read_image(str(model.textures[k]["path"]), max(want) if k in dims else max_size)
            return _resize(img, *want) if k in dims else img
        except Exception as exc:  # noqa: BLE001
            log.warning("texture %s unreadable: %s", model.textures[k].get("path"), exc)
            return None

    ids = atlas_ids + repeat_ids
    if threads > 1 and len(ids) > 1:
        with ThreadPoolExecutor(max_workers=threads) as ex:
            images = dict(zip(ids, ex.map(load, ids), strict=True))
    else:
        images = {k: load(k) for k in ids}
    failed += [k for k in ids if images[k] is None]

    if atlas_ids and placement is not None:
        n_pages = max(p[0] for p in placement) + 1
        heights = [0] * n_pages
        for k, (pg, _x, y) in zip(atlas_ids, placement, strict=True):
            heights[pg] = max(heights[pg], y + dims[k][1] + 2 * pad)
        pages = [np.zeros((-(-h // 4) * 4, page_side, 3), dtype=np.uint8) for h in heights]
        base = len(groups)
        for pg in range(n_pages):
            groups.append(TextureGroup(pages[pg], repeat=False))
        for k, (pg, x, y) in zip(atlas_ids, placement, strict=True):
            img = images[k]
            if img is None:
                continue
            w, h = dims[k]
            page = pages[pg]
            page[y : y + h + 2 * pad, x : x + w + 2 * pad] = np.pad(img, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
            H, W = page.shape[:2]
            rect[k] = ((x + pad) / W, (y + pad) / H, w / W, h / H)
            group_of[k] = base + pg
            groups[base + pg].textures.append(k)
    for k in repeat_ids:
        img = images[k]
        if img is None:
            continue
        group_of[k] = len(groups)
        mirror = wrap_mode(k) == "mirror"
        if mirror:  # mirrored repeat = plain repeat of the 2 x 2 mirrored tile at half the UV
            row = np.concatenate([img, img[:, ::-1]], axis=1)
            img = np.ascontiguousarray(np.concatenate([row, row[::-1]], axis=0))
        groups.append(TextureGroup(img, repeat=True, mirror=mirror, textures=[k]))
    if failed:
        model.report.warn("unreadable-texture", f"{len(failed)} texture image(s) could not be read", n=len(failed))
    if not groups:
        return None
    return TextureSet(groups, group_of, rect, scale, time.perf_counter() - t0, failed)


# ---------------------------------------------------------------- geometry
def textured_polydata(model: CityModel, tri_index: NDArray[np.integer], texset: TextureSet) -> pv.PolyData:
    """The triangles ``tri_index`` (all drawn by ONE texture group) with texture coordinates.

    Points are the triangles' polygon corners (a corner belongs to one polygon, so one
    object and surface: per-point colours equal per-cell colours, as in
    :func:`~citytwin.render.polydata.city_polydata` with ``split_groups``). Point data
    ``uv`` (float32, the active texture coordinates) is remapped into the atlas page
    or, for a repeat image, the UV as it is; ``vertex`` the model vertex. Cell data as
    in ``city_polydata``: ``object``, ``semantic``, ``triangle``, ``flat``;
    ``pd._citytwin_point_cell`` gives per point one cell that uses it.
    """
    tri_index = np.asarray(tri_index, dtype=np.int64)
    corners = model.corners[tri_index].reshape(-1)
    p = model.polygons
    # the corners used, numbered in order: a mark and a running count (no sort)
    used = np.zeros(len(p.ring_idx), dtype=bool)
    used[corners] = True
    uniq = np.flatnonzero(used)
    number = np.cumsum(used, dtype=np.int64) - 1
    inv = number[corners].reshape(-1, 3)
    vertex = p.ring_idx[uniq].astype(np.int64)
    pd = triangles_polydata(model.vertices[vertex], inv)
    point_cell = np.empty(len(uniq), dtype=np.int64)
    point_cell[inv.reshape(-1)] = np.repeat(np.arange(len(tri_index)), 3)
    tex = p.texture[model.tri_poly[tri_index]][point_cell] if len(uniq) else np.zeros(0, np.int32)
    assert p.uv is not None
    uv = p.uv[uniq].astype(np.float64)
    grp = texset.group_of[tex] if len(tex) else np.zeros(0, np.int32)
    if len(grp) and (grp != grp[0]).any():
        raise ValueError("textured_polydata: the triangles belong to more than one texture group")
    group = texset.groups[int(grp[0])] if len(grp) else None
    if group is not None and not group.repeat:  # into the atlas page
        r = texset.rect[tex]
        np.clip(uv, 0.0, 1.0, out=uv)
        uv *= r[:, 2:]
        uv += r[:, :2]
    elif group is not None and group.mirror:  # the 2 x 2 mirrored tile
        uv *= 0.5
    from vtkmodules.util.numpy_support import numpy_to_vtk

    tc = numpy_to_vtk(np.ascontiguousarray(uv, dtype=np.float32).reshape(-1, 2), deep=True)
    tc.SetName("uv")
    pd.GetPointData().SetTCoords(tc)
    pd.point_data["vertex"] = vertex
    pd.cell_data["object"] = np.ascontiguousarray(model.tri_object[tri_index], dtype=np.int32)
    pd.cell_data["semantic"] = np.ascontiguousarray(model.tri_semantic[tri_index], dtype=np.uint8)
    pd.cell_data["triangle"] = tri_index.astype(np.int32)
    pd.cell_data["flat"] = flat_triangles(model, tri_index).astype(np.uint8)
    pd._citytwin_point_cell = point_cell  # type: ignore[attr-defined]
    return pd


def check_gl(render_window: Any) -> None:
    """Once per process, with a current context: no anisotropic filtering on software OpenGL."""
    if _GL["checked"]:
        return
    _GL["checked"] = True
    try:
        caps = str(render_window.ReportCapabilities() or "").lower()
    except Exception:  # noqa: BLE001 - no context: keep the default
        return
    if any(k in caps for k in _SOFTWARE_GL):
        _GL["anisotropy"] = 1.0
        for tex in list(_TEXTURES):
            tex.SetMaximumAnisotropicFiltering(1.0)
        log.info("software OpenGL: textures without anisotropic filtering")


def vtk_texture(group: TextureGroup, mipmap: bool = True, anisotropy: float = 8.0) -> Any:
    """A ``vtkTexture`` of a group's image (linear filtering, mipmaps, repeat only for tiling images)."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkRenderingCore import vtkTexture

    img = np.ascontiguousarray(group.image)
    h, w = img.shape[:2]
    data = vtkImageData()
    data.SetDimensions(w, h, 1)
    arr = numpy_to_vtk(img.reshape(-1, 3), deep=False)  # shares the group's image (kept alive by VTK's array)
    arr.SetName("rgb")
    data.GetPointData().SetScalars(arr)
    tex = vtkTexture()
    tex.SetInputData(data)
    tex.SetColorModeToDirectScalars()
    tex.InterpolateOn()
    tex.SetMipmap(bool(mipmap))
    tex.SetMaximumAnisotropicFiltering(float(min(anisotropy, _GL["anisotropy"])))
    _TEXTURES.add(tex)
    tex.SetRepeat(bool(group.repeat))
    tex.SetEdgeClamp(not group.repeat)
    return tex
