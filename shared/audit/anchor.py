"""Signed checkpoints of an audit chain: what makes it tamper-evident against someone who can write the table.

A hash chain alone only shows that the rows agree with each other: whoever can write the table can delete its
tail, empty it, or edit a row and compute every hash after it again. A checkpoint (sequence number, head hash,
entry count, time) signed with an Ed25519 key the database never holds, and appended to a file outside the
database, fixes the chain up to that entry: a verifier with the public half finds a shorter chain (truncation,
tail or everything deleted) or a different head (an edit, even one recomputed forward) against it.

The key is a PEM file (created on first use, mode 0600, like the dev JWT keys) or, instead, an external signing
command (a KMS or HSM client) that reads the message on stdin and prints the base64 signature; verification reads
only the public key file.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.settings import ServiceSettings


@dataclass(frozen=True)
class Checkpoint:
    """The signed state of a chain: its entry `seq` has hash `head`, and it holds `count` entries."""

    service: str
    seq: int
    head: str
    count: int
    at: str
    key_id: str
    signature: str = ""

    def message(self) -> bytes:
        """The bytes that are signed: every field but the signature, as canonical JSON."""
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        """One line of the checkpoint file."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


class Signer(Protocol):
    """Signs checkpoint messages; the private key stays with it."""

    def public_key(self) -> Ed25519PublicKey:
        """The public half, for the key id."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of `message`."""
        ...


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key (sha256 of its raw bytes)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read an Ed25519 public key (PEM)."""
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class FileSigner:
    """An Ed25519 key in a PEM file, created (with its public half next to it) on first use."""

    def __init__(self, private_path: Path, public_path: Path) -> None:
        self.private_path = private_path
        self.public_path = public_path
        self._key: Ed25519PrivateKey | None = None

    def _load(self) -> Ed25519PrivateKey:
        if self._key is not None:
            return self._key
        if not self.private_path.exists():
            self.private_path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            # Created 0600 from the start: never readable by others, not even for a moment.
            fd = os.open(self.private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
        loaded = serialization.load_pem_private_key(self.private_path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{self.private_path} is not an Ed25519 private key")
        if not self.public_path.exists() or self.public_path.read_bytes() != _public_pem(loaded.public_key()):
            self.public_path.parent.mkdir(parents=True, exist_ok=True)
            self.public_path.write_bytes(_public_pem(loaded.public_key()))
        self._key = loaded
        return loaded

    def public_key(self) -> Ed25519PublicKey:
        """The public half (the key is created if missing)."""
        return self._load().public_key()

    def sign(self, message: bytes) -> bytes:
        """Sign with the file's key."""
        return self._load().sign(message)


class CommandSigner:
    """A KMS-style key handle: an external command signs (message on stdin, base64 signature on stdout)."""

    def __init__(self, command: str, public_path: Path) -> None:
        self.command = command
        self.public_path = public_path

    def public_key(self) -> Ed25519PublicKey:
        """The public half, read from the configured file."""
        return load_public_key(self.public_path)

    def sign(self, message: bytes) -> bytes:
        """Run the signing command."""
        done = subprocess.run(self.command, shell=True, input=message, capture_output=True, check=True, timeout=30)
        return base64.b64decode(done.stdout.strip())


class CheckpointFile:
    """The append-only file checkpoints are published to (one JSON line each)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        """Append one line (O_APPEND: writers in several processes never overwrite each other)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (checkpoint.line() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[Checkpoint]:
        """Every checkpoint in the file, in the order written (a line that does not parse is an error)."""
        if not self.path.exists():
            return []
        out = []
        for n, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(Checkpoint(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{self.path} line {n} is not a checkpoint: {exc}") from exc
        return out


def signature_valid(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """Was this checkpoint signed by the key's private half?"""
    try:
        public_key.verify(base64.b64decode(checkpoint.signature), checkpoint.message())
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class Anchor:
    """Where a service's checkpoints are signed, published and verified."""

    service: str
    checkpoints: CheckpointFile
    public_key_path: Path
    signer: Signer | None = None
    every: int = 0

    def signed(self, *, seq: int, head: str, count: int, at: datetime) -> Checkpoint:
        """A checkpoint of the given head, signed."""
        if self.signer is None:
            raise RuntimeError("no audit signing key is configured")
        unsigned = Checkpoint(
            service=self.service,
            seq=seq,
            head=head,
            count=count,
            at=at.isoformat(),
            key_id=key_id(self.signer.public_key()),
        )
        signature = self.signer.sign(unsigned.message())
        return Checkpoint(**{**asdict(unsigned), "signature": base64.b64encode(signature).decode()})

    async def publish(self, checkpoint: Checkpoint) -> None:
        """Append the checkpoint to the file (off the event loop: it fsyncs)."""
        await asyncio.to_thread(self.checkpoints.append, checkpoint)

    def public_key(self) -> Ed25519PublicKey | None:
        """The verification key, if there is one yet."""
        return load_public_key(self.public_key_path) if self.public_key_path.exists() else None

    def due(self, first_seq: int, last_seq: int) -> bool:
        """Did entries first_seq..last_seq cross a multiple of `every` (0: only on schedule)?"""
        return self.every > 0 and last_seq // self.every > (first_seq - 1) // self.every


def anchor_from_settings(settings: ServiceSettings, *, signing: bool = True) -> Anchor:
    """The service's anchor as configured (`signing=False`: verification only, no key is created or read)."""
    signer: Signer | None = None
    if signing:
        if settings.audit_sign_command:
            if settings.audit_public_key_file is None:
                raise ValueError("AUDIT_SIGN_COMMAND needs AUDIT_PUBLIC_KEY_FILE")
            signer = CommandSigner(settings.audit_sign_command, settings.audit_public_key_file)
        else:
            signer = FileSigner(settings.audit_key_path, settings.audit_public_key_path)
    return Anchor(
        service=settings.service_name,
        checkpoints=CheckpointFile(settings.audit_checkpoint_path),
        public_key_path=settings.audit_public_key_path,
        signer=signer,
        every=settings.audit_checkpoint_every,
    )
