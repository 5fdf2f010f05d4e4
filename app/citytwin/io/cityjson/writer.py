"""Placeholder, replaced below."""

from __future__ import annotations


def write_cityjson(model, path, lod="all"):  # noqa: ANN001
    raise NotImplementedError
