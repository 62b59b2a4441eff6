"""Process templates: a start for each way of deciding (pre-filled text and a usual duration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ProcessTemplate:
    key: str
    name: str
    guidance: str
    skeleton: str
    duration: timedelta


TEMPLATES = {
    t.key: t
    for t in [
        ProcessTemplate(
            "consent",
            str(_("Consent")),
            str(
                _(
                    "Good enough for now, safe enough to try: it passes unless someone blocks, and every voice is heard."
                )
            ),
            "## What I propose\n\n\n## Why now\n\n\n## How we will know it works (and when we review it)\n\n",
            timedelta(days=7),
        ),
        ProcessTemplate(
            "consensus",
            str(_("Consensus")),
            str(
                _(
                    "We look for a proposal everyone can agree to; concerns are worked into amendments until they are met."
                )
            ),
            "## What I propose\n\n\n## What I have heard so far\n\n\n## Questions I would like us to settle\n\n",
            timedelta(days=10),
        ),
        ProcessTemplate(
            "advice",
            str(_("Advice process")),
            str(
                _(
                    "You decide, after asking everyone affected and anyone with expertise. Their advice is recorded with your decision."
                )
            ),
            "## The decision I intend to make\n\n\n## Who is affected, and whose advice I am asking\n\n\n## What I will decide by\n\n",
            timedelta(days=5),
        ),
        ProcessTemplate(
            "gradients",
            str(_("Gradients of agreement")),
            str(
                _(
                    "A temperature check: everyone places themselves from wholehearted agreement to block, so the strength of support is visible before deciding."
                )
            ),
            "## The proposal\n\n\n## Please say where you stand and why\n\nAgree · agree with concerns · disagree (but will go along) · stand aside · block\n",
            timedelta(days=5),
        ),
        ProcessTemplate(
            "question_round",
            str(_("Question round")),
            str(
                _(
                    "First a round of clarifying questions in the discussion, then positions once the proposal is understood."
                )
            ),
            "## The proposal\n\n\n## Questions so far (add yours in the discussion)\n\n",
            timedelta(days=7),
        ),
    ]
}
