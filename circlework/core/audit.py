"""Recording audit events. Every service write calls `record` inside its transaction.

The events form a hash chain: each carries its place in the chain (`seq`), the hash of the one
before it and a hash of its own content plus that link. Changing, deleting or inserting an event
anywhere breaks the chain from there on, and `manage.py verify_audit` reports where.

An event is sealed into the chain just after its transaction commits, not inside it. Linking
inside the writer's transaction would mean holding one lock over the whole chain from the first
audited write to the commit: every audited write in the instance would wait for every other, and
a transaction that locks a row after recording would deadlock with one that locked that row first
and then records. So `record` only inserts the event; `seal_pending`, run on commit (and by a
five-minute sweep for events whose process died between commit and seal), links every committed
event not yet in the chain, in a short transaction of its own under a lock (an advisory lock on
PostgreSQL; SQLite writes one transaction at a time). Committed events are sealed in the order
they are found, so the chain never forks and never skips an event committed late. `verify`
reports an event left unsealed longer than `SEAL_GRACE`.

A circle moved to its own server brings its part of the chain (circlework.site.backup): the events
of other circles between them stay behind, so the import appends one `audit.history_imported`
event carrying a digest of the imported events' ids and hashes. Before that seal, `verify` checks
each event's own hash and that the set is the one sealed; after it, the chain as usual.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from circlework.core import names, request_memo
from circlework.core.models import AuditEvent
from circlework.core.visibility import A_FORMER_MEMBER, Audience, names_for

GENESIS = "0" * 64
# Any constant: the key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 0x63697263  # "circ"
HISTORY_IMPORTED = "audit.history_imported"
# An event still unsealed this long after it was written was missed by the seal on commit and by
# the sweep (which runs every five minutes): `verify` reports it.
SEAL_GRACE = timedelta(minutes=15)


def actor_digest(practitioner_id: int | None) -> str:
    """A keyed digest of who acted: stable after their account is deleted, not reversible.

    Keyed by AUDIT_DIGEST_KEY, never by SECRET_KEY: a development secret known to anyone would
    let them test every practitioner id against the digests of an erased account's events.
    """
    if practitioner_id is None:
        return ""
    key = settings.AUDIT_DIGEST_KEY.encode()
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
    # When it was sealed is vouched for too (events sealed inside their own transaction, before
    # sealing moved to the commit, have none), so a late seal stays visible.
    if event.sealed_at is not None:
        payload["sealed_at"] = event.sealed_at.isoformat()
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def lock_chain() -> None:
    """Hold the chain's lock to the end of the transaction: no other seal lands meanwhile."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])


