"""Cerniera billing service."""
