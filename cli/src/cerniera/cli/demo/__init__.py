"""``cerniera demo``: a realistic district month, time accelerated, ending with a report."""
