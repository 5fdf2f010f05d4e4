"""Colour sources as typed objects (model/colour_source.py): every kind's key round-trips through parse,
the keys are the strings scene files always had, malformed keys raise a clear error, and the registry lists
what a layer offers in the Colour-by menu's order. No Qt, no VTK (test_import_rule.py checks the module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from citytwin.model.colour_source import (
    AttributeColour,
    ColourSourceError,
    ColourSourceRegistry,
    SemanticColour,
    SensorColour,
    attribute_sources,
    default_registry,
    parse,
    parse_sensor_key,
    register_kind,
    sensor_key,
    sensor_sources,
)

EVERY_SOURCE = [
    SemanticColour(),
    AttributeColour("function"),
    AttributeColour("height"),
    AttributeColour("measuredHeight"),
    AttributeColour("storeys above ground"),
    AttributeColour("sensors"),  # an attribute called like the prefix, without its colon
    *[SensorColour(p, m, t) for p in ("no2", "pm2.5:raw", "température") for m in ("nearest", "idw")
      for t in ("buildings", "ground", "both")],
]


@pytest.mark.parametrize("source", EVERY_SOURCE, ids=lambda s: s.key())
def test_key_and_parse_round_trip(source: object) -> None:
    key = source.key()  # type: ignore[attr-defined]
    assert isinstance(key, str) and key
    assert parse(key) == source
    assert parse(key).key() == key
    assert type(parse(key)) is type(source)
    hash(source)  # frozen: usable as dict keys


def test_keys_are_the_strings_scene_files_have() -> None:
    assert SemanticColour().key() == "semantic"
    assert AttributeColour("function").key() == "function"
    assert SensorColour("no2", "idw").key() == "sensors:idw:no2"  # buildings: no target, as before ground colouring
    assert SensorColour("no2", "nearest", "buildings").key() == "sensors:nearest:no2"
    assert SensorColour("no2", "idw", "ground").key() == "sensors:idw/ground:no2"
    assert SensorColour("no2", "nearest", "both").key() == "sensors:nearest/both:no2"
    assert sensor_key("idw", "no2", "ground") == "sensors:idw/ground:no2"
    assert parse("sensors:idw/both:pm2.5:raw") == SensorColour("pm2.5:raw", "idw", "both")  # colons in the property
    assert parse("sensors:idw/buildings:no2") == SensorColour("no2", "idw", "buildings")  # explicit default target
    assert parse_sensor_key("sensors:idw:no2") == ("idw", "buildings", "no2")
    assert parse_sensor_key("sensors:nearest/ground:no2") == ("nearest", "ground", "no2")


@pytest.mark.parametrize("key, words", [
    ("sensors:idw", "names no property"),
    ("sensors:idw:", "names no property"),
    ("sensors:", "names no property"),
    ("sensors:kriging:no2", "method 'kriging'"),
    ("sensors::no2", "method ''"),
    ("sensors:idw/roofs:no2", "target 'roofs'"),
    ("sensors:idw/:no2", "empty target"),
    ("", "empty colour-by key"),
    (None, "is a string"),
    (3, "is a string"),
])
def test_malformed_keys_raise_a_clear_error(key: object, words: str) -> None:
    with pytest.raises(ColourSourceError) as err:
        parse(key)
    assert words in str(err.value)
    if isinstance(key, str) and key.startswith("sensors:"):
        assert repr(key) in str(err.value)  # the key is named
    assert parse_sensor_key(key) is None
    assert issubclass(ColourSourceError, ValueError)


def test_constructors_refuse_what_no_key_could_name() -> None:
    for bad in (lambda: SensorColour("no2", "kriging"), lambda: SensorColour("no2", "idw", "roofs"),
                lambda: SensorColour(""), lambda: AttributeColour("")):
        with pytest.raises(ColourSourceError):
            bad()


def test_labels_and_menu_paths_are_the_colour_by_menus() -> None:
    assert SemanticColour().label == "Semantic surface" and SemanticColour().menu_path == ((), "Semantic surface")
    assert AttributeColour("height").menu_path == (("Attributes",), "height")
    assert SensorColour("no2", "idw", "ground").label == "Sensors: IDW no2 · ground"
    assert SensorColour("no2", "nearest").label == "Sensors: nearest no2"
    assert SensorColour("no2", "idw", "both").label == "Sensors: IDW no2 · buildings + ground"
    assert SensorColour("no2", "idw", "ground").menu_path == (("Sensors", "no2", "IDW"), "Ground")
    assert SensorColour("t", "nearest").menu_path == (("Sensors", "t", "nearest"), "Buildings")
    assert SensorColour("t", "nearest", "both").menu_path[1] == "Buildings + ground"
    s = SensorColour("no2", "idw", "both")
    assert s.buildings and s.ground
    assert not SensorColour("no2", "idw", "ground").buildings and not SensorColour("no2").ground


class _Layer:
    kind = "city"

    def attribute_names(self) -> list[str]:
        return ["function", "height"]


def test_registry_lists_a_layers_sources_in_menu_order() -> None:
    reg = default_registry()
    lay = _Layer()
    assert [s.key() for s in reg.sources(lay)] == ["semantic", "function", "height"]
    reg.register("sensors", lambda layer: sensor_sources(["no2"]) if layer.kind == "city" else [])
    keys = [s.key() for s in reg.sources(lay)]
    assert keys[:3] == ["semantic", "function", "height"]
    assert keys[3:] == ["sensors:nearest:no2", "sensors:nearest/ground:no2", "sensors:nearest/both:no2",
                        "sensors:idw:no2", "sensors:idw/ground:no2", "sensors:idw/both:no2"]
    assert reg.find(lay, "sensors:idw/ground:no2") == SensorColour("no2", "idw", "ground")
    assert reg.find(lay, "sensors:idw:pm10") is None
    assert reg.names() == ["semantic", "attributes", "sensors"]
    reg.unregister("sensors")
    assert len(reg.sources(lay)) == 3
    assert attribute_sources(object()) == []  # a layer without attributes
    assert ColourSourceRegistry().sources(lay) == []


def test_a_new_kind_joins_parse() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class SimColour:
        run: str

        def key(self) -> str:
            return f"simtest:{self.run}"

    register_kind("simtest:", lambda key: SimColour(key.split(":", 1)[1]))
    assert parse("simtest:flood") == SimColour("flood")
    assert parse("simtest") == AttributeColour("simtest")
    with pytest.raises(ValueError):
        register_kind("semantic", lambda key: None)


def test_scene_files_keep_their_colour_keys(tmp_path: Path) -> None:
    from citytwin.model.scenefile import Dataset, SceneFile, read_scene, write_scene

    keys = [s.key() for s in EVERY_SOURCE]
    sf = SceneFile(datasets=[Dataset(path=tmp_path / f"d{k}.json", color_by=key) for k, key in enumerate(keys)])
    p = write_scene(sf, tmp_path / "s.toml")
    back = read_scene(p)
    assert [d.color_by for d in back.datasets] == keys
    assert [parse(d.color_by) for d in back.datasets] == EVERY_SOURCE
    # a version-1 scene file as written before the colour sources were typed opens unchanged
    old = tmp_path / "old.toml"
    old.write_text('version = 1\ncolor_by = "semantic"\n\n[[datasets]]\npath = "a.json"\n'
                   'color_by = "sensors:idw:no2"\n\n[[datasets]]\npath = "b.json"\ncolor_by = "function"\n',
                   encoding="utf-8")
    sf = read_scene(old)
    assert [parse(d.color_by) for d in sf.datasets] == [SensorColour("no2", "idw"), AttributeColour("function")]
    assert 'color_by = "sensors:idw:no2"' in (write_scene(sf, tmp_path / "again.toml")).read_text(encoding="utf-8")
