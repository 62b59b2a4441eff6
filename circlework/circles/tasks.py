"""Background work for circles: the invitation e-mail.

The task is given the invitation's id (and the site's address for the link), never the e-mail
itself: the address, the personal message and the link's secret stay in the invitation row
(the message and the secret encrypted) and are read here, so the task table holds nothing that
names the invitee or opens the invitation. Idempotent: the secret is emptied once the e-mail has
gone out, and a second run finds nothing to send.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from circlework.circles.invitations import TWO_FACTOR_INVITATION_NOTE, invitation_link
from circlework.circles.models import Invitation
from circlework.core.visibility import ANONYMOUS, name_for


@task()
def send_invitation_email(invitation_id: int, base_url: str = "") -> bool:
    """Send the invitation e-mail. Returns whether one went out."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",), no_key=True)
            .select_related("circle__federation", "invited_by")
            .filter(pk=invitation_id)
            .exclude(mail_secret="")
            .first()
        )
        if invitation is None:
            return False  # already sent, or erased
        secret = invitation.mail_secret
        invitation.mail_secret = ""
        invitation.save(update_fields=["mail_secret"])
        if not invitation.is_open:
            return False  # revoked (or expired) before the e-mail went out: keep nothing
        circle = invitation.circle
        inviter = invitation.invited_by
        body = _(
            "%(a)s invites you to join %(c)s, a peer circle in %(f)s on Circlework.\n\n%(m)s"
            "Accept or decline here (the link works once and expires on %(d)s):\n%(l)s\n"
        ) % {
            # Whoever holds the link reads it: the inviter's name as far as the public may see
            # it (the one name rule, as on the invitation's page).
            "a": name_for(ANONYMOUS, inviter, hidden=_("A member"))
            if inviter is not None
            else _("A member"),
            "c": circle.name,
            "f": circle.federation.name,
            "m": (invitation.message + "\n\n") if invitation.message else "",
            "d": f"{invitation.expires_at:%d %B %Y}",
            "l": (base_url or settings.SITE_URL.rstrip("/")) + invitation_link(secret),
        }
        if circle.requires_two_factor:
            body += "\n" + TWO_FACTOR_INVITATION_NOTE + "\n"
        subject = _("An invitation to join %(c)s") % {"c": circle.name}
        to = invitation.email
    # Sent after the commit, so no lock waits on the mail server (SQLite locks the whole
    # database for a write). If sending fails, the secret is put back for the retry, unless the
    # invitation was answered, revoked or erased meanwhile.
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception:
        with transaction.atomic():
            again = (
                Invitation.objects.select_for_update(of=("self",), no_key=True)
                .filter(pk=invitation_id, email=to)
                .first()
            )
            if again is not None and again.is_open and not again.mail_secret:
                again.mail_secret = secret
                again.save(update_fields=["mail_secret"])
        raise
    return True
