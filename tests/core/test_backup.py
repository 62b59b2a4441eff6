"""Backup and restore: the whole instance, and one circle, exported and imported into an empty
database come back identical — every row of every model compared column by column, read both
through the ORM and as raw SQL (so encrypted columns are compared as the ciphertext stored)."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from django.test import Client
from django.utils import timezone

from circlework.accounts import services as account_services
from circlework.accounts.models import ApiToken, Credential, Practitioner
from circlework.circles.models import Circle, Membership
from circlework.circles.selectors import current_members
from circlework.core import audit
from circlework.core.models import AuditEvent
from circlework.decisions import services as decision_services
from circlework.decisions.models import Proposal, ProposalStatus
from circlework.elections.models import Ballot, BallotCast, Election
from circlework.links import services as link_services
from circlework.links.models import CircleLink, LinkStatus
from circlework.site import backup
from circlework.standing import services as standing_services
from circlework.standing.models import StandingBy
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

TASKS = "django_tasks_database.dbtaskresult"
WITHDRAWAL = "Withdrawn for reasons only the circle may read (backup-secret-1)."
RESPONSE = "The circle's answer, kept encrypted (backup-secret-2)."
LINK_REASON = "Why the link ends, for the two circles only (backup-secret-3)."
DOCUMENT = b"%PDF-1.4 a credential document kept in the backup"


def _world() -> dict[str, Any]:
    """The demo federation, plus what the demo leaves out: amendments, comment edits, standing
    concerns, encrypted reasons, a credential document, a second factor, an API token, secret
    ballots and queued background tasks."""
    call_command("seed_demo", stdout=io.StringIO())
    leeds = Circle.objects.get(slug="leeds-wednesday-circle")
    proposal = Proposal.objects.get(circle=leeds, status=ProposalStatus.OPEN)
    author = proposal.author
    assert author is not None
    member = next(m for m in current_members(circle=leeds) if m.pk != author.pk)
    amendment = decision_services.amendment_propose(
        actor=member,
        proposal=proposal,
        text=proposal.text + "\n\nAnd say it plainly.",
        agreement_text=proposal.agreement_text + "\n\nAmended in the backup test.",
        reason="Clearer.",
    )
    decision_services.amendment_accept(actor=author, amendment=amendment)
    comment = decision_services.comment_add(actor=member, proposal=proposal, text="First go.")
    decision_services.comment_edit(actor=member, comment=comment, text="Second go.")

    statement = StandingBy.objects.filter(circle=leeds, withdrawn_at__isnull=True).first()
    assert statement is not None
    concern = standing_services.standing_by_withdraw(
        actor=statement.by, statement=statement, reason=WITHDRAWAL
    )
    responder = next(
        m for m in current_members(circle=leeds) if m.pk not in (statement.by_id, author.pk)
    )
    standing_services.standing_concern_respond(
        actor=responder, concern=concern, response=RESPONSE, resolve=True
    )

    link = CircleLink.objects.filter(validating_circle=leeds, status=LinkStatus.VALIDATED).first()
    assert link is not None
    link_services.link_withdraw(actor=member, link=link, reason=LINK_REASON)

    account_services.credential_add(
        actor=member,
        title="Supervision diploma",
        issuer="Northern Institute",
        year=2019,
        visibility="circle",
        document=SimpleUploadedFile("diploma.pdf", DOCUMENT, content_type="application/pdf"),
    )
    factories.enable_totp(member)
    account_services.api_token_create(actor=member, name="laptop")

    election = Election.objects.first()
    assert election is not None
    Ballot.objects.create(election=election, choices=[member.pk], voter=None)
    BallotCast.objects.create(election=election, voter=member)

    from django_tasks_db.models import DBTaskResult

    def task(path: str, status: str) -> None:
        DBTaskResult.objects.create(
            status=status,
            args_kwargs={"args": [proposal.pk], "kwargs": {}},
            task_path=path,
            backend_name="default",
            run_after=timezone.now() + timedelta(days=1),
            exception_class_path="",
            traceback="",
        )

    task("circlework.decisions.tasks.close_proposal", "READY")  # kept
    task("circlework.decisions.tasks.close_proposal", "SUCCESSFUL")  # history: left out
    task("circlework.decisions.tasks.sweep_deadlines", "READY")  # recurring: left out
    return {"leeds": leeds, "member": member, "proposal": proposal}


def _raw_rows(model: type[models.Model]) -> list[tuple[Any, ...]]:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(f.column)) for f in model._meta.concrete_fields)
    pk = qn(str(model._meta.pk.column))
    table = qn(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {pk}")  # noqa: S608
        return [tuple(row) for row in cursor.fetchall()]


def _snapshot() -> dict[str, Any]:
    """Every row of every model in the backup: raw columns by SQL, and the values the ORM reads."""
    result: dict[str, Any] = {}
    for model in backup.instance_models():
        label = model._meta.label_lower
        if label == TASKS:
            continue  # compared on its own: only tasks waiting to run are kept
        orm = list(model._base_manager.order_by("pk").values())
        result[label] = {"raw": _raw_rows(model), "orm": orm}
    return result


def _queued_tasks() -> list[tuple[Any, ...]]:
    from django_tasks_db.models import DBTaskResult

    return sorted(
        DBTaskResult.objects.filter(status="READY").values_list(
            "id", "task_path", "args_kwargs", "run_after", "enqueued_at"
        )
    )


def _files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for credential in Credential.objects.exclude(document=""):
        name = str(credential.document.name)
        with default_storage.open(name, "rb") as fh:
            files[name] = fh.read()
    return files


def _wipe(files: dict[str, bytes]) -> None:
    """An empty, migrated database: every table emptied (sequences reset) and the files gone."""
    call_command("flush", interactive=False, verbosity=0)
    for name in files:
        default_storage.delete(name)
    assert not Practitioner.objects.exists() and not AuditEvent.objects.exists()


def _compare(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before.keys() == after.keys()
    for label in before:
        for kind in ("raw", "orm"):
            rows_before, rows_after = before[label][kind], after[label][kind]
            assert len(rows_before) == len(rows_after), (label, kind)
            for old, new in zip(rows_before, rows_after, strict=True):
                assert old == new, (label, kind, old, new)


def _data_json(path: Path) -> dict[str, Any]:
    with tarfile.open(path, "r:gz") as tar:
        fh = tar.extractfile("data.json")
        assert fh is not None
        loaded: dict[str, Any] = json.loads(fh.read())
        return loaded


def test_every_model_of_ours_is_in_the_whole_instance_backup() -> None:
    from django.apps import apps

    included = {m._meta.label_lower for m in backup.instance_models()}
    ours = {
        m._meta.label_lower
        for m in apps.get_models(include_auto_created=True)
        if m.__module__.startswith("circlework.")
    }
    # Django's groups and permissions are not used by the product (see docs/operations.md).
    assert ours - included == {"accounts.user_groups", "accounts.user_user_permissions"}
    assert {"account.emailaddress", "mfa.authenticator", TASKS} <= included


def test_whole_instance_round_trip_is_identical(tmp_path: Path) -> None:
    _world()
    before = _snapshot()
    empty = [label for label, rows in before.items() if not rows["raw"]]
    assert empty == [], f"the test world leaves these models empty: {empty}"
    tasks_before = [t for t in _queued_tasks() if t[1].endswith("close_proposal")]
    files = _files()
    assert list(files.values()) == [DOCUMENT]
    assert not list(audit.verify())

    path = tmp_path / "instance.tar.gz"
    out = io.StringIO()
    call_command("backup_export", "--output", str(path), stdout=out)
    assert "Exported" in out.getvalue()

    # The archive holds the ciphertext, never the sensitive text itself.
    data = _data_json(path)
    text = json.dumps(data)
    for secret in (WITHDRAWAL, RESPONSE, LINK_REASON):
        assert secret not in text
    standing = next(t for t in data["tables"] if t["model"] == "standing.standingby")
    column = standing["fields"].index("withdrawal_reason")
    assert any(str(row[column]).startswith("enc1:") for row in standing["rows"])
    assert list(data["files"]) == list(files)

    _wipe(files)
    out = io.StringIO()
    call_command("backup_import", str(path), stdout=out)
    assert "The audit history is intact" in out.getvalue()

    after = _snapshot()
    _compare(before, after)
    assert _queued_tasks() == tasks_before  # the queued one-off task only
    assert _files() == files
    assert not list(audit.verify())
    # The decrypted text reads back through the model as it was written.
    assert WITHDRAWAL in [s.withdrawal_reason for s in StandingBy.objects.all()]

    # New records get fresh keys (sequences moved past the imported ones) and extend the chain.
    newcomer = factories.make_practitioner("After Restore")
    assert newcomer.pk > max(
        p for p in Practitioner.objects.exclude(pk=newcomer.pk).values_list("pk", flat=True)
    )
    leeds = Circle.objects.get(slug="leeds-wednesday-circle")
    founder = current_members(circle=leeds)[0]
    proposal = decision_services.proposal_open(
        actor=founder,
        circle=leeds,
        title="After the restore",
        text="Still working.",
        closes_at=timezone.now() + timedelta(days=3),
    )
    assert proposal.pk > max(before["decisions.proposal"]["orm"], key=lambda r: r["id"])["id"]
    assert not list(audit.verify())

    # A second import into this (no longer empty) database is refused and changes nothing.
    unchanged = _snapshot()
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup_import", str(path), stdout=io.StringIO())
    _compare(unchanged, _snapshot())


def test_one_circle_moves_to_its_own_server(tmp_path: Path) -> None:
    world = _world()
    leeds: Circle = world["leeds"]
    before = _snapshot()
    files = _files()
    member_ids = set(
        Membership.objects.filter(circle=leeds).values_list("practitioner_id", flat=True)
    )
    own_events = list(
        AuditEvent.objects.filter(circle=leeds).order_by("seq").values_list("id", "hash")
    )
    other_proposals = Proposal.objects.exclude(circle=leeds).count()
    assert other_proposals

    path = tmp_path / "leeds.tar.gz"
    call_command(
        "backup_export", "--circle", leeds.slug, "--output", str(path), stdout=io.StringIO()
    )
    data = _data_json(path)
    assert data["scope"]["kind"] == "circle"
    assert "notifications and API tokens" in data["left_out"]

    _wipe(files)
    call_command("backup_import", str(path), stdout=io.StringIO())
    after = _snapshot()

    # The circle's own records come back exactly, with their keys.
    for label in (
        "circles.circle",
        "circles.membership",
        "decisions.proposal",
        "decisions.position",
        "decisions.amendment",
        "decisions.commentrevision",
        "agreements.agreementversion",
        "standing.standingby",
        "standing.standingconcern",
        "polls.pollanswer",
        "mandates.mandate",
    ):
        rows = {r[0]: r for r in after[label]["raw"]}
        assert rows, label
        old = {r[0]: r for r in before[label]["raw"]}
        for pk, row in rows.items():
            if label == "circles.circle" and pk != leeds.pk:
                continue  # another circle's bare record: its optional references are cut
            assert row == old[pk], (label, pk)
    assert Circle.objects.get(pk=leeds.pk).name == leeds.name
    assert set(Practitioner.objects.values_list("pk", flat=True)) >= member_ids
    # Nothing of other circles but what the records need: no proposals, no tokens.
    assert Proposal.objects.exclude(circle=leeds).count() == 0
    assert not ApiToken.objects.exists()
    # The members' files came along.
    assert _files() == files

    # The imported history verifies: every event as it was, sealed by one more event.
    assert list(AuditEvent.objects.order_by("seq").values_list("id", "hash"))[:-1] == own_events
    seal = AuditEvent.objects.order_by("-seq").first()
    assert seal is not None and seal.verb == audit.HISTORY_IMPORTED
    assert not list(audit.verify())
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()

    # The new server works: a member signs in and reads the circle's decisions.
    member = Practitioner.objects.get(pk=world["member"].pk)
    client = Client()
    client.force_login(member.user)
    page = client.get(f"/circles/{leeds.slug}/decisions/")
    assert page.status_code == 200
    assert world["proposal"].title in page.content.decode()

    # Removing an imported event is caught by the seal.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [own_events[3][0]])
    breaks = list(audit.verify())
    assert [b.event_id for b in breaks] == [seal.pk]


def test_a_damaged_or_foreign_archive_is_refused(tmp_path: Path) -> None:
    factories.make_circle(founder=factories.make_practitioner("Solo"))
    path = tmp_path / "small.tar.gz"
    call_command("backup_export", "--output", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="exists"):
        call_command("backup_export", "--output", str(path), stdout=io.StringIO())

    data = _data_json(path)
    data["migrations"]["decisions"] = ["0001_initial"]
    other = tmp_path / "other-version.tar.gz"
    body = json.dumps(data).encode()
    with tarfile.open(other, "w:gz") as tar:
        info = tarfile.TarInfo("data.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    call_command("flush", interactive=False, verbosity=0)
    with pytest.raises(CommandError, match="another schema version"):
        call_command("backup_import", str(other), stdout=io.StringIO())
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not a backup")
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("backup_import", str(garbage), stdout=io.StringIO())
    assert not Practitioner.objects.exists()
    call_command("backup_import", str(path), stdout=io.StringIO())
    assert Practitioner.objects.get().display_name == "Solo"


def test_events_caught_before_their_seal_are_sealed_on_import(tmp_path: Path) -> None:
    solo = factories.make_practitioner("Solo")
    factories.make_circle(founder=solo)
    path = tmp_path / "caught.tar.gz"
    with transaction.atomic():
        audit.record(actor=None, verb="test.waiting", target=solo, summary="not sealed yet")
        # Inside a transaction the export neither seals nor holds the chain's lock: the event
        # travels unsealed.
        backup.export_instance(path)
        assert AuditEvent.objects.get(verb="test.waiting").seq is None
    table = next(t for t in _data_json(path)["tables"] if t["model"] == "core.auditevent")
    seq = table["fields"].index("seq")
    assert sorted(row[seq] is None for row in table["rows"]).count(True) == 1

    _wipe({})
    call_command("backup_import", str(path), stdout=io.StringIO())
    waiting = AuditEvent.objects.get(verb="test.waiting")
    assert waiting.seq == AuditEvent.objects.count()  # sealed last, after the sealed ones
    assert not list(audit.verify())
