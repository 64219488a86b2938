"""The results: the plan as tables, the summary, and writing them atomically."""
