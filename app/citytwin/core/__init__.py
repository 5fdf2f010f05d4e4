"""Pure helpers shared by every layer: errors, geometry, CRS. No Qt, no VTK."""
