"""Comments on a proposal: added, replied to, edited with every earlier text kept."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.core import audit
from circlework.core.errors import InvalidInput, StaleEdit
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.decisions.models import Comment, CommentRevision, Proposal


@transaction.atomic
def comment_add(
    *,
    actor: Practitioner,
    proposal: Proposal,
    text: str,
    parent: Comment | None = None,
    quote: str = "",
) -> Comment:
    require("decisions.comment", actor, proposal)
    if parent is not None and parent.proposal_id != proposal.pk:
        raise InvalidInput(
            _("You can only reply to a comment on the same proposal."),
            fields={"parent": [_("Not on this proposal.")]},
        )
    if not text.strip():
        raise InvalidInput(
            _("Write something first."), fields={"text": [_("This field is required.")]}
        )
    comment = Comment(
        proposal=proposal,
        author=actor,
        parent=parent,
        quote=quote.strip()[:2000],
        text=text.strip(),
    )
    validate(comment)
    comment.save()
    audit.record(
        actor=actor,
        verb="comment.added",
        target=comment,
        circle=proposal.circle,
        summary=_("Commented on “%(t)s”") % {"t": proposal.title},
    )
    return comment


def comment_revision(comment: Comment) -> int:
    """How many times the comment has been edited: the revision an edit must name."""
    return CommentRevision.objects.filter(comment=comment).count()


@transaction.atomic
def comment_edit(
    *, actor: Practitioner, comment: Comment, text: str, base_revision: int | None = None
) -> Comment:
    """Edit a comment, keeping the text it had. `base_revision` (comment_revision when the edit
    began) refuses an edit made on a text that was edited again meanwhile (StaleEdit)."""
    require("decisions.edit_comment", actor, comment)
    if not text.strip():
        raise InvalidInput(
            _("Write something first."), fields={"text": [_("This field is required.")]}
        )
    comment = (
        Comment.objects.select_for_update(no_key=True)
        .select_related("proposal__circle")
        .get(pk=comment.pk)
    )
    current = comment_revision(comment)
    if base_revision is not None and base_revision != current:
        raise StaleEdit(
            _(
                "The comment was edited again while you were writing. Your text is kept below "
                "and the comment as it now reads above it: send yours again if it should replace it."
            ),
            current=current,
        )
    if text.strip() == comment.text:
        return comment
    CommentRevision.objects.create(comment=comment, text=comment.text)
    comment.text = text.strip()
    comment.edited_at = timezone.now()
    comment.save(update_fields=["text", "edited_at", "updated_at"])
    audit.record(
        actor=actor,
        verb="comment.edited",
        target=comment,
        circle=comment.proposal.circle,
        summary=_("Edited a comment on “%(t)s”") % {"t": comment.proposal.title},
    )
    return comment
