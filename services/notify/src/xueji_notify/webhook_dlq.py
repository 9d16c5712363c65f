"""Webhook deliveries dead-lettered on notify.webhook.dlq, listed and replayed once the receiver is fixed:

    python -m xueji_notify.webhook_dlq list [--hook <webhook id> ...] [--since <time>] [--until <time>]
    python -m xueji_notify.webhook_dlq replay (--hook <webhook id> ... | --since <time> | --until <time> | --all)

Those letters are `WebhookDeliveryFailed` records naming a delivery notify keeps, not consumed messages with an
original topic, so `python -m xueji_kit.dlq` cannot replay them. A replay makes the stored delivery pending again,
under its own delivery id (the receiver applies it once), for a new round of XUEJI_WEBHOOK_MAX_ATTEMPTS tries that
notify's deliverer makes (a durable timer, due now). A delivery that is no longer failed (delivered, or replayed and
still being tried) is skipped, so a replay run twice sends nothing twice; one of a deactivated hook is skipped until
its owner activates the hook. Run it where notify runs (same environment: KAFKA_BOOTSTRAP_SERVERS, MONGODB_URI,
XUEJI_MONGODB_DATABASE, XUEJI_TOPIC_PREFIX). See docs/operations.md, "Webhook deliveries".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta

from xueji_contracts.messages.notify import WebhookDeliveryFailed
from xueji_contracts.topics import NOTIFY_WEBHOOK_DLQ
from xueji_kit.dlq import NoSuchTopic, client_options, read_letters
from xueji_kit.operator_cli import service_database
from xueji_kit.settings import ServiceSettings
from xueji_kit.timers import TimerStore
from xueji_notify.delivery import attempt_timer
from xueji_notify.settings import NotifySettings
from xueji_notify.store import WebhookStore


async def failed_deliveries(
    settings: ServiceSettings, hooks: list[str] | None, since: datetime | None, until: datetime | None
) -> list[WebhookDeliveryFailed]:
    """The letters on the topic now, of these hooks and failed in [since, until); the latest one per delivery."""
    letters = await read_letters(client_options(settings), settings.topic(NOTIFY_WEBHOOK_DLQ.name))
    latest: dict[str, WebhookDeliveryFailed] = {}
    for letter in letters:
        failed = WebhookDeliveryFailed.model_validate(letter["payload"])
        if hooks and failed.webhook_id not in hooks:
            continue
        if (since and failed.failed_at < since) or (until and failed.failed_at >= until):
            continue
        latest[failed.delivery_id] = failed
    return list(latest.values())


async def replay(
    store: WebhookStore,
    timers: TimerStore,
    delivery_id: str,
    now: datetime,
    *,
    failed_at: datetime | None = None,
    kept: timedelta | None = None,
) -> str:
    """What became of one delivery: replayed, armed again (a replay interrupted before its timer), or skipped. A
    letter outlives its delivery: one whose delivery failed (`failed_at`, the letter's) more than `kept` ago and is no
    longer stored was removed by the retention, and is skipped saying so."""
    delivery = await store.delivery(delivery_id)
    if delivery is None:
        if failed_at is not None and kept is not None and failed_at < now - kept:
            return (f"skipped {delivery_id}: removed by the delivery retention, which keeps a delivery "
                    f"{kept.days} days after it ended (XUEJI_WEBHOOK_DELIVERIES_KEPT_DAYS); it failed "
                    f"{failed_at:%Y-%m-%d %H:%M:%S%z}")  # fmt: skip
        return f"skipped {delivery_id}: not stored"
    attempts = len(delivery.get("attempts") or [])
    if delivery["state"] == "pending" and delivery.get("replays") and attempts == delivery.get("round_start"):
        await timers.arm(attempt_timer(delivery_id, attempts, delivery["replayed_at"].replace(tzinfo=UTC)))
        return f"armed again {delivery_id}"  # the same timer as the interrupted replay's: one attempt
    if delivery["state"] != "failed":
        return f"skipped {delivery_id}: {delivery['state']}"
    hook = await store.webhook(delivery["webhook_id"])
    if hook is None or not hook.get("active"):
        why = hook.get("deactivated_reason") if hook else "removed"
        return f"skipped {delivery_id}: the webhook is deactivated ({why}); activate it first"
    if not await store.reopen(delivery, now):
        return f"skipped {delivery_id}: replayed meanwhile"
    await timers.arm(attempt_timer(delivery_id, attempts, now))
    return f"replayed {delivery_id}"


async def _run(args: argparse.Namespace) -> int:
    settings = NotifySettings()
    kept = timedelta(days=settings.webhook_deliveries_kept_days)
    failed = await failed_deliveries(settings, args.hook, args.since, args.until)
    if not failed:
        hooks = f" of {', '.join(args.hook)}" if args.hook else ""
        print(f"no dead-lettered delivery{hooks} on {settings.topic(NOTIFY_WEBHOOK_DLQ.name)}"
              f"{' in the window given' if args.since or args.until else ''}")  # fmt: skip
        return 0
    async with service_database("notify") as db:
        store, timers = WebhookStore(db), TimerStore(db)
        for letter in failed:
            if args.command == "replay":
                now = datetime.now(UTC)
                print(await replay(store, timers, letter.delivery_id, now, failed_at=letter.failed_at, kept=kept))
                continue
            stored = await store.delivery(letter.delivery_id)
            pruned = letter.failed_at < datetime.now(UTC) - kept
            state = stored["state"] if stored else "removed by the retention" if pruned else "not stored"
            print(f"{letter.delivery_id}  hook {letter.webhook_id}  failed {letter.failed_at:%Y-%m-%d %H:%M:%S%z}  "
                  f"{letter.attempts} attempts  {letter.last_error[:200]}  now {state}")  # fmt: skip
    return 0


def _aware(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs its UTC offset, e.g. 2026-12-06T09:00+08:00")
    return at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xueji_notify.webhook_dlq", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in {"list": "show the dead-lettered deliveries", "replay": "deliver them again"}.items():
        command = commands.add_parser(name, help=text)
        command.add_argument("--hook", action="append", help="only this webhook's deliveries (repeatable)")
        command.add_argument("--since", type=_aware, help="only those failed at or after this time (ISO 8601)")
        command.add_argument("--until", type=_aware, help="only those failed before this time (ISO 8601)")
        if name == "replay":
            command.add_argument("--all", action="store_true", help="every dead-lettered delivery")
    args = parser.parse_args(argv)
    if args.command == "replay" and not (args.hook or args.since or args.until or args.all):
        parser.error("replay needs --hook, --since, --until or --all")
    try:
        return asyncio.run(_run(args))
    except NoSuchTopic as missing:
        print(f"no topic {missing} on the brokers (or this identity may not describe it): run this in a Job of ops-cli"
              " (docs/operations.md), whose environment is notify's", file=sys.stderr)  # fmt: skip
        return 2


if __name__ == "__main__":
    sys.exit(main())
