"""Persistence helpers: one PostgreSQL schema per service, a transactional outbox and an inbox."""
