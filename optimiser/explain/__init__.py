"""Explaining a plan: marginal values, why the shortfall remains, and the words
of conflicts."""
