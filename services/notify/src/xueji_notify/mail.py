"""Optional e-mail delivery (off unless XUEJI_SMTP_HOST is set): a `mailto:` endpoint registered like a
webhook gets the same retries, backoff and dead letter; the Message-ID carries the delivery id."""

from __future__ import annotations

import asyncio
import json
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from xueji_notify.settings import NotifySettings

# Permanent refusals (no such mailbox, policy): retrying will not help.
_FINAL = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def compose(body: str, to: str, sender: str, delivery_id: str) -> EmailMessage:
    note = json.loads(body)
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = f"{note['title_zh']} / {note['title_en']}"
    message["Message-ID"] = f"<{delivery_id}@xueji-notify>"
    due = f"\n截止 / Due: {note['due_at']}" if note.get("due_at") else ""
    message.set_content(
        f"{note['title_zh']}\n{note['title_en']}\n\n单位 / Jurisdiction: {note['jurisdiction']}\n"
        f"编号 / Reference: {note['subject_id']}{due}\n\n"
        "详情请登录学籍系统查看。Please see the student status system for details.\n"
    )
    return message


def _send(settings: NotifySettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.webhook_timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


async def send_mail(settings: NotifySettings, url: str, body: str, delivery_id: str) -> tuple[int | None, str | None]:
    """(status, error) in the webhook's terms: 250 sent, 550 refused for good, None to retry."""
    to = unquote(urlsplit(url).path)
    try:
        await asyncio.to_thread(_send, settings, compose(body, to, settings.smtp_from, delivery_id))
    except _FINAL as exc:
        return 550, f"{type(exc).__name__}: {exc}"[:300]
    except (OSError, smtplib.SMTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    return 250, None
