"""desk: the append-only audit log of accesses to personal data."""

from cerniera.shared.access.audit import audit_log_v1

revision, down_revision, upgrade, downgrade = audit_log_v1("0003", after="0002")
