"""Kafka plumbing: broker and producer factories, topic provisioning, batch consumption with
deduplication and dead-lettering."""
