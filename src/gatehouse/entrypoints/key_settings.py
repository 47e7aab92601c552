"""The keys of `GATEHOUSE_JWT_ALGORITHM=EdDSA|ES256` (§13), read and checked when first needed (by
`serve` before it starts, and by the token issuer): each problem is one `SettingsError` naming the
variable, and never showing a key."""

from pathlib import Path

from gatehouse.adapters.signing_keys import (
    SigningKeyError,
    SigningKeyRing,
    load_private_key,
    load_public_key,
)
from gatehouse.entrypoints.settings import PRIVATE_KEY_FILE, Settings, SettingsError

PRIVATE = "GATEHOUSE_JWT_PRIVATE_KEY"
PREVIOUS = "GATEHOUSE_JWT_PREVIOUS_KEYS"
MAX_PEM_BYTES = 64 * 1024  # a key is far smaller; a path to something huge is not read whole


def require_signing_keys(settings: Settings) -> SigningKeyRing | None:
    """None with HS256 (the secret signs, and no key is read); else the private key and the public
    keys of the previous ones, each of the kind the algorithm takes."""
    algorithm = settings.jwt_algorithm
    if algorithm == "HS256":
        return None
    source, pem = _private_pem(settings)
    try:
        private_key = load_private_key(pem, algorithm)
    except SigningKeyError as exc:
        raise SettingsError(f"{source} {exc}") from None
    previous = []
    for path in settings.jwt_previous_keys:
        try:
            previous.append(load_public_key(_read(Path(path)), algorithm))
        except OSError as exc:
            raise SettingsError(
                f"{PREVIOUS}: cannot read {path}: {exc.strerror or type(exc).__name__}"
            ) from None
        except SigningKeyError as exc:
            raise SettingsError(f"{PREVIOUS}: {path} {exc}") from None
    return SigningKeyRing(algorithm, private_key, previous)


def _private_pem(settings: Settings) -> tuple[str, bytes]:
    """Where the private key comes from, as the messages name it, and its PEM bytes."""
    if settings.jwt_private_key is not None:
        # A .env line or a container's variable often holds the PEM with its line breaks as `\n`.
        return PRIVATE, settings.jwt_private_key.replace("\\n", "\n").encode()
    try:
        return f"{PRIVATE_KEY_FILE} ({PRIVATE} is not set)", _read(PRIVATE_KEY_FILE)
    except FileNotFoundError:
        raise SettingsError(
            f"{PRIVATE} is not set and {PRIVATE_KEY_FILE} does not exist: GATEHOUSE_JWT_ALGORITHM="
            f"{settings.jwt_algorithm} signs with a private key (`gatehouse keys generate "
            f"--algorithm {settings.jwt_algorithm}` writes one there)"
        ) from None
    except OSError as exc:
        raise SettingsError(
            f"{PRIVATE} is not set and {PRIVATE_KEY_FILE} cannot be read: "
            f"{exc.strerror or type(exc).__name__}"
        ) from None


def _read(path: Path) -> bytes:
    with path.open("rb") as pem:
        return pem.read(MAX_PEM_BYTES)
