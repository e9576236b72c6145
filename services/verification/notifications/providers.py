"""Where notifications go out: an HTTP SMS/WhatsApp gateway (generic signed webhook), e-mail over SMTP, or the log.

The webhook contract (docs/NOTIFICATIONS.md): `POST <url>` with a JSON body
`{"id", "channel", "to", "template", "subject", "body"}`, headers `Idempotency-Key: <id>`, `X-Tepat-Timestamp: <unix
seconds>` and `X-Tepat-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the shared secret>`.
Any 2xx is delivered; anything else (or no answer) is retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import httpx

log = logging.getLogger("tepat.notifications")


@dataclass(frozen=True)
class Message:
    """One notification to one address; `key` is stable across retries (the receiver may dedupe on it)."""

    key: str
    channel: str
    to: str
    template: str
    subject: str
    body: str


class ProviderError(Exception):
    """The provider did not take the message; the delivery is retried."""


class Provider(Protocol):
    """Sends one message or raises ProviderError."""

    async def send(self, message: Message) -> None:
        """Hand the message over; return only once the provider accepted it."""


class LogProvider:
    """Writes each message to the log (embedded mode, `make run`): nothing leaves the machine."""

    async def send(self, message: Message) -> None:
        """Log the message (the address masked: logs are not a contact list)."""
        log.info(
            "notification %s via %s to %s: %s",
            message.template,
            message.channel,
            mask_address(message.to),
            message.body,
            extra={"notification_key": message.key},
        )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Tepat-Signature value of a webhook body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookProvider:
    """POSTs signed JSON to an SMS/WhatsApp gateway."""

    def __init__(self, url: str, secret: str, *, timeout_s: float = 10.0, client: httpx.AsyncClient | None = None):
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s
        self.client = client

    async def send(self, message: Message) -> None:
        """One POST; a non-2xx answer or a network error is a ProviderError."""
        body = json.dumps(
            {
                "id": message.key,
                "channel": message.channel,
                "to": message.to,
                "template": message.template,
                "subject": message.subject,
                "body": message.body,
            },
            separators=(",", ":"),
        ).encode()
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.key,
            "X-Tepat-Timestamp": ts,
            "X-Tepat-Signature": sign(self.secret, ts, body),
        }
        try:
            if self.client is not None:
                response = await self.client.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
            else:
                async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                    response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderError(f"webhook unreachable: {type(exc).__name__}") from exc
        if not response.is_success:
            raise ProviderError(f"webhook answered {response.status_code}")


class SmtpProvider:
    """Sends e-mail through an SMTP server (standard library, in a worker thread)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout_s = timeout_s

    async def send(self, message: Message) -> None:
        """One e-mail; a refused or unreachable server is a ProviderError."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = f"<{message.key}@tepat>"
        email.set_content(message.body)
        try:
            await asyncio.to_thread(self._send, email)
        except (OSError, smtplib.SMTPException) as exc:
            raise ProviderError(f"smtp: {type(exc).__name__}: {exc}"[:300]) from exc

    def _send(self, email: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)


def mask_address(address: str) -> str:
    """An address with all but its last three characters hidden."""
    return "*" * max(0, len(address) - 3) + address[-3:]
