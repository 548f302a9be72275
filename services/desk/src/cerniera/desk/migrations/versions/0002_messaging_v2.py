"""desk: messaging tables v2 (parked outbox rows, inbox digest, parked cases and events)."""

from cerniera.shared.persistence.migrations import messaging_v2

revision, down_revision, upgrade, downgrade = messaging_v2("0002", after="0001")
