"""A profile or credential document hidden from you answers exactly as one that does not exist
(issue 10, finding 11): otherwise its status or page would tell a stranger that it is there."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from circlework.accounts import services
from circlework.accounts.models import Credential, Practitioner
from circlework.circles.models import Circle
from tests import factories
from tests.api.helpers import url

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"
NO_SUCH_ID = 987654


def _answer(client: Client, path: str) -> tuple[int, str, bytes]:
    response = client.get(path)
    # The masked CSRF token in the page's layout differs on every response, hidden or not.
    body = re.sub(rb'"X-CSRFToken": "[^"]*"', b"", response.content)
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", body)
    return response.status_code, response["Content-Type"], body


def _clients(outsider: Practitioner) -> list[Client]:
    signed_in = Client()
    signed_in.force_login(outsider.user)
    return [Client(), signed_in]


@pytest.fixture
def hidden(circle: Circle, practitioner: Practitioner) -> Practitioner:
    quiet = factories.make_practitioner("Quinn Quiet", display_name_visibility="circle")
    factories.add_member(circle, quiet)
    return quiet


def _credential(owner: Practitioner, visibility: str, document: bool = True) -> Credential:
    return services.credential_add(
        actor=owner,
        title="Diploma",
        issuer="Institute",
        year=2012,
        visibility=visibility,
        document=SimpleUploadedFile("d.pdf", PDF) if document else None,
    )


def test_a_hidden_profile_answers_as_a_missing_one(hidden: Practitioner) -> None:
    for client in _clients(factories.make_practitioner()):
        missing = _answer(client, f"/practitioners/{NO_SUCH_ID}/")
        assert missing[0] == 404
        assert _answer(client, f"/practitioners/{hidden.pk}/") == missing


def test_a_hidden_profile_answers_as_a_missing_one_in_the_api(hidden: Practitioner) -> None:
    for client in _clients(factories.make_practitioner()):
        missing = _answer(client, url(f"/practitioners/{NO_SUCH_ID}"))
        assert missing[0] == 404
        assert _answer(client, url(f"/practitioners/{hidden.pk}")) == missing


@pytest.mark.parametrize("visibility", ["private", "circle", "federation"])
def test_a_hidden_document_answers_as_a_missing_one(hidden: Practitioner, visibility: str) -> None:
    credential = _credential(hidden, visibility)
    without_document = _credential(hidden, "public", document=False)
    for client in _clients(factories.make_practitioner()):
        missing = _answer(client, f"/credentials/{NO_SUCH_ID}/document/")
        assert missing[0] == 404
        assert _answer(client, f"/credentials/{credential.pk}/document/") == missing
        assert _answer(client, f"/credentials/{without_document.pk}/document/") == missing


def test_those_who_may_see_still_see(hidden: Practitioner, practitioner: Practitioner) -> None:
    credential = _credential(hidden, "circle")
    client = Client()
    client.force_login(practitioner.user)
    assert client.get(f"/practitioners/{hidden.pk}/").status_code == 200
    response: Any = client.get(f"/credentials/{credential.pk}/document/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


@pytest.mark.django_db
def test_editing_someone_elses_credential_answers_as_if_it_did_not_exist() -> None:
    owner = factories.make_practitioner("Owner")
    credential = services.credential_add(
        actor=owner, title="Diploma", issuer="Institute", year=2010, visibility="public"
    )
    client = Client()
    client.force_login(factories.make_practitioner("Someone").user)
    other = client.get(f"/me/credentials/{credential.pk}/")
    missing = client.get(f"/me/credentials/{credential.pk + 1000}/")
    assert other.status_code == missing.status_code == 404
