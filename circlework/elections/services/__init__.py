"""Writes for elections: open, nominate, answer, the consent rounds, ballots, the close, cancel.

Each is atomic, checked by the rules, validated, audited and tells the people concerned. The
election row is locked for every change to it, so a ballot, a consent or the close cannot race.
Secret ballots: the `Ballot` row carries the choices and nothing that ties it to its voter; the
`BallotCast` row (one per voter, a database constraint) records who voted, and each cast rewrites
the election's ballots in content order so that storage order ties no ballot to a voter (see
models.Ballot for what this secrecy holds against). Audit events name who voted, never what they
chose. The count (counting.py, stvpoll) is stored with its rounds and can be recomputed by
`selectors.recount` from the stored ballots and the ballot paper fixed when voting opened.
Facilitating is asked at each act (`require_facilitator`): a live mandate, or the opener while
no one holds one.

One module per use case; every public name is re-exported here, so `services.election_open`
keeps working. Reads (the count, the recount, who may vote) are in selectors.

- opening: open an election for a role, with its method, seats, times and term
- nominations: nominate, and the nominee's answer
- consent: the change round, changed nominations, the proposed candidate, consents and objections
- ballots: cast a ranked or approval ballot (secret ballots kept in content order)
- closing: voting opens, the count when voting closes, mandates granted; cancelling
- common: what they share (the lock, telling, recording, the texts, who may facilitate)
"""

from circlework.elections.services.ballots import ballot_cast
from circlework.elections.services.closing import election_advance, election_cancel
from circlework.elections.services.common import FACILITATE, require_facilitator
from circlework.elections.services.consent import (
    consent_respond,
    election_change_round,
    election_propose,
    nomination_change,
)
from circlework.elections.services.nominations import nomination_add, nomination_answer
from circlework.elections.services.opening import MAX_SEATS, election_open

__all__ = [
    "FACILITATE",
    "MAX_SEATS",
    "ballot_cast",
    "consent_respond",
    "election_advance",
    "election_cancel",
    "election_change_round",
    "election_open",
    "election_propose",
    "nomination_add",
    "nomination_answer",
    "nomination_change",
    "require_facilitator",
]
