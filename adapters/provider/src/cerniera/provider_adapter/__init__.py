"""Reference provider adapter."""
