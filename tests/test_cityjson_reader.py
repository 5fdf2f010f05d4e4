"""CityJSON / CityJSONSeq reader on every real file in shared/data, checked against
independent counts made with the standard ``json`` module."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from citytwin.io.cityjson import read_cityjson, read_cityjsonseq
from citytwin.model.semantics import SEMANTICS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CJ = DATA / "cityjson"

FILES = sorted(p.relative_to(CJ).as_posix() for p in CJ.rglob("*.city.json*")) if CJ.is_dir() else []


def _docs(path: Path) -> tuple[dict, list[dict]]:
    """(header, documents): a CityJSON file is its own single document."""
    if path.name.endswith(".jsonl"):
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return lines[0], lines[1:]
    doc = json.loads(path.read_text())
    return doc, [doc]


def _independent(path: Path) -> dict:
    header, docs = _docs(path)
    types: Counter[str] = Counter()
    ids: list[str] = []
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    tr = header.get("transform")
    for d in docs:
        for oid, o in d["CityObjects"].items():
            types[o["type"]] += 1
            ids.append(oid)
        v = np.asarray(d["vertices"], dtype=float).reshape(-1, 3)
        if tr:
            v = v * tr["scale"] + tr["translate"]
        if len(v):
            lo = np.minimum(lo, v.min(0))
            hi = np.maximum(hi, v.max(0))
    return {"types": dict(types), "ids": ids, "lo": lo, "hi": hi, "header": header, "docs": docs}


def _read(path: Path):
    return read_cityjsonseq(path) if path.name.endswith(".jsonl") else read_cityjson(path)


@pytest.fixture(scope="module")
def models():
    if not CJ.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    return {name: _read(CJ / name) for name in FILES}


def test_all_files_found():
    if not CJ.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    assert len(FILES) == 9


@pytest.mark.parametrize("name", FILES)
def test_file_loads_with_independent_counts(models, name):
    path = CJ / name
    ref = _independent(path)
    m = models[name]
    assert m.counts_by_type() == dict(sorted(ref["types"].items()))
    assert sorted(m.objects.ids) == sorted(ref["ids"])
    assert m.n_triangles > 0
    assert m.crs is not None
    bb = m.bbox()
    tol = 0.01
    assert (bb[0] >= ref["lo"] - tol).all() and (bb[1] <= ref["hi"] + tol).all(), (bb, ref["lo"], ref["hi"])
    # the geometry spans most of the area (not a few stray vertices)
    span = ref["hi"][:2] - ref["lo"][:2]
    assert ((bb[1, :2] - bb[0, :2]) >= 0.5 * span).all()
    assert m.report.skipped_objects == 0


@pytest.mark.parametrize("name", FILES)
def test_lods_and_parents_match_json(models, name):
    ref = _independent(CJ / name)
    m = models[name]
    lods = set()
    n_parents = 0
    for d in ref["docs"]:
        for o in d["CityObjects"].values():
            for g in o.get("geometry", []):
                lods.add(float(g["lod"]))
            n_parents += bool(o.get("parents"))
    assert set(m.lods()) == lods
    assert int((m.objects.parents >= 0).sum()) == n_parents


def test_3dbag_tile_lods_and_mask(models):
    name = "3dbag/tile_901_trimmed.city.jsonl"
    m = models[name]
    assert m.lods() == [0.0, 1.2, 1.3, 2.2]
    # independent count of LoD 1.2 surfaces
    n12 = 0
    for d in _independent(CJ / name)["docs"]:
        for o in d["CityObjects"].values():
            for g in o.get("geometry", []):
                if str(g["lod"]) == "1.2":
                    n12 += sum(len(shell) for shell in g["boundaries"])
    mask = m.lod_polygon_mask(1.2)
    assert int(mask.sum()) == n12
    assert (m.polygons.lod[mask] == 12).all()
    # each building has a LoD0 footprint on the Building and LoD1.2/1.3/2.2 on its part
    b = m.objects.index["NL.IMBAG.Pand.0503100000000334"]
    part = m.objects.index["NL.IMBAG.Pand.0503100000000334-0"]
    assert m.objects.parent(part) == b
    assert set(m.polygons.lod[m.polygons.object == b].tolist()) == {0}
    assert set(m.polygons.lod[m.polygons.object == part].tolist()) == {12, 13, 22}
    # semantics from the solids
    sem = m.polygons.semantic[m.polygons.object == part]
    assert {SEMANTICS[s] for s in sem.tolist()} == {"GroundSurface", "RoofSurface", "WallSurface"}


def test_delft_three_versions_agree(models):
    a = models["delft/delft_v1.0.city.json"]
    b = models["delft/delft_v1.1.city.json"]
    c = models["delft/delft_v2.0.city.json"]
    assert a.version == "1.0" and b.version == "1.1" and c.version == "2.0"
    assert a.objects.ids == b.objects.ids == c.objects.ids
    # 1.0/2.0 GenericCityObject, the 1.1 extension type kept as given
    assert a.counts_by_type()["GenericCityObject"] == 54
    assert b.counts_by_type()["+GenericCityObject"] == 54
    areas = [m.total_area(1) for m in (a, b, c)]
    assert areas[0] == pytest.approx(areas[1], rel=1e-6) == pytest.approx(areas[2], rel=1e-6)
    # plain float vertices (1.0) give the same world coordinates as quantised ones
    assert np.allclose(a.bbox(), c.bbox(), atol=2e-3)
    assert b.metadata["extensions"]


def test_denhaag_materials_semantics_tin(models):
    m = models["denhaag/DenHaag_01_v1.0.city.json"]
    doc = json.loads((CJ / "denhaag/DenHaag_01_v1.0.city.json").read_text())
    assert len(m.materials) == len(doc["appearance"]["materials"]) == 5970
    # materials of the (only) theme, per surface
    n_mat = 0
    sem = Counter()
    for o in doc["CityObjects"].values():
        for g in o.get("geometry", []):
            if "material" in g:
                th = next(iter(g["material"].values()))
                n_mat += sum(v is not None for shell in th["values"] for v in shell)
            if "semantics" in g:
                s = g["semantics"]
                for shell in s["values"]:
                    for v in shell:
                        sem[s["surfaces"][v]["type"]] += 1
    assert int((m.polygons.material >= 0).sum()) == n_mat
    got = Counter(SEMANTICS[s] for s in m.polygons.semantic.tolist())
    for k, n in sem.items():
        assert got[k] == n
    tin = m.objects.index[next(k for k, o in doc["CityObjects"].items() if o["type"] == "TINRelief")]
    assert int((m.polygons.object == tin).sum()) == 5595
    assert got["Terrain"] == 5595


def test_rotterdam_partial_textures(models):
    m = models["rotterdam-textured/rotterdam_one_v1.1.city.json"]
    assert len(m.textures) == 6
    assert sum(t["found"] for t in m.textures) == 1
    assert m.report.counts["missing-texture"] == 5
    assert m.polygons.uv is not None
    tex = m.polygons.texture
    assert (tex >= 0).sum() == 13 and (tex == -1).sum() == 1
    assert np.isfinite(m.tri_uv).all(axis=(1, 2)).sum() > 0
    uv = m.polygons.uv[np.isfinite(m.polygons.uv[:, 0])]
    assert ((uv >= 0) & (uv <= 1)).all()


def test_seq_and_json_of_same_data_agree(models):
    a = models["3dbag/3dbag_b2.city.json"]
    b = models["3dbag/3dbag_b2.city.jsonl"]
    assert sorted(a.objects.ids) == sorted(b.objects.ids)
    assert a.total_area(2.2) == pytest.approx(b.total_area(2.2), rel=1e-9)
    assert np.allclose(a.bbox(), b.bbox())


def test_denhaag_ids_match_citygml_twin(models):
    citygml = pytest.importorskip("citytwin.io.citygml")
    if not hasattr(citygml, "read_citygml"):
        pytest.skip("CityGML reader not available yet")
    gml = citygml.read_citygml(DATA / "citygml/denhaag/DenHaag_01.gml.gz")
    cj = models["denhaag/DenHaag_01_v1.0.city.json"]

    def ids(m, t):
        return {i for i, ty in zip(m.objects.ids, m.objects.types) if ty == t}

    assert len(ids(cj, "Building")) == 844 and len(ids(cj, "BuildingPart")) == 1653
    assert ids(gml, "Building") == ids(cj, "Building")
    assert ids(gml, "BuildingPart") == ids(cj, "BuildingPart")
