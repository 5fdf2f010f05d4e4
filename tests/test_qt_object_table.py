"""The Objects table model: lazy over 100k objects, sorted and filtered on whole columns."""

from __future__ import annotations

import numpy as np
import pytest

PySide6 = pytest.importorskip("PySide6")
from PySide6.QtCore import QModelIndex, Qt  # noqa: E402

from citytwin.model.builder import CityModelBuilder  # noqa: E402
from citytwin.qt.layers import Layer  # noqa: E402
from citytwin.qt.object_table import QtObjectTableModel  # noqa: E402

N = 100_000
FUNCTIONS = ("residential", "office", "school", "shop")


@pytest.fixture(scope="module")
def big_model():  # noqa: ANN201
    """N square footprints (one triangle pair each) with attributes."""
    b = CityModelBuilder("synthetic", "test")
    rng = np.random.default_rng(7)
    heights = np.round(rng.uniform(3, 60, N), 2)
    for i in range(N):
        b.add_object(f"b{i:06d}", "Building",
                     {"function": FUNCTIONS[i % 4], "measuredHeight": float(heights[i]), "storeys": int(i % 9)})
    xs = (np.arange(N) % 300) * 20.0
    ys = (np.arange(N) // 300) * 20.0
    corners = np.stack([np.stack([xs, ys], 1), np.stack([xs + 10, ys], 1),
                        np.stack([xs + 10, ys + 10], 1), np.stack([xs, ys + 10], 1)], axis=1)
    z = np.repeat(heights[:, None], 4, axis=1)[..., None]
    b.add_vertices(np.concatenate([corners, z], axis=2).reshape(-1, 3))
    b.add_polygons(np.arange(N), np.arange(4 * N), np.full(N, 4), np.ones(N), semantic=1, lod=1)
    return b.build(), heights


@pytest.fixture
def table(qtbot, big_model):  # noqa: ANN001, ANN201
    from citytwin.app import qt_application

    qt_application()
    model, heights = big_model
    layer = Layer("big", "synthetic", model, visual=None)
    t = QtObjectTableModel()
    t.set_layers([layer])
    yield t, layer, heights
    t.deleteLater()


def test_rows_columns_and_lazy_cells(table) -> None:  # noqa: ANN001
    t, layer, heights = table
    assert t.rowCount() == N
    assert t.rowCount(t.index(0, 0)) == 0  # a table, not a tree
    cols = t.columns
    assert cols[:5] == ["Layer", "ID", "Type", "Parent", "Height"]
    assert {"function", "measuredHeight", "storeys"} <= set(cols)
    i = 76_543
    assert t.data(t.index(i, cols.index("ID"))) == f"b{i:06d}"
    assert t.data(t.index(i, cols.index("function"))) == FUNCTIONS[i % 4]
    assert t.data(t.index(i, cols.index("Height"))) == f"{heights[i]:.2f}"
    assert t.data(QModelIndex()) is None
    assert t.headerData(1, Qt.Orientation.Horizontal) == "ID"


def test_sort_by_numeric_and_text_columns(table) -> None:  # noqa: ANN001
    t, layer, heights = table
    h = t.columns.index("measuredHeight")
    t.sort(h, Qt.SortOrder.DescendingOrder)
    top = [float(t.data(t.index(r, h))) for r in range(5)]
    assert top == sorted(heights, reverse=True)[:5]
    idc = t.columns.index("ID")
    t.sort(idc, Qt.SortOrder.AscendingOrder)
    assert t.data(t.index(0, idc)) == "b000000"
    assert t.data(t.index(N - 1, idc)) == f"b{N - 1:06d}"


def test_filter_with_query_expressions(table) -> None:  # noqa: ANN001
    t, layer, heights = table
    assert t.set_filter('function == "school" and measuredHeight > 30')
    expected = {f"b{i:06d}" for i in range(N) if i % 4 == 2 and heights[i] > 30}
    idc = t.columns.index("ID")
    got = {t.data(t.index(r, idc)) for r in range(t.rowCount())}
    assert got == expected
    first = int(sorted(expected)[0][1:])
    assert t.data(t.index(t.row_of(layer, first), idc)) == f"b{first:06d}"
    assert t.row_of(layer, 1) == -1  # b000001 is an office
    assert not t.set_filter("storeys >")  # a syntax error keeps the rows
    assert t.filter_error and t.rowCount() == len(expected)
    assert t.set_filter("")
    assert t.rowCount() == N
