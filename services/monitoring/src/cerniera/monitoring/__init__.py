"""Cerniera monitoring service."""
