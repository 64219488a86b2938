"""Sweeps: a grid of overrides solved point by point, locally or on Dask."""
