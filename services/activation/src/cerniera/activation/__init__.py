"""Cerniera activation service."""
