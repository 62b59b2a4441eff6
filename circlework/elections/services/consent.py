"""Consent elections: the change round, changing a nomination, proposing a candidate, and each
elector's consent or objection; when every elector consents the candidate is elected.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from circlework.accounts.models import Practitioner
from circlework.circles.roles import Method
from circlework.core import names
from circlework.core.errors import Conflict
from circlework.core.permissions import require
from circlework.core.services import validate
from circlework.elections import selectors
from circlework.elections.models import (
    ConsentResponse,
    ConsentStance,
    Election,
    ElectionStatus,
    Nomination,
)
from circlework.elections.services.closing import finish
from circlework.elections.services.common import (
    field_error,
    lock_election,
    record,
    require_facilitator,
    tell,
    title,
)
from circlework.elections.services.nominations import check_nominee, given_reason, new_nomination


def _ensure_consent(election: Election) -> None:
    if election.method != Method.CONSENT:
        raise Conflict(_("This is not a consent election."))


@transaction.atomic
def election_change_round(*, actor: Practitioner, election: Election) -> Election:
    """The facilitator closes the nominations round: electors may now change their nomination."""
    require_facilitator(actor=actor, election=election)
    election = lock_election(election)
    _ensure_consent(election)
    if election.status != ElectionStatus.NOMINATING:
        raise Conflict(_("The nominations round is already over."))
    if not election.nominations.filter(is_current=True).exists():
        raise Conflict(_("No one has been nominated yet."))
    election.status = ElectionStatus.CHANGE_ROUND
    election.save(update_fields=["status", "updated_at"])
    record(
        election,
        actor=actor,
        verb="election.change_round",
        summary=names.text(_("%(who)s opened the change round"), who=names.person(actor)),
    )
    tell(
        election,
        selectors.electors(election),
        title=title(election, _("change round")),
        body=_("Having read everyone's reasons, you may change your nomination."),
        exclude=actor.pk,
    )
    return election


@transaction.atomic
def nomination_change(
    *, actor: Practitioner, election: Election, nominee: Practitioner, reason: str
) -> Nomination:
    """In the change round an elector names someone else (or gives a first nomination). The
    earlier nomination stays on the record, no longer current."""
    require("elections.vote", actor, election)
    election = lock_election(election)
    _ensure_consent(election)
    if election.status != ElectionStatus.CHANGE_ROUND:
        raise Conflict(_("Nominations can be changed only in the change round."))
    reason = given_reason(reason)
    previous = election.nominations.filter(nominated_by=actor, is_current=True).first()
    if previous is not None and previous.nominee_id == nominee.pk:
        raise Conflict(_("Your nomination already names this person; to keep it, do nothing."))
    check_nominee(election, nominee)
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    nomination = new_nomination(
        election, actor=actor, nominee=nominee, reason=reason, in_change_round=True
    )
    record(
        election,
        actor=actor,
        verb="election.nomination_change",
        target=nomination,
        summary=names.text(
            _("%(a)s changed their nomination to %(b)s"),
            a=names.person(actor),
            b=names.person(nominee),
        ),
        data={
            "election": election.pk,
            "nominee": nominee.pk,
            "was": previous.nominee_id if previous else None,
        },
    )
    return nomination


@transaction.atomic
def election_propose(
    *, actor: Practitioner, election: Election, candidate: Practitioner
) -> Election:
    """The facilitator proposes a candidate (after the change round, or instead of one who drew
    an objection). Earlier consents and objections stay on the record, no longer current."""
    require_facilitator(actor=actor, election=election)
    election = lock_election(election)
    _ensure_consent(election)
    if election.status not in (ElectionStatus.CHANGE_ROUND, ElectionStatus.CONSENT_ROUND):
        raise Conflict(_("A candidate is proposed after the change round."))
    if election.proposed_id == candidate.pk and election.status == ElectionStatus.CONSENT_ROUND:
        raise Conflict(_("This candidate is already proposed."))
    current = election.nominations.filter(nominee=candidate, is_current=True)
    if not current.exists():
        raise field_error("candidate", _("Propose someone who has been nominated."))
    if not current.filter(accepted=True).exists():
        raise field_error("candidate", _("This nominee has not accepted to stand."))
    check_nominee(election, candidate)
    election.consent_responses.filter(is_current=True).update(is_current=False)
    election.proposed = candidate
    election.status = ElectionStatus.CONSENT_ROUND
    election.save(update_fields=["proposed", "status", "updated_at"])
    record(
        election,
        actor=actor,
        verb="election.propose",
        summary=names.text(
            _("%(a)s proposed %(b)s for %(role)s"),
            a=names.person(actor),
            b=names.person(candidate),
            role=selectors.role_name(election),
        ),
        data={"candidate": candidate.pk},
    )
    tell(
        election,
        selectors.electors(election),
        title=title(election, names.text(_("%(who)s is proposed"), who=names.person(candidate))),
        body=_("Consent, or object with your reasons, on the election's page."),
        exclude=actor.pk,
    )
    return election


@transaction.atomic
def consent_respond(
    *, actor: Practitioner, election: Election, stance: str, reason: str = ""
) -> ConsentResponse:
    """An elector consents to the proposed candidate, or objects with reasons. A later answer
    replaces the earlier (kept, no longer current). When every elector consents, the candidate
    is elected and the mandate granted."""
    require("elections.vote", actor, election)
    election = lock_election(election)
    _ensure_consent(election)
    if election.status != ElectionStatus.CONSENT_ROUND or election.proposed is None:
        raise Conflict(_("No candidate is proposed at the moment."))
    if stance not in ConsentStance.values:
        raise field_error("stance", _("Consent or object."))
    reason = (reason or "").strip()
    if stance == ConsentStance.OBJECT and not reason:
        raise field_error(
            "reason", _("Give your reasons for objecting, so that they can be talked through.")
        )
    candidate = election.proposed
    election.consent_responses.filter(voter=actor, candidate=candidate, is_current=True).update(
        is_current=False
    )
    response = ConsentResponse(
        election=election, candidate=candidate, voter=actor, stance=stance, reason=reason
    )
    validate(response, exclude=["election"])
    response.save()
    record(
        election,
        actor=actor,
        verb="election.consent" if stance == ConsentStance.CONSENT else "election.object",
        target=response,
        summary=names.text(
            _("%(a)s consents to %(b)s")
            if stance == ConsentStance.CONSENT
            else _("%(a)s objects to %(b)s"),
            a=names.person(actor),
            b=names.person(candidate),
        ),
        data={"election": election.pk, "candidate": candidate.pk},
    )
    if stance == ConsentStance.OBJECT:  # to whoever may facilitate now
        tell(
            election,
            Practitioner.objects.filter(pk__in=selectors.facilitation(election).ids).order_by("pk"),
            title=title(election, _("an objection to talk through")),
            body=reason,
            exclude=actor.pk,
        )
    voters = selectors.electorate_ids(election)
    consented = set(
        election.consent_responses.filter(
            candidate=candidate, is_current=True, stance=ConsentStance.CONSENT
        ).values_list("voter_id", flat=True)
    )
    if voters and voters <= consented:
        finish(
            election,
            {
                "method": Method.CONSENT,
                "seats": 1,
                "candidates": [candidate.pk],
                "elected": [candidate.pk],
                "consents": selectors.current_consents(election, candidate.pk),
                "complete": True,
                "note": "",
            },
        )
    return response
