"""The demo shows a living community: an agreement revised through its versions, and every
demo account printed with its part in the story (../shared/DEMO.md)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from circlework.accounts.models import Practitioner
from circlework.agreements.models import Agreement

pytestmark = pytest.mark.django_db


def test_demo_has_an_agreement_with_versions_to_compare() -> None:
    call_command("seed_demo", stdout=StringIO())
    rule = Agreement.objects.get(circle__name="Leeds Wednesday Circle", kind="decision_rule")
    versions = list(rule.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3]
    assert len({v.text for v in versions}) == 3  # each revision changed the text
    # Each version was adopted by a recorded outcome, in order, in the past.
    assert all(v.adopted_by is not None and v.adopted_by.passed for v in versions)
    assert versions[0].adopted_at < versions[1].adopted_at < versions[2].adopted_at
    assert rule.current_version == versions[2]
    # A member compares the first and the last version on the agreement's page.
    client = Client()
    client.force_login(Practitioner.objects.get(user__email="ruth@demo.circlework.org").user)
    page = client.get(f"{rule.get_absolute_url()}?from=1&to=3").content.decode()
    diff = page[page.index('class="diff"') :]
    assert "<del" in diff and "<ins" in diff  # something taken out and something added
    assert "are answered in writing" in diff  # a line only the third version has


def test_seed_demo_prints_every_demo_account_with_its_part() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    lines = {line.split()[0]: line for line in printed.splitlines() if "@demo." in line}
    emails = set(
        Practitioner.objects.filter(user__email__endswith="@demo.circlework.org").values_list(
            "user__email", flat=True
        )
    )
    assert emails and set(lines) == emails  # every demo account, and only those
    assert "password for all: circlework-demo" in printed
    assert "registrar" in lines["esther@demo.circlework.org"]
    assert "federation coordinator" in lines["dev@demo.circlework.org"]
    assert "Leeds Wednesday Circle" in lines["dev@demo.circlework.org"]
    assert "York Riverside Group" in lines["dev@demo.circlework.org"]
    assert "founder of Manchester Forming Circle (forming)" in lines["olu@demo.circlework.org"]
    # Loading again prints the same accounts.
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert {line.split()[0] for line in again.getvalue().splitlines() if "@demo." in line} == emails
