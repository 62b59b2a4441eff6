"""Writes for federations, circles, memberships and invitations. Atomic, checked, audited."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from circlework.accounts import names as display_names
from circlework.accounts.models import Practitioner
from circlework.accounts.selectors import has_two_factor
from circlework.accounts.services import hash_token
from circlework.circles.announcements import (
    CircleChanged,
    MembershipEnded,
    announce_circle_changed,
    announce_membership_ended,
)
from circlework.circles.covenant import (
    covenant_parameters_check,
    current_covenant,
    federation_members,
)
from circlework.circles.invitations import TWO_FACTOR_INVITATION_NOTE
from circlework.circles.invitations import invitation_link as invitation_link
from circlework.circles.models import (
    Circle,
    CovenantVersion,
    Federation,
    Invitation,
    InvitationStatus,
    Membership,
)
from circlework.circles.selectors import current_members
from circlework.circles.tasks import send_invitation_email
from circlework.core import audit, names
from circlework.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from circlework.core.permissions import allowed, require
from circlework.core.services import validate
from circlework.core.visibility import circle_audience, forget_audience, names_for
from circlework.notifications.models import NotificationKind
from circlework.notifications.services import Notice, notify, notify_each, notify_many

RESERVED_SLUGS = frozenset({"new"})  # path words under /circles/


def _unique_slug(model: type[Circle] | type[Federation], name: str) -> str:
    base = slugify(name)[:60] or "circle"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def federation_create(
    *,
    actor: Practitioner | None,
    name: str,
    covenant: str,
    description: str = "",
    covenant_parameters: Mapping[str, Any] | None = None,
    min_circle_size: int | None = None,
) -> Federation:
    """Operators create federations (management command / seed); there is no federation owner.

    The covenant comes as version 1, with the rules its parameters set (see circles.covenant;
    `min_circle_size` is a shorthand for that one parameter). Later versions only come through
    a federation proposal the circles agree (covenant_adopt).
    """
    params = dict(covenant_parameters or {})
    if min_circle_size is not None:
        params.setdefault("min_circle_size", min_circle_size)
    clean = covenant_parameters_check(params)
    federation = Federation(
        name=name.strip(),
        slug=_unique_slug(Federation, name),
        covenant=covenant.strip(),
        description=description,
    )
    validate(federation)
    federation.save()
    version = CovenantVersion(federation=federation, number=1, text=federation.covenant)
    version.parameters = clean
    validate(version)
    version.save()
    audit.record(
        actor=actor,
        verb="federation.created",
        target=federation,
        federation=federation,
        summary=_("Federation created: %(n)s") % {"n": federation.name},
        data={"covenant_parameters": clean},
    )
    return federation


@transaction.atomic
def circle_found(
    *,
    actor: Practitioner,
    federation: Federation,
    name: str,
    purpose: str,
    locality: str = "",
    meeting_pattern: str = "",
    open_to_new_members: bool = True,
    visibility: str = "public",
) -> Circle:
    """Any practitioner may found a circle; the founder is its first member."""
    require("circles.add_circle", actor)
    circle = Circle(
        federation=federation,
        name=name.strip(),
        slug=_unique_slug(Circle, name),
        purpose=purpose.strip(),
        locality=locality.strip(),
        meeting_pattern=meeting_pattern.strip(),
        open_to_new_members=open_to_new_members,
        visibility=visibility,
        founded_by=actor,
    )
    if visibility == "private":
        raise InvalidInput(
            _("A circle cannot be private."),
            fields={"visibility": [_("Choose circle, federation or public.")]},
        )
    _check_name_free(circle)
    validate(circle)
    _save_unique(circle)
    Membership.objects.create(circle=circle, practitioner=actor)
    forget_audience(actor.user)
    audit.record(
        actor=actor,
        verb="circle.founded",
        target=circle,
        circle=circle,
        summary=_("Founded the circle %(n)s") % {"n": circle.name},
    )
    return circle


def _name_taken() -> InvalidInput:
    message = _("A circle with this name already exists in the federation.")
    return InvalidInput(message, fields={"name": [message]})


def _check_name_free(circle: Circle) -> None:
    clash = Circle.objects.filter(federation_id=circle.federation_id, name__iexact=circle.name)
    if clash.exclude(pk=circle.pk).exists():
        raise _name_taken()


def _save_unique(circle: Circle, update_fields: list[str] | None = None) -> None:
    """Save; a concurrent request that took the same name meanwhile gets the same clear error."""
    try:
        with transaction.atomic():
            circle.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise _name_taken() from exc


CIRCLE_EDITABLE = frozenset(
    [
        "name",
        "purpose",
        "locality",
        "meeting_pattern",
        "open_to_new_members",
        "visibility",
        "requires_two_factor",
    ]
)


@transaction.atomic
def circle_update(*, actor: Practitioner, circle: Circle, changes: Mapping[str, Any]) -> Circle:
    require("circles.change_circle", actor, circle)
    unknown = set(changes) - CIRCLE_EDITABLE
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed here."),
            fields={k: [_("Unknown field.")] for k in sorted(unknown)},
        )
    if changes.get("visibility") == "private":
        raise InvalidInput(
            _("A circle cannot be private."),
            fields={"visibility": [_("Choose circle, federation or public.")]},
        )
    circle = Circle.objects.select_for_update(of=("self",), no_key=True).get(pk=circle.pk)
    changed = []
    for key, value in changes.items():
        value = value.strip() if isinstance(value, str) else value
        if getattr(circle, key) != value:
            setattr(circle, key, value)
            changed.append(key)
    if not changed:
        return circle
    if "requires_two_factor" in changed and circle.requires_two_factor:
        _check_can_require_two_factor(actor)
    _check_name_free(circle)
    validate(circle)
    _save_unique(circle, update_fields=[*changed, "updated_at"])
    audit.record(
        actor=actor,
        verb="circle.updated",
        target=circle,
        circle=circle,
        summary=_("Changed the circle's %(f)s") % {"f": ", ".join(changed)},
        data={"fields": changed},
    )
    fields = ", ".join(changed)
    two_factor_news = ""
    if "requires_two_factor" in changed:
        two_factor_news = (
            _("Members must now use two-factor authentication to open the circle's pages.")
            if circle.requires_two_factor
            else _("Two-factor authentication is no longer required of the circle's members.")
        )
    title = _("%(c)s's details changed") % {"c": circle.name}
    notices = []
    for member in current_members(circle=circle, exclude=[actor.pk]):
        extra = two_factor_news
        if circle.requires_two_factor and two_factor_news and not has_two_factor(member.user):
            extra += " " + _(
                "You have not set it up yet: do so under Account → Two-factor authentication "
                "before you next open the circle."
            )
        body = names.text(
            _("%(a)s changed: %(f)s.") + (" %(x)s" if extra else ""),
            a=names.person(actor),
            f=fields,
            x=extra.strip(),
        )
        notices.append(Notice(member, title, body))
    notify_each(notices, circle=circle, kind=NotificationKind.CIRCLE, url=circle.get_absolute_url())
    return circle


def _check_can_require_two_factor(actor: Practitioner) -> None:
    """Only a member who uses 2FA may require it, so that no one locks the circle out by accident."""
    if not has_two_factor(actor.user):
        message = _(
            "Set up two-factor authentication for your own account before requiring it of the "
            "circle's members."
        )
        raise InvalidInput(message, fields={"requires_two_factor": [message]})


@transaction.atomic
def invitation_create(
    *, actor: Practitioner, circle: Circle, email: str, message: str = "", base_url: str = ""
) -> tuple[Invitation, str]:
    """Invite someone by e-mail. Returns the invitation and its link secret (sent in the e-mail only)."""
    require("circles.invite", actor, circle)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(
            _("Enter a valid e-mail address."),
            fields={"email": [_("Enter a valid e-mail address.")]},
        ) from exc
    if (
        Membership.objects.current()
        .filter(circle=circle, practitioner__user__email__iexact=email)
        .exists()
    ):
        raise InvalidInput(
            _("%(e)s is already a member of this circle.") % {"e": email},
            fields={"email": [_("Already a member.")]},
        )
    existing = (
        Invitation.objects.select_for_update(of=("self",), no_key=True)
        .filter(circle=circle, email=email, status=InvitationStatus.PENDING)
        .first()
    )
    if existing is not None:
        if not existing.is_expired:
            raise Conflict(
                _("%(e)s already has an open invitation. Revoke it first to send a new one.")
                % {"e": email},
                fields={"email": [_("Already invited.")]},
            )
        # An expired pending invitation gives way to the new one.
        existing.status = InvitationStatus.REVOKED
        existing.save(update_fields=["status", "updated_at"])
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(
        circle=circle,
        email=email,
        invited_by=actor,
        message=message.strip(),
        token_hash=hash_token(secret),
        mail_secret=secret,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_LIFETIME_DAYS),
    )
    validate(invitation)
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError as exc:
        raise Conflict(
            _("%(e)s already has an open invitation.") % {"e": email},
            fields={"email": [_("Already invited.")]},
        ) from exc
    audit.record(
        actor=actor,
        verb="invitation.created",
        target=invitation,
        circle=circle,
        # Never the address: the audit history outlives the invitee's account, and cannot be
        # edited when they delete it. The circle's invitations page shows it, from the row.
        summary=_("Sent an invitation by e-mail"),
    )
    # The task gets the id only and reads the address, message and secret from the row.
    send_invitation_email.enqueue(invitation.pk, base_url)
    invitee = Practitioner.objects.filter(user__email__iexact=email).first()
    if invitee is not None:
        notify(
            recipient=invitee,
            kind=NotificationKind.INVITATION,
            title=_("You are invited to join %(c)s") % {"c": circle.name},
            body=names.text(
                _("From %(a)s. The link to accept or decline is in the e-mail we sent you."),
                a=names.person(actor),
            ),
            url=reverse("home"),
            email=False,
        )
    return invitation, secret


def invitation_for_secret(secret: str) -> Invitation:
    try:
        return Invitation.objects.select_related("circle", "circle__federation", "invited_by").get(
            token_hash=hash_token(secret)
        )
    except Invitation.DoesNotExist as exc:
        raise NotFound(_("This invitation link is not valid.")) from exc


def _check_open(invitation: Invitation) -> None:
    if invitation.status == InvitationStatus.REVOKED:
        raise Conflict(_("This invitation was withdrawn."))
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(_("This invitation has already been used."))
    if invitation.is_expired:
        raise Conflict(_("This invitation has expired. Ask the circle for a new one."))


def _record_answer(invitation: Invitation, status: str, actor: Practitioner | None) -> None:
    """Record the invitee's answer. The address and the personal message have done their work:
    they are not kept (an accepted invitee is named by the name rule from then on, and someone
    who declined is not a member whose address the circle should keep), and a mail still
    waiting has nothing left to offer."""
    invitation.status = status
    invitation.responded_at = timezone.now()
    invitation.responded_by = actor
    invitation.save(update_fields=["status", "responded_at", "responded_by", *_forget(invitation)])


def _forget(invitation: Invitation) -> list[str]:
    """Empty what names or reaches the invitee (address, personal message, unsent link secret);
    the fields to save."""
    invitation.email = invitation.message = invitation.mail_secret = ""
    return ["email", "message", "mail_secret", "updated_at"]


INVITATION_FOR_SOMEONE_ELSE = _lazy(
    "This invitation was sent to a different e-mail address. Sign in with that address to "
    "answer it."
)


def _answerable(
    *, actor: Practitioner | None, secret: str, invitation: Invitation | None
) -> Invitation:
    """The invitation, locked, once it is open and `actor` is the one who may answer it (the
    same rule for accept and decline). Found by the link's secret, or given: a page that found
    it by the secret earlier in the same session (circles.invitation_session)."""
    found = invitation if invitation is not None else invitation_for_secret(secret)
    locked = (
        Invitation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("circle", "invited_by")
        .get(pk=found.pk)
    )
    _check_open(locked)
    user = actor.user if actor is not None else AnonymousUser()
    if not allowed("circles.answer_invitation", user, locked):
        raise NotAllowed(str(INVITATION_FOR_SOMEONE_ELSE))
    return locked


@transaction.atomic
def invitation_accept(
    *, actor: Practitioner, secret: str = "", invitation: Invitation | None = None
) -> Membership:
    invitation = _answerable(actor=actor, secret=secret, invitation=invitation)
    circle = invitation.circle
    if Membership.objects.current().filter(circle=circle, practitioner=actor).exists():
        raise Conflict(_("You are already a member of %(c)s.") % {"c": circle.name})
    if circle.requires_two_factor and not has_two_factor(actor.user):
        raise NotAllowed(str(TWO_FACTOR_INVITATION_NOTE))
    # The display-name rule (accounts/names.py): members must be able to tell one another apart
    # by the names they are shown (a name kept from the circle misleads nobody, and comparing
    # with it would let a newcomer test guesses at it).
    shown = names_for(circle_audience(circle), list(current_members(circle=circle)), hidden="")
    if display_names.copies_a_name(actor.display_name, [n for n in shown.values() if n]):
        msg = _(
            "Someone in %(c)s is already shown by the same name as you. Change how your name is "
            "shown on your profile so the members can tell you apart, then accept."
        ) % {"c": circle.name}
        raise InvalidInput(msg, fields={"display_name": [msg]})
    _record_answer(invitation, InvitationStatus.ACCEPTED, actor)
    membership = Membership.objects.create(circle=circle, practitioner=actor)
    forget_audience(actor.user)
    audit.record(
        actor=actor,
        verb="membership.joined",
        target=membership,
        circle=circle,
        summary=_("Joined the circle"),
    )
    notify_many(
        current_members(circle=circle, exclude=[actor.pk]),
        circle=circle,
        kind=NotificationKind.MEMBERSHIP,
        title=names.text(_("%(p)s joined %(c)s"), p=names.person(actor), c=circle.name),
        url=circle.get_absolute_url(),
    )
    # It may now have the members it needs.
    announce_circle_changed(CircleChanged(circle, actor, cause=""))
    return membership


@transaction.atomic
def invitation_decline(
    *, actor: Practitioner | None, secret: str = "", invitation: Invitation | None = None
) -> Invitation:
    """Only the invitee declines, as only they accept: a forwarded link answers for nobody."""
    invitation = _answerable(actor=actor, secret=secret, invitation=invitation)
    _record_answer(invitation, InvitationStatus.DECLINED, actor)
    audit.record(
        actor=actor,
        verb="invitation.declined",
        target=invitation,
        circle=invitation.circle,
        summary=_("An invitation was declined"),
    )
    if invitation.invited_by is not None:
        notify(
            recipient=invitation.invited_by,
            circle=invitation.circle,
            kind=NotificationKind.INVITATION_ANSWERED,
            title=_("An invitation you sent to join %(c)s was declined")
            % {"c": invitation.circle.name},
            url=invitation.circle.get_absolute_url(),
        )
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: Practitioner, invitation: Invitation) -> Invitation:
    require("circles.revoke_invitation", actor, invitation)
    invitation = Invitation.objects.select_for_update(of=("self",), no_key=True).get(
        pk=invitation.pk
    )
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(_("Only a pending invitation can be revoked."))
    invitation.status = InvitationStatus.REVOKED
    invitation.responded_at = timezone.now()
    # Never answered: nothing need name the person any longer (nor fill in a sign-up form).
    invitation.save(update_fields=["status", "responded_at", *_forget(invitation)])
    audit.record(
        actor=actor,
        verb="invitation.revoked",
        target=invitation,
        circle=invitation.circle,
        summary=_("Revoked an invitation"),
    )
    return invitation


@transaction.atomic
def membership_leave(*, actor: Practitioner, circle: Circle) -> Membership:
    """A member may leave at any time; the membership row keeps the dates."""
    require("circles.leave", actor, circle)
    membership = (
        Membership.objects.select_for_update(of=("self",), no_key=True)
        .current()
        .filter(circle=circle, practitioner=actor)
        .first()
    )
    if membership is None:
        raise Conflict(_("You are not a member of this circle."))
    membership.left_at = timezone.now()
    membership.save(update_fields=["left_at"])
    announce_membership_ended(MembershipEnded(actor, circle, actor))
    forget_audience(actor.user)
    audit.record(
        actor=actor,
        verb="membership.left",
        target=membership,
        circle=circle,
        summary=_("Left the circle"),
    )
    notify_many(
        current_members(circle=circle, exclude=[actor.pk]),
        circle=circle,
        kind=NotificationKind.MEMBERSHIP,
        title=names.text(_("%(p)s left %(c)s"), p=names.person(actor), c=circle.name),
        url=circle.get_absolute_url(),
    )
    announce_circle_changed(CircleChanged(circle, actor, cause=_("a member left")))
    return membership


def practitioner_withdraw_everywhere(*, actor: Practitioner) -> None:
    """On account deletion: end memberships, revoke pending invitations this person sent."""
    for membership in (
        Membership.objects.select_for_update(of=("self",), no_key=True)
        .current()
        .filter(practitioner=actor)
        .select_related("circle")
    ):
        membership.left_at = timezone.now()
        membership.save(update_fields=["left_at"])
        announce_membership_ended(MembershipEnded(actor, membership.circle, actor))
        audit.record(
            actor=actor,
            verb="membership.left",
            target=membership,
            circle=membership.circle,
            summary=_("Left the circle (account deleted)"),
        )
        announce_circle_changed(CircleChanged(membership.circle, None, cause=_("a member left")))
    for invitation in (
        Invitation.objects.select_for_update(of=("self",), no_key=True)
        .filter(invited_by=actor, status=InvitationStatus.PENDING)
        .select_related("circle")
    ):
        invitation.status = InvitationStatus.REVOKED
        invitation.responded_at = timezone.now()
        invitation.mail_secret = ""
        invitation.save(update_fields=["status", "responded_at", "mail_secret", "updated_at"])
        audit.record(
            actor=actor,
            verb="invitation.revoked",
            target=invitation,
            circle=invitation.circle,
            summary=_("Invitation withdrawn (account deleted)"),
        )


def invitations_erase_address(*, actor: Practitioner, emails: Collection[str]) -> int:
    """On account deletion: the invitations sent to this person's addresses (each they have
    used) or answered by them stay in their circles' records (that someone was invited, by
    whom, when, and the answer) without the address. A pending one is withdrawn; the address,
    the personal message written to them and any unsent link secret are emptied. Returns how
    many invitations were erased."""
    sent_to = Q(responded_by=actor)
    for email in emails:
        sent_to |= Q(email__iexact=email)
    erased = 0
    for invitation in (
        Invitation.objects.select_for_update(of=("self",), no_key=True)
        .filter(sent_to)
        .select_related("circle")
    ):
        fields = _forget(invitation)
        if invitation.status == InvitationStatus.PENDING:
            invitation.status = InvitationStatus.REVOKED
            invitation.responded_at = timezone.now()
            fields += ["status", "responded_at"]
            audit.record(
                actor=actor,
                verb="invitation.revoked",
                target=invitation,
                circle=invitation.circle,
                summary=_("Invitation withdrawn (account deleted)"),
            )
        invitation.save(update_fields=fields)
        erased += 1
    return erased


@transaction.atomic
def covenant_adopt(*, federation_proposal: Any) -> CovenantVersion:
    """A federation proposal that revises the covenant passed: its text and rules become the
    next covenant version. Called inside federation_proposal_close; idempotent per proposal."""
    fp = federation_proposal
    existing = CovenantVersion.objects.filter(adopted_by=fp).first()
    if existing is not None:
        return existing
    if not fp.passed:
        raise Conflict(_("Only a federation proposal the circles agreed can change the covenant."))
    if not fp.covenant_text.strip():
        raise Conflict(_("This federation proposal does not revise the covenant."))
    federation = Federation.objects.select_for_update(of=("self",), no_key=True).get(
        pk=fp.federation_id
    )
    current = current_covenant(federation)
    parameters = covenant_parameters_check(
        fp.covenant_parameters or (current.parameters if current else {})
    )
    version = CovenantVersion.objects.create(
        federation=federation,
        number=(current.number if current else 0) + 1,
        text=fp.covenant_text.strip(),
        parameters=parameters,
        adopted_by=fp,
        adopted_at=fp.decided_at or timezone.now(),
    )
    federation.covenant = version.text
    federation.save(update_fields=["covenant", "updated_at"])
    audit.record(
        actor=None,
        verb="covenant.adopted",
        target=version,
        federation=federation,
        summary=_("The covenant is now version %(n)s, agreed through “%(t)s”")
        % {"n": version.number, "t": fp.title},
        data={"parameters": parameters},
    )
    members = Practitioner.objects.filter(
        memberships__circle__federation=federation, memberships__left_at__isnull=True
    ).distinct()
    # Everyone in the federation's circles is told (the covenant is public and binds forming
    # circles too); only the federation itself reads which of its decisions agreed it.
    the_federation = set(federation_members(federation).values_list("pk", flat=True))
    url = reverse("agreements:covenant", kwargs={"slug": federation.slug})
    title = _("%(f)s has a new covenant: version %(n)s") % {
        "f": federation.name,
        "n": version.number,
    }
    inside = _("Agreed by the circles through “%(t)s”. See what changed.") % {"t": fp.title}
    outside = _("Agreed by the federation's circles. See what changed.")
    notify_each(
        (
            Notice(member, title, inside if member.pk in the_federation else outside)
            for member in members
        ),
        federation=federation,
        kind=NotificationKind.COVENANT,
        url=url,
    )
    # New rules (links needed, minimum size) take effect at once, on the public register too.
    for circle in Circle.objects.filter(federation=federation).order_by("name"):
        announce_circle_changed(CircleChanged(circle, None, cause=_("the covenant changed")))
    return version
