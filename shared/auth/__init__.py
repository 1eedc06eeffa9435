"""HTTP authentication: JWT bearer tokens verified against the OIDC issuer's JWKS, principals from the directory."""

from shared.auth.deps import Auth, forbidden, require_customer, unauthorized
from shared.auth.principal import Principal, Principals

__all__ = ["Auth", "Principal", "Principals", "forbidden", "require_customer", "unauthorized"]
