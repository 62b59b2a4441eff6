"""Recording audit events. Every service write calls `record` inside its transaction.

The events form a hash chain: each carries the hash of the one written before it and a hash of
its own content plus that link. Changing, deleting or inserting an event anywhere breaks the
chain from there on, and `manage.py verify_audit` reports where. Writers take a lock for the
append (an advisory lock on PostgreSQL; SQLite already writes one transaction at a time), so the
chain has no forks under concurrency.

A circle moved to its own server brings its part of the chain (circlework.core.backup): the events
of other circles between them stay behind, so the import appends one `audit.history_imported`
event carrying a digest of the imported events' ids and hashes. Before that seal, `verify` checks
each event's own hash and that the set is the one sealed; after it, the chain as usual.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from circlework.core.models import AuditEvent

if TYPE_CHECKING:
    from circlework.accounts.models import Practitioner
    from circlework.circles.models import Circle, Federation

GENESIS = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 0x63697263  # "circ"
HISTORY_IMPORTED = "audit.history_imported"


def actor_digest(practitioner_id: int | None) -> str:
    """A keyed digest of who acted: stable after their account is deleted, not reversible."""
    if practitioner_id is None:
        return ""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"practitioner:{practitioner_id}".encode(), hashlib.sha256).hexdigest()


def content_hash(event: AuditEvent, prev_hash: str) -> str:
    payload = {
        "prev": prev_hash,
        "created_at": event.created_at.isoformat(),
        "actor": event.actor_digest,
        "by_system": event.by_system,
        "verb": event.verb,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "summary": event.summary,
        "circle": event.circle_id,
        "federation": event.federation_id,
        "data": event.data,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])


def record(
    *,
    actor: Practitioner | None,
    verb: str,
    target: models.Model,
    summary: str,
    circle: Circle | None = None,
    federation: Federation | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if circle is not None and federation is None:
        federation = circle.federation
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor,
            actor_digest=actor_digest(actor.pk if actor is not None else None),
            by_system=actor is None,
            verb=verb,
            object_type=target._meta.label_lower,
            object_id=str(target.pk or ""),
            summary=summary[:400],
            circle=circle,
            federation=federation,
            # Stored as it reads back from JSON, so the hash is the same after a round trip.
            data=json.loads(json.dumps(data or {}, default=str)),
            prev_hash=last or GENESIS,
        )
        event.hash = content_hash(event, event.prev_hash)
        event.save()
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    problem: str


def history_seal(events: Iterable[tuple[int, str]]) -> dict[str, Any]:
    """What the seal of an imported history records: how many events, and a digest of their
    ids and hashes in order (so none can be changed, removed or added unnoticed)."""
    digest = hashlib.sha256()
    count = 0
    for event_id, event_hash in events:
        digest.update(f"{event_id}:{event_hash}\n".encode())
        count += 1
    return {"events": count, "digest": digest.hexdigest()}


def verify(events: Iterable[AuditEvent] | None = None) -> Iterator[ChainBreak]:
    """Walk the chain in the order written and yield every place it does not hold."""
    if events is None:
        seal = (
            AuditEvent.objects.filter(verb=HISTORY_IMPORTED)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        rows: Iterable[AuditEvent] = AuditEvent.objects.order_by("id").iterator()
    else:
        rows = list(events)
        seal = max((e.pk for e in rows if e.verb == HISTORY_IMPORTED), default=None)
    expected_prev = GENESIS
    imported: list[tuple[int, str]] = []
    for event in rows:
        if seal is not None and event.pk < seal:
            imported.append((event.pk, event.hash))  # links lead to events left on the old server
        elif event.prev_hash != expected_prev:
            yield ChainBreak(
                event.pk,
                "does not follow the event before it (one was changed, removed or inserted)",
            )
        if content_hash(event, event.prev_hash) != event.hash:
            yield ChainBreak(event.pk, "its content does not match its hash (it was changed)")
        if event.pk == seal and (event.data or {}).get("imported_history") != history_seal(
            imported
        ):
            yield ChainBreak(
                event.pk,
                "the imported history it seals was changed, or events were removed or added",
            )
        expected_prev = event.hash
