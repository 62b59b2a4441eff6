"""The public ethics register shows one statement per circle, its newest adopted (issue 13: the
rule is now asked as "no published statement of the circle is newer", an anti-join PostgreSQL
plans well, where it was "the id of the circle's newest"). The same statement must win."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.utils import timezone

from circlework.agreements.models import Agreement, AgreementKind, AgreementVersion
from circlework.agreements.selectors import published_statements, published_statements_page
from tests.agreements import grow


def _adopted(agreement: Agreement, when: Any) -> None:
    AgreementVersion.objects.filter(agreement=agreement).update(adopted_at=when)


def test_the_newest_adopted_statement_of_each_circle_is_shown(federation: Any) -> None:
    one, two, three = grow.circles(federation, 3)
    now = timezone.now()
    older, newer = (grow.agreements([one], kind="ethics", text=f"{w} one.")[0] for w in "AB")
    _adopted(older, now)
    _adopted(newer, now - timedelta(days=3))  # made later, adopted earlier: not the newest
    # Adopted at the same moment: the one made last (the larger id) is the newest.
    tie = [grow.agreements([two], kind="ethics", text=f"{w} two.")[0] for w in "CD"]
    for a in tie:
        _adopted(a, now)
    only = grow.agreements([three], kind="ethics", text="E three.")[0]
    # Neither a members-only statement nor another kind of agreement is on the register.
    _adopted(
        grow.agreements([three], kind="ethics", text="F members only.", visibility="circle")[0], now
    )
    _adopted(grow.agreements([three], kind=AgreementKind.POLICY, text="G a policy.")[0], now)

    shown = published_statements(user=AnonymousUser(), federation_id=federation.pk)
    assert [a.pk for a in shown] == [older.pk, max(a.pk for a in tie), only.pk]
    page = published_statements_page(user=AnonymousUser(), federation_id=federation.pk)
    assert page.count == 3
    assert [s.agreement.pk for s in page.statements] == [a.pk for a in shown]
    body = Client().get(f"/federations/{federation.slug}/ethics/").content.decode()
    assert "A one." in body and "B one." not in body
    assert "D two." in body and "C two." not in body
    assert "E three." in body and "F members" not in body and "G a policy" not in body
