"""The engine: the model handed to HiGHS, the solve stages, warm starts, and the
stochastic plan's extensive form (``solve``, ``solve_scenarios``)."""
