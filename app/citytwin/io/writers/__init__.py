"""Mesh writers: a :class:`CityModel` to OBJ + MTL or to binary glTF (GLB).

Both export the triangles of one LoD (``lod="best"``: each object's highest LoD),
coloured per semantic surface class, with object ids kept (OBJ ``o`` lines, glTF node
names / extras). No Qt, no VTK.
"""

from __future__ import annotations

from .glb import write_glb
from .obj import write_obj

__all__ = ["write_glb", "write_obj"]
