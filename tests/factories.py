"""Builders for test data. They go through the real services so audit events and rules apply."""

from __future__ import annotations

import itertools

from allauth.account.internal.flows.login import record_authentication
from allauth.account.models import EmailAddress
from django.test import Client, RequestFactory

from circlework.accounts import services as account_services
from circlework.accounts.models import Practitioner, User
from circlework.circles import services as circle_services
from circlework.circles.models import Circle, Federation, Invitation

PASSWORD = "a-long-test-password-42"
_seq = itertools.count(1)


def make_practitioner(
    name: str | None = None, email: str | None = None, **profile: object
) -> Practitioner:
    n = next(_seq)
    email = email or f"practitioner{n}@example.org"
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    p = account_services.practitioner_register(user=user, display_name=name or f"Practitioner {n}")
    if profile:
        p = account_services.practitioner_update(actor=p, practitioner=p, changes=profile)
    return p


def make_federation(name: str | None = None) -> Federation:
    return circle_services.federation_create(
        actor=None,
        name=name or f"Federation {next(_seq)}",
        covenant="We stand by each other's work.",
    )


def make_circle(
    founder: Practitioner | None = None,
    federation: Federation | None = None,
    members: list[Practitioner] | tuple[Practitioner, ...] = (),
    **fields: object,
) -> Circle:
    founder = founder or make_practitioner()
    federation = federation or Federation.objects.first() or make_federation()
    circle = circle_services.circle_found(
        actor=founder,
        federation=federation,
        name=str(fields.pop("name", f"Circle {next(_seq)}")),
        purpose=str(fields.pop("purpose", "Peer review and support.")),
        **fields,  # type: ignore[arg-type]
    )
    for member in members:
        add_member(circle, member, inviter=founder)
    return circle


def add_member(
    circle: Circle, practitioner: Practitioner, inviter: Practitioner | None = None
) -> None:
    inviter = inviter or circle.founded_by
    assert inviter is not None
    _inv, secret = circle_services.invitation_create(
        actor=inviter, circle=circle, email=practitioner.user.email
    )
    circle_services.invitation_accept(actor=practitioner, secret=secret)


def make_invitation(
    circle: Circle, email: str = "invitee@example.org", inviter: Practitioner | None = None
) -> tuple[Invitation, str]:
    inviter = inviter or circle.founded_by
    assert inviter is not None
    return circle_services.invitation_create(actor=inviter, circle=circle, email=email)


from datetime import date  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from circlework.mandates.models import Mandate


def grant_mandate(
    role: str,
    holder: Practitioner,
    *,
    circle: Circle | None = None,
    federation: Federation | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    handover_plan: str = "",
) -> Mandate:
    """A live mandate (by default from today for the role's full term) through mandate_grant."""
    from django.utils import timezone

    from circlework.core.dates import add_months
    from circlework.mandates import services as mandate_services

    start = starts_on or timezone.localdate()
    role_obj = mandate_services.role_for(role, circle=circle, federation=federation)
    end = ends_on or add_months(start, role_obj.term_months)
    return mandate_services.mandate_grant(
        role=role,
        holder=holder,
        circle=circle,
        federation=federation,
        starts_on=start,
        ends_on=end,
        handover_plan=handover_plan,
    )


def enable_totp(practitioner: Practitioner) -> str:
    """Give the practitioner an authenticator app (allauth TOTP), as its set-up page would.

    Returns the secret, for computing codes (tests/browser/conftest.py's totp_code).
    """
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret: str = generate_totp_secret()
    TOTP.activate(practitioner.user, secret)
    return secret


def make_federation_validating_by_size(name: str, min_circle_size: int = 2) -> Federation:
    """A federation whose covenant asks no validation links of its circles.

    A circle there is validated (status member) as soon as it has `min_circle_size` current
    members, and forming below that: the links app's own `circle_status_refresh` decides it on
    every join and leave, so a test gets validated and forming circles side by side without
    staging the meetings and decisions that links take.
    """
    return circle_services.federation_create(
        actor=None,
        name=name,
        covenant="We stand by each other's work.",
        covenant_parameters={"links_required": 0, "min_circle_size": min_circle_size},
    )


def sign_in(client: Client, user: User, *, second_factor: bool = False) -> None:
    """Sign the test client in as `user`, with their password and, if asked, an authenticator code.

    allauth's own writer records how the session authenticated (the password, then the code),
    exactly what a real log-in leaves, which circles.two_factor reads. With `second_factor` the
    user needs an authenticator app (`enable_totp`): a second factor without one does not count.
    """
    client.force_login(user)
    session = client.session
    request = RequestFactory().get("/")
    request.session = session
    request.user = user
    record_authentication(request, user, "password", email=user.email)
    if second_factor:
        record_authentication(request, user, "mfa", type="totp")
    session.save()


def validate_circle(circle: Circle, *people: Practitioner) -> Circle:
    """Make the circle validated (status member) now, as the links app records it when the
    circle has its live links: the status, its date and the audit event of
    `links.services.circle_status_refresh`, without staging the links themselves.

    The links app re-reads the status on the circle's next join or leave (and, in a federation
    that asks for links, sets it back to forming): call this after the members have joined, or
    use `make_federation_validating_by_size`. A practitioner's audience is kept on their user
    object, as in a request: pass the practitioner objects the test goes on using, so that they
    count as the federation at once.
    """
    from django.utils import timezone

    from circlework.circles.models import CircleStatus
    from circlework.core import audit
    from circlework.core.visibility import forget_audience

    before = circle.status
    circle.status, circle.status_changed_at = CircleStatus.MEMBER, timezone.now()
    Circle.objects.filter(pk=circle.pk).update(
        status=circle.status, status_changed_at=circle.status_changed_at
    )
    if before != circle.status:
        audit.record(
            actor=None,
            verb="circle.status_changed",
            target=circle,
            circle=circle,
            summary=f"{circle.name} is validated",
            data={"from": before, "to": circle.status},
        )
    for person in people:
        forget_audience(person.user)
    return circle
