"""Where the compiled model's columns and rows live in the Pyomo model, kept
without the model.

A large model is freed while HiGHS solves it and built again for the plan to
be read back (:meth:`optimiser.engine.highs_model.HighsModel.release`): on the
generated 500-trust plan the Pyomo model and its compile held about 800 MiB
of the process's 2.3 GiB peak, all of it idle while HiGHS searched. The build
is deterministic (the same data gives the same components, indexed in the same
order), so a column is addressed by its component and its position in that
component's order, and found again in the rebuilt model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.componentuid import ComponentUID


@dataclass(frozen=True)
class Addresses:
    """Items of a model (variables or constraints), each by component and position."""

    components: list[ComponentUID]
    """The components the items belong to, in order of first appearance."""
    sizes: list[int]
    """How many data objects each component had (checked on the rebuilt model)."""
    component: np.ndarray
    """Per item, its component's place in :attr:`components`."""
    position: np.ndarray
    """Per item, its place in its component's own order."""


def addresses(items: Sequence[pyo.Var | pyo.Constraint]) -> Addresses:
    """The addresses of ``items`` (component data objects; an item may repeat)."""
    first: dict[int, int] = {}
    components: list[ComponentUID] = []
    sizes: list[int] = []
    positions: list[dict[int, int]] = []
    component = np.empty(len(items), dtype=np.int32)
    position = np.empty(len(items), dtype=np.int32)
    for i, item in enumerate(items):
        parent = item.parent_component()
        k = first.get(id(parent))
        if k is None:
            k = first[id(parent)] = len(components)
            components.append(ComponentUID(parent))
            order = {id(data): p for p, data in enumerate(parent.values())}
            positions.append(order)
            sizes.append(len(order))
        component[i] = k
        position[i] = positions[k][id(item)]
    return Addresses(components, sizes, component, position)


def resolve(m: pyo.Block, a: Addresses) -> list:
    """The items at ``a`` in the model ``m``, built again from the same data.

    Raises RuntimeError when ``m`` is not the model the addresses were taken
    from (a component missing or of another size): an engine fault, never the
    user's."""
    data: list[list] = []
    for cuid, size in zip(a.components, a.sizes, strict=True):
        found = cuid.find_component_on(m)
        values = [] if found is None else list(found.values())
        if len(values) != size:
            raise RuntimeError(f"the rebuilt model differs from the one handed to HiGHS: "
                               f"{cuid} has {len(values)} items, had {size}")
        data.append(values)
    return [data[k][p] for k, p in zip(a.component.tolist(), a.position.tolist(), strict=True)]
