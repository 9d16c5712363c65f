"""Optional e-mail: off by default; when on, a mailto: endpoint gets the notification through a real SMTP server."""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header

import notify_events as ev
import pytest
from aiosmtpd.controller import Controller
from common import free_port

from xueji_notify.app import create_app
from xueji_notify.settings import NotifySettings

pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


async def test_email_is_off_by_default(start_app, token):
    notify = await start_app(create_app, NotifySettings)
    answer = await notify.post("/v1/webhooks", json={"url": "mailto:clerk@school.example", "consent_reference": "C-1"},
                               headers={"Authorization": f"Bearer {token('school', ev.SCHOOL)}"})  # fmt: skip
    assert answer.status_code == 422 and "XUEJI_SMTP_HOST" in answer.json()["detail"][0]["reason"]


async def test_r22_mailto_endpoint_gets_the_task_by_smtp_once(start_app, isolation, token, wait_for, smtp):
    notify = await start_app(create_app, NotifySettings, smtp_host="127.0.0.1", smtp_port=smtp.port,
                             smtp_starttls=False, webhook_tick_seconds=0.1)  # fmt: skip
    school = {"Authorization": f"Bearer {token('school', ev.SCHOOL)}"}
    made = await notify.post("/v1/webhooks", json={"url": "mailto:clerk@school.example", "kinds": ["stage_opened"],
                                                 "consent_reference": "C-1"},
                             headers=school)  # fmt: skip
    assert made.status_code == 201, made.text
    opened = ev.opened(ev.transfer_id())
    async with ev.Upstream(isolation) as upstream:
        await upstream.send(opened, opened)
    [(to, mail)] = await wait_for(lambda: smtp.messages or None)
    assert to == ["clerk@school.example"]
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject.startswith("转学待办") and "Transfer to act on" in subject
    deliveries = (await notify.get(f"/v1/webhooks/{made.json()['webhook_id']}/deliveries", headers=school)).json()
    [delivery] = deliveries["deliveries"]
    assert mail["Message-ID"] == f"<{delivery['delivery_id']}@xueji-notify>"
    assert delivery["state"] == "delivered" and delivery["attempts"][0]["status"] == 250
