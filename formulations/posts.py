"""Posts and vacancies (SPEC §2.11).

Units have funded posts per group; staff in post may not exceed them, so that a
plan fills vacancies where they are instead of piling national recruits into
the unit with the lowest leaver rate. For every unit u, group g and plan year y
where the pair has posts (``ModelData.posts``)::

    n[u,g,b] = S[u,g,b],   n[u,g,y] = (1 − λ[u,g])·n[u,g,y−1] + J[u,g]   natural path
    S[u,g,y] ≤ max(posts[u,g,y], n[u,g,y])                             posts_cap[u,g,y]
    vacancies[u,g,y] = max(0, posts[u,g,y] − S[u,g,y])            (reported, no variable)

The ``max`` with the natural path keeps the plan with every lever at zero
feasible: a unit already above its posts keeps its staff and no lever adds to
it. Graduates that no unit in scope has room for are unplaced (``UP`` in
:mod:`formulations.training`).
"""

from __future__ import annotations

import pyomo.environ as pyo

from formulations.data import ModelData


def define_posts(m: pyo.ConcreteModel, d: ModelData) -> None:
    index = [(u, g, y) for u in d.units for g in d.groups for y in d.years
             if (u, g, y) in d.posts]
    m.posts_cap = pyo.Constraint(
        index, rule=lambda m, u, g, y: m.S[u, g, y] <= d.posts_cap(u, g, y))


def vacancies(d: ModelData, u: str, g: str, y: int, fte: float) -> float | None:
    """max(0, posts − staff in post), or None where the pair has no posts."""
    posts = d.posts.get((u, g, y))
    return None if posts is None else max(0.0, posts - fte)
