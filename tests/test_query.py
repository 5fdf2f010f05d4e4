from __future__ import annotations

import numpy as np
import pytest

from citytwin.model import CityModelBuilder
from citytwin.model.query import QueryError, evaluate


def _model():
    b = CityModelBuilder("mem", "test")
    specs = [
        ("a", {"function": "residential", "measuredHeight": 25.0, "yearOfConstruction": 1930}),
        ("b", {"function": "residential", "measuredHeight": 12.0, "yearOfConstruction": "1990"}),
        ("c", {"function": "office", "measuredHeight": {"value": 40.0, "uom": "m"}}),
        ("d", {}),
    ]
    for k, (oid, attrs) in enumerate(specs):
        o = b.add_object(oid, "Building", attrs)
        sq = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float) + [k * 3, 0, 0]
        b.add_polygon(o, [sq], lod=1)
    return b.build()


@pytest.mark.parametrize(
    "expr, expected",
    [
        ('function == "residential" and height > 20', ["a"]),
        ("height > 20", ["a", "c"]),
        ("yearOfConstruction < 1950", ["a"]),
        ("yearOfConstruction >= 1950", ["b"]),
        ('function in ["office", "school"]', ["c"]),
        ('not (function == "residential")', ["c", "d"]),
        ('function != "office"', ["a", "b", "d"]),
        ('type == "Building" and id != "d"', ["a", "b", "c"]),
        ("", ["a", "b", "c", "d"]),
        ("10 < height < 30", ["a", "b"]),
    ],
)
def test_filters(expr: str, expected: list[str]) -> None:
    m = _model()
    mask = evaluate(m, expr)
    assert [m.objects.ids[i] for i in np.nonzero(mask)[0]] == expected


@pytest.mark.parametrize("expr", ["__import__('os')", "height >", "open('x')", "height"])
def test_rejects_code_and_bad_syntax(expr: str) -> None:
    with pytest.raises(QueryError):
        evaluate(_model(), expr)


@pytest.mark.parametrize(
    "expr, column, token",
    [
        ("height >> 20 and", 8, "'>>'"),
        ("height > 20 and", 13, "'and'"),
        ("height = 3", 8, "'='"),
        ('function == "residential', 13, "not closed"),
        ("(height > 2", 1, "'('"),
        ("height > 2 and (x < 3))", 23, "')'"),
        ("a b", 3, "'b'"),
        ("height ** 2 > 3", 8, "'**'"),
        ("height is 3", 8, "'is'"),
        ("id.upper() == 'A'", 3, "'.'"),
        ("height > 20 or open('x')", 16, "open('x')"),
        ("  height >> 1", 10, "'>>'"),  # columns count in the text as typed
    ],
)
def test_syntax_error_names_the_real_column(expr: str, column: int, token: str) -> None:
    with pytest.raises(QueryError) as info:
        evaluate(_model(), expr)
    msg = str(info.value)
    assert f"column {column}:" in msg, msg
    assert token in msg, msg
