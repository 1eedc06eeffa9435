"""A development OIDC issuer: one ES256 key pair, its JWKS, and tokens for people of the directory.

`make run` starts it beside the stack (services get OIDC_ISSUER, OIDC_JWKS_URL, OIDC_AUDIENCE);
`make token WHO=mary` mints with the same key file; tests start one on a free port. Never for production:
it mints a token for anyone it is asked about.

    python deploy/local/oidc_issuer.py token mary [--dir .local/stack/oidc] [--ttl 3600]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / ".local" / "stack" / "oidc"
AUDIENCE = "case-backbone"
KEY_FILE, CONFIG_FILE = "signing-key.pem", "issuer.json"


def _load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the signing key: owner only
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return key


class Issuer:
    """The key pair (kept in `key_dir`), the JWKS, minting, and a small HTTP server for the well-known URLs."""

    def __init__(self, key_dir: Path = DEFAULT_DIR, audience: str = AUDIENCE) -> None:
        self.key_dir, self.audience = Path(key_dir), audience
        self.key = _load_or_create_key(self.key_dir / KEY_FILE)
        public = json.loads(ECAlgorithm.to_jwk(self.key.public_key()))
        # RFC 7638 thumbprint: the kid changes exactly when the key does.
        canonical = json.dumps({k: public[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
        self.kid = jwt.utils.base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()
        self.public_jwk = {**public, "kid": self.kid, "alg": "ES256", "use": "sig"}
        self.url: str | None = None
        self._server: ThreadingHTTPServer | None = None

    def jwks(self) -> dict[str, Any]:
        """The public key set."""
        return {"keys": [self.public_jwk]}

    @property
    def issuer(self) -> str:
        """The `iss` of every token: the issuer's base URL (saved by `start`, read back by `make token`)."""
        if self.url:
            return self.url
        config = self.key_dir / CONFIG_FILE
        if not config.exists():
            raise RuntimeError(f"no running issuer recorded in {config}: start the stack first (make run)")
        return json.loads(config.read_text())["issuer"]

    @property
    def env(self) -> dict[str, str]:
        """What a service needs to accept this issuer's tokens."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_JWKS_URL": f"{self.issuer}/.well-known/jwks.json",
                "OIDC_AUDIENCE": self.audience}

    def mint(self, subject: str, ttl_seconds: int = 3600, *, check: bool = True, **claims: Any) -> str:
        """A signed token for `subject` (a person id of the directory unless `check` is False); `claims` override."""
        if check:
            from shared.directory import load_directory  # the scripts folder is not a package; import late

            if load_directory().get(subject) is None:
                raise ValueError(f"{subject!r} is not in the people directory")
        now = int(time.time())
        body = {"iss": self.issuer, "aud": self.audience, "sub": subject, "iat": now, "nbf": now,
                "exp": now + ttl_seconds, "jti": uuid.uuid4().hex, **claims}
        return jwt.encode(body, self.key, algorithm="ES256", headers={"kid": self.kid})

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Issuer:
        """Serve the well-known URLs (and POST /token) on a thread; records the issuer URL in `key_dir`."""
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self.url = f"http://{host}:{self._server.server_address[1]}"
        (self.key_dir / CONFIG_FILE).write_text(json.dumps({"issuer": self.url, "audience": self.audience}))
        threading.Thread(target=self._server.serve_forever, name="oidc-issuer", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, body: Any, status: int = 200) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/.well-known/jwks.json":
                self._json(issuer.jwks())
            elif self.path == "/.well-known/openid-configuration":
                self._json({"issuer": issuer.issuer, "jwks_uri": f"{issuer.issuer}/.well-known/jwks.json",
                            "token_endpoint": f"{issuer.issuer}/token", "id_token_signing_alg_values_supported": ["ES256"],
                            "subject_types_supported": ["public"], "response_types_supported": ["token"]})
            else:
                self._json({"error": "not found"}, 404)

        def do_POST(self) -> None:  # noqa: N802
            """POST /token with form field `sub`: a token for that person (development only)."""
            length = min(int(self.headers.get("content-length") or 0), 4096)
            subject = (parse_qs(self.rfile.read(length).decode(errors="replace")).get("sub") or [""])[0]
            if self.path != "/token":
                self._json({"error": "not found"}, 404)
                return
            try:
                self._json({"access_token": issuer.mint(subject), "token_type": "Bearer", "expires_in": 3600})
            except ValueError as exc:
                self._json({"error": str(exc)}, 400)

        def log_message(self, *_: Any) -> None:  # quiet: the stack's console is for the services
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    """`token WHO`: print a bearer token for a person of the directory, signed with the stack's key."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["token"])
    parser.add_argument("who", help="a person id of the people directory, e.g. mary")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the issuer's key directory")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds the token is valid")
    args = parser.parse_args(argv)
    try:
        print(Issuer(args.dir).mint(args.who, args.ttl))
    except (ValueError, RuntimeError) as exc:
        print(f"make token: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