def record(
    *,
    actor: Any,
    verb: str,
    target: models.Model,
    summary: str,
    circle: Any = None,
    federation: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` (a practitioner, or None for the system) did `verb` to `target`, in
    `circle` (whose federation is then the event's) or `federation`. Typed `Any`: those models
    live on the floors above core (docs/architecture.md)."""
    if circle is not None and federation is None:
        federation = circle.federation
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor,
        actor_digest=actor_digest(actor.pk if actor is not None else None),
        by_system=actor is None,
        verb=verb,
        object_type=target._meta.label_lower,
        object_id=str(target.pk or ""),
        # Names are never stored: people are tokens (circlework.core.names.text), given names
        # when read, so the sealed summary never has to change when a person hides their name
        # or deletes their account. Any plain string is stored escaped.
        summary=names.clip(summary, 400),
        circle=circle,
        federation=federation,
        # Stored as it reads back from JSON, so the hash is the same after a round trip.
        data=json.loads(json.dumps(data or {}, default=str)),
    )
    event.save()
    # Something changed: what this request remembered (core.request_memo) is read again.
    request_memo.forget_all()
    _seal_on_commit()
    return event


def _seal_on_commit() -> None:
    """Seal once the writer's transaction commits (at once outside one); one seal per
    transaction however many events it records."""
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(func is seal_pending for _, func, _ in conn.run_on_commit):
        return
    # Robust: the write has committed by then; if sealing fails, the sweep seals it later.
    transaction.on_commit(seal_pending, robust=True)


def seal_pending(*, only: Collection[int] | None = None) -> int:
    """Link every committed event not yet in the chain (or just those in `only`), oldest first.
    Returns how many."""
    with transaction.atomic():
        lock_chain()
        pending_q = AuditEvent.objects.filter(seq__isnull=True)
        if only is not None:
            pending_q = pending_q.filter(pk__in=only)
        pending = list(pending_q.order_by("id"))
        if not pending:
            return 0
        last = (
            AuditEvent.objects.filter(seq__isnull=False)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        seq, prev = (last[0] or 0, last[1]) if last is not None else (0, GENESIS)
        now = timezone.now()
        for event in pending:
            seq += 1
            event.seq = seq
            event.sealed_at = now
            event.prev_hash = prev
            event.hash = content_hash(event, prev)
            prev = event.hash
        # The one place events are changed: from unsealed to sealed (the model refuses updates).
        models.QuerySet[AuditEvent](model=AuditEvent).bulk_update(
            pending, ["seq", "sealed_at", "prev_hash", "hash"]
        )
    return len(pending)


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


def verify(
    events: Iterable[AuditEvent] | None = None, *, now: datetime | None = None
) -> Iterator[ChainBreak]:
    """Walk the chain in the order sealed and yield every place it does not hold, then every
    event left unsealed past `SEAL_GRACE`."""
    if events is None:
        rows: Iterable[AuditEvent] = (
            AuditEvent.objects.filter(seq__isnull=False).order_by("seq").iterator()
        )
        unsealed: Iterable[AuditEvent] = AuditEvent.objects.filter(seq__isnull=True).order_by("id")
        seal = (
            AuditEvent.objects.filter(verb=HISTORY_IMPORTED, seq__isnull=False)
            .order_by("-seq")
            .values_list("seq", flat=True)
            .first()
        )
    else:
        given = list(events)
        rows = sorted((e for e in given if e.seq is not None), key=lambda e: e.seq or 0)
        unsealed = [e for e in given if e.seq is None]
        seal = max((e.seq or 0 for e in rows if e.verb == HISTORY_IMPORTED), default=None)
    expected_prev = GENESIS
    imported: list[tuple[int, str]] = []
    for event in rows:
        assert event.seq is not None
        if seal is not None and event.seq < seal:
            imported.append((event.pk, event.hash))  # links lead to events left on the old server
        elif event.prev_hash != expected_prev:
            yield ChainBreak(
                event.pk,
                "does not follow the event before it (one was changed, removed or inserted)",
            )
        if content_hash(event, event.prev_hash) != event.hash:
            yield ChainBreak(event.pk, "its content does not match its hash (it was changed)")
        if event.seq == seal and (event.data or {}).get("imported_history") != history_seal(
            imported
        ):
            yield ChainBreak(
                event.pk,
                "the imported history it seals was changed, or events were removed or added",
            )
        expected_prev = event.hash
    yield from overdue(unsealed, now=now)


def late_seals(*, since: datetime | None = None) -> Iterator[ChainBreak]:
    """Events sealed more than `SEAL_GRACE` after they were written: they are in the chain, but
    nothing vouched for them while they waited (the worker was down when their process died, or
    the row was slipped in outside the application). Not a break: a notice to look into."""
    events = AuditEvent.objects.filter(sealed_at__isnull=False).order_by("seq")
    if since is not None:
        events = events.filter(sealed_at__gte=since)
    for event in events.only("id", "created_at", "sealed_at").iterator():
        assert event.sealed_at is not None
        waited = event.sealed_at - event.created_at
        if waited > SEAL_GRACE:
            yield ChainBreak(
                event.pk,
                f"waited {_duration(waited)} for its seal: nothing vouched for it meanwhile",
            )


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def overdue(
    unsealed: Iterable[AuditEvent] | None = None, *, now: datetime | None = None
) -> Iterator[ChainBreak]:
    """Events left unsealed past `SEAL_GRACE`: nothing vouched for them while they waited."""
    cutoff = (now or timezone.now()) - SEAL_GRACE
    if unsealed is None:
        unsealed = AuditEvent.objects.filter(seq__isnull=True, created_at__lt=cutoff).order_by("id")
    for event in unsealed:
        if event.created_at < cutoff:
            yield ChainBreak(
                event.pk,
                "was never sealed into the chain, so nothing vouched for it while it waited "
                "(is the task worker running?)",
            )


@dataclass(frozen=True)
class ReadEvent:
    """An audit event as one reader reads it: who acted and what they did, names as far as the
    reader may see them (the one name rule, circlework.core.visibility)."""

    event: AuditEvent
    actor: str
    summary: str


def read_events(events: Iterable[AuditEvent], audience: Audience) -> list[ReadEvent]:
    """Events with their actors named and summaries rendered for this audience (a few queries
    however many events)."""
    rows = list(events)
    actors = names_for(audience, [e.actor_id for e in rows if e.actor_id is not None])
    summaries = names.render_all([(e.summary, e.created_at) for e in rows], audience)
    out = []
    for event, summary in zip(rows, summaries, strict=True):
        if event.by_system:
            actor = str(_("Circlework (scheduled)"))
        elif event.actor_id is None:
            actor = str(A_FORMER_MEMBER)
        else:
            actor = actors.get(event.actor_id, str(A_FORMER_MEMBER))
        out.append(ReadEvent(event, actor, summary))
    return out
