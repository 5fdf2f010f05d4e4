"""Analyses of the city: arrays in, arrays out; no Qt, no VTK.

- :mod:`.sun`: the sun's position for a place and many instants.
- :mod:`.place`: where a scene is on Earth, its time zone, and times read in it.
- :mod:`.terrain`: height grids from a model's TIN or from lidar points.
- :mod:`.flood`: water levels on a height grid (bathtub or connected) and the buildings they reach.
"""
