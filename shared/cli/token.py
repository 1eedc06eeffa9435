"""A bearer token for the read APIs: given (`--token`, BACKBONE_TOKEN) or minted with the dev issuer's key."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISSUER_SCRIPT = ROOT / "deploy" / "local" / "oidc_issuer.py"
DEFAULT_OIDC_DIR = Path(".local/stack/oidc")


class TokenError(RuntimeError):
    """No token could be had, with the reason."""


def mint(who: str, key_dir: Path) -> str:
    """What `make token WHO=...` prints: a token signed with the running stack's development key.

    The issuer's own module does the signing (deploy/local/oidc_issuer.py), so the claims stay its.
    """
    if not (key_dir / "signing-key.pem").exists() or not (key_dir / "issuer.json").exists():
        raise TokenError(f"no development issuer in {key_dir} (make run starts one); give --token or BACKBONE_TOKEN")
    if not ISSUER_SCRIPT.exists():
        raise TokenError(f"{ISSUER_SCRIPT} is not there (an installed CLI): give --token or BACKBONE_TOKEN")
    spec = importlib.util.spec_from_file_location("backbone_dev_issuer", ISSUER_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return module.Issuer(key_dir).mint(who)
    except ValueError as exc:
        raise TokenError(str(exc)) from None


def bearer(token: str | None, who: str | None, key_dir: Path | None) -> str:
    """The token given, else one minted for `who`."""
    if token:
        return token
    if not who:
        raise TokenError("give --token (or BACKBONE_TOKEN), or --who PERSON to mint one with the dev issuer")
    return mint(who, key_dir or DEFAULT_OIDC_DIR)
