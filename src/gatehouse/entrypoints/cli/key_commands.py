"""`gatehouse keys generate`: a new private key to sign access tokens with (§13); no database, no secret."""

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any

from gatehouse.application.ports.credentials import PUBLIC_KEY_ALGORITHMS
from gatehouse.entrypoints.cli.commands import CommandError
from gatehouse.entrypoints.cli.output import print_json
from gatehouse.entrypoints.container import Container
from gatehouse.entrypoints.settings import PRIVATE_KEY_FILE

PRIVATE_MODE = 0o600


def key_algorithm(raw: str) -> str:
    """EdDSA or ES256, in any case, spelled as JOSE spells it."""
    spelled = {name.lower(): name for name in PUBLIC_KEY_ALGORITHMS}.get(raw.lower())
    if spelled is None:
        raise argparse.ArgumentTypeError(f"{raw!r} is not one of {', '.join(PUBLIC_KEY_ALGORITHMS)}")
    return spelled


def add_parser(sub: "argparse._SubParsersAction[Any]") -> None:
    keys = sub.add_parser("keys", help="the keys that sign access tokens").add_subparsers(
        dest="action", required=True
    )
    generate = keys.add_parser(
        "generate",
        help="write a new private key (PKCS#8 PEM, mode 0600); prints its path and kid as JSON",
        description="Write a new private key for GATEHOUSE_JWT_ALGORITHM=EdDSA or ES256, readable by "
        "its owner alone, and print its path, algorithm and kid (the RFC 7638 thumbprint its tokens "
        "and the JWK Set will carry). An existing file is never replaced without --force: to rotate, "
        "move the old key aside and list it in GATEHOUSE_JWT_PREVIOUS_KEYS.",
    )
    generate.add_argument(
        "--algorithm",
        type=key_algorithm,
        default="EdDSA",
        metavar="{EdDSA,ES256}",
        help="EdDSA (an Ed25519 key) or ES256 (a P-256 key) (default: %(default)s)",
    )
    generate.add_argument(
        "--out",
        type=Path,
        default=PRIVATE_KEY_FILE,
        metavar="PATH",
        help="where to write it; its folder must exist, but for var/ (default: %(default)s)",
    )
    generate.add_argument(
        "--force", action="store_true", help="replace an existing file at PATH (default: refuse)"
    )


def generate(args: argparse.Namespace) -> int:
    # No setting is read: the key is all the command needs (as --help, it works anywhere).
    key = Container().key_generator().generate(args.algorithm)
    path: Path = args.out
    if path == PRIVATE_KEY_FILE:
        try:
            path.parent.mkdir(exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot create the folder {path.parent}/: {exc.strerror or exc}") from None
    write_private(path, key.pem, replace=args.force)
    print_json({"path": str(path), "algorithm": key.algorithm, "kid": key.kid})
    return 0


def write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Created with mode 0600 (never readable by others, not even for a moment) and flushed to
    disk; an existing file stays as it is unless `replace`, which swaps the new file in whole."""
    target = path.with_name(f".{path.name}.{os.getpid()}.new") if replace else path
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        raise CommandError(
            f"--out {path} already exists: move it aside first (list it in GATEHOUSE_JWT_PREVIOUS_KEYS "
            "so its tokens keep working) or give --force"
        ) from None
    except OSError as exc:
        raise CommandError(f"--out {path}: cannot write there: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as sink:
            os.fchmod(sink.fileno(), PRIVATE_MODE)  # whatever the umask
            sink.write(data)
            sink.flush()
            os.fsync(sink.fileno())
        if replace:
            os.replace(target, path)
    except OSError as exc:
        if replace:
            with contextlib.suppress(OSError):
                target.unlink()
        raise CommandError(f"--out {path}: cannot write there: {exc.strerror or exc}") from None
