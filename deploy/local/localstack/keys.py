"""The local token-signing key pair (Ed25519) under .local/jwt and development tokens signed with it."""

from __future__ import annotations

from pathlib import Path

from common import LOCAL

KEY_DIR = LOCAL / "jwt"
PRIVATE = KEY_DIR / "private.pem"
PUBLIC = KEY_DIR / "public.pem"


def ensure_keys(key_dir: Path = KEY_DIR) -> tuple[Path, Path]:
    """Generate the key pair once; services verify with the public half only."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, public = key_dir / "private.pem", key_dir / "public.pem"
    if private.exists() and public.exists():
        return private, public
    key_dir.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private.chmod(0o600)
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def token(role: str, code: str, sub: str = "dev-operator", key_dir: Path = KEY_DIR) -> str:
    from xueji_contracts.auth import OperatorClaims
    from xueji_kit.security import mint_token

    private, _ = ensure_keys(key_dir)
    claims = OperatorClaims.model_validate({"sub": sub, "role": role, "code": code})
    return mint_token(private.read_text(), claims)


def subscriber_token(name: str, key_dir: Path = KEY_DIR) -> str:
    """A registered status subscriber's token (R52): the claim `subscriber`, no role, so no operator route takes it."""
    from xueji_contracts.auth import SubscriberClaims
    from xueji_kit.security import mint_token

    private, _ = ensure_keys(key_dir)
    return mint_token(private.read_text(), SubscriberClaims(sub=f"system:{name}", subscriber=name))
