"""City object attributes: standard, generic (1.0/2.0 and 3.0), address, ADE leaves."""

from __future__ import annotations

from typing import Any

from .names import FLOAT_ATTRS, FLOAT_LIST_ATTRS, GENERIC_KINDS, INT_ATTRS, LN, is_gml


def convert(name: str, text: str) -> Any:
    """Typed value of a standard attribute (int/float where the schema says so)."""
    text = text.strip()
    try:
        if name in INT_ATTRS:
            return int(float(text))
        if name in FLOAT_ATTRS:
            return float(text)
        if name in FLOAT_LIST_ATTRS:
            return [float(t) for t in text.split()]
    except ValueError:
        pass
    return text


def put(attrs: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key``; a repeated key (``function``, ...) becomes a list."""
    old = attrs.get(key)
    if old is None:
        attrs[key] = value
    elif isinstance(old, list) and key not in FLOAT_LIST_ATTRS:
        old.append(value)
    else:
        attrs[key] = [old, value]


def simple(attrs: dict[str, Any], name: str, el: Any) -> None:
    """A simple attribute element with text (and maybe ``uom``)."""
    text = el.text
    if text is None or not text.strip():
        return
    put(attrs, name, convert(name, text))
    uom = el.get("uom")
    if uom is not None:
        attrs[f"{name}_uom"] = uom


def _typed(kind: str, text: str) -> Any:
    conv = GENERIC_KINDS.get(kind, str)
    try:
        return conv(text.strip()) if conv is not str else text.strip()
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text.strip()


def generic(el: Any, attrs: dict[str, Any]) -> None:
    """One 1.0/2.0 (``gen:stringAttribute name=..``) or 3.0 (``gen:StringAttribute``) attribute."""
    ln = LN[el.tag]
    kind = ln.lower()
    name = el.get("name")
    value_el = None
    members = []
    for ch in el:
        cn = LN[ch.tag]
        if cn == "name" and name is None:
            name = (ch.text or "").strip()
        elif cn == "value":
            if len(ch):  # 3.0 GenericAttributeSet: value wraps attributes
                members.extend(ch)
            else:
                value_el = ch
        elif cn.lower() in GENERIC_KINDS or cn.lower() == "genericattributeset":
            members.append(ch)
        elif cn == "genericAttribute":
            members.extend(ch)
    if not name:
        return
    if kind == "genericattributeset":
        sub: dict[str, Any] = {}
        for m in members:
            if isinstance(m.tag, str):
                generic(m, sub)
        attrs[name] = sub
        return
    if value_el is None or value_el.text is None:
        return
    attrs[name] = _typed(kind, value_el.text)
    uom = value_el.get("uom") or el.get("uom")
    if uom is not None:
        attrs[f"{name}_uom"] = uom


def leaves(el: Any, attrs: dict[str, Any], skip_gml: bool = True) -> None:
    """Leaf elements with text under ``el`` (ADE / unknown properties), by local name."""
    for leaf in el.iter():
        if len(leaf) or leaf.text is None:
            continue
        tag = leaf.tag
        if not isinstance(tag, str) or (skip_gml and is_gml(tag)):
            continue
        t = leaf.text.strip()
        if t:
            put(attrs, LN[tag], t)


def address(el: Any) -> str:
    """An address as one flat string: its text leaves in document order."""
    parts = []
    for leaf in el.iter():
        tag = leaf.tag
        if not isinstance(tag, str) or is_gml(tag) or len(leaf) or leaf.text is None:
            continue
        t = leaf.text.strip()
        if t:
            parts.append(t)
    return ", ".join(parts)


def height3(el: Any, attrs: dict[str, Any]) -> None:
    """CityGML 3.0 ``con:height/con:Height`` -> ``height`` (float, first one) + references."""
    for h in el:
        if not isinstance(h.tag, str):
            continue
        vals = {LN[c.tag]: c for c in h if isinstance(c.tag, str)}
        v = vals.get("value")
        if v is None or v.text is None or "height" in attrs:
            continue
        try:
            attrs["height"] = float(v.text)
        except ValueError:
            continue
        if v.get("uom"):
            attrs["height_uom"] = v.get("uom")
        for ref in ("highReference", "lowReference", "status"):
            r = vals.get(ref)
            if r is not None and r.text:
                attrs[f"height_{ref}"] = r.text.strip()
