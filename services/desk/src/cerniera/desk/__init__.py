"""Cerniera desk: the district team's screens and the providers' portal."""
