"""Identity and access: roles and what each may do (``roles``), bearer tokens verified against
the OpenID Connect issuer (``tokens``), the route dependency and the OpenAPI declaration
(``web``), and the append-only audit log (``audit``)."""

from cerniera.shared.access.roles import GRANTS, Action, Principal, Role, allowed_roles

__all__ = ["GRANTS", "Action", "Principal", "Role", "allowed_roles"]
