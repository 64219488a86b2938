"""Reports: the HTML report and its charts, the sweep frontier, and comparing plans."""
