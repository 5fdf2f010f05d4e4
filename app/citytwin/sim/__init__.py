"""Analyses of the city: arrays in, arrays out; no Qt, no VTK.

- :mod:`.sun`: the sun's position for a place and many instants.
- :mod:`.place`: where a scene is on Earth, its time zone, and times read in it.
"""
