"""The embedded identity provider (development, demo, tests) and the token client."""
