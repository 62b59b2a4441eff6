"""The pure choices of seed_scale: how many of each record, sizes, names and texts.

No database and no Django here: everything is a function of the numbers given and a
`random.Random` seeded by the command, so the same arguments give the same plan.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# How `--records` is spread over the kinds of activity (relative weights). Notifications and
# positions are the biggest, as in a living federation; proposals are as many as carry the
# positions, and audit events come with the writes they record (see PLANNED_SHARE).
WEIGHTS: dict[str, float] = {
    "notifications": 0.34,
    "positions": 0.20,
    "comments": 0.05,
    "agreement_versions": 0.015,
    "poll_answers": 0.05,
    "polls": 0.008,
    "standing": 0.05,
    "ethics_comments": 0.01,
    "links": 0.008,
    "elections": 0.004,
    "federation_proposals": 0.002,
}
# The writes above bring their audit events, outcomes, versions and inbox rows with them: this
# share of `--records` is planned so that everything made adds up to about `--records`.
PLANNED_SHARE = 0.32
MAX_FEDERATION_PROPOSALS = 40

FIRST_NAMES = _words(
    "Aisha Alex Amal Ana Anders Ben Bea Carla Chen Chidi Cora Dan Dara Eli Elif Emma Erin "
    "Ewan Farah Felix Finn Gita Hana Hugo Ida Imran Isla Jae Jana Jonas Kai Kemi Lars Lea "
    "Leon Lina Luca Maya Mei Milo Nadia Nell Noor Omar Orla Pia Priya Quinn Rafa Rosa "
    "Sana Sean Sofia Tariq Tess Uma Vera Wen Yara Yusuf Zara Zoe"
)
LAST_NAMES = _words(
    "Abbott Ahmed Akhtar Barker Begum Bell Brennan Carter Chowdhury Clarke Cohen Dale "
    "Dawson Doyle Duffy Ellis Evans Farrow Fischer Foster Gallagher Garcia Gill Grant "
    "Hale Hussain Iqbal Jensen Kaur Kelly Khan Larsen Lowe Malik Mason Mills Moreno "
    "Murphy Nash Novak Nowak Obi Osei Owen Park Patel Quinn Rahman Reid Rossi Shah Singh "
    "Sutton Taylor Varga Walsh Ward Webb Wong Yates Young"
)
TOWNS = _words(
    "Leeds Bradford Halifax Huddersfield Wakefield Harrogate York Hull Scarborough Whitby "
    "Sheffield Rotherham Doncaster Barnsley Lincoln Durham Sunderland Newcastle Gateshead "
    "Carlisle Kendal Lancaster Preston Blackburn Burnley Bolton Wigan Manchester "
    "Stockport Oldham Salford Chester Warrington Liverpool Southport Skipton Ripon Otley "
    "Ilkley Keighley"
)
MODALITIES = (
    "person-centred",
    "gestalt",
    "psychodynamic",
    "integrative",
    "CBT",
    "transactional analysis",
    "existential",
    "systemic",
    "body psychotherapy",
    "art therapy",
    "dramatherapy",
    "coaching",
    "focusing",
    "narrative",
    "mindfulness-based",
    "ecotherapy",
    "co-counselling",
)
LANGUAGES = ("English", "Welsh", "Polish", "Urdu", "Punjabi", "French", "Spanish", "German")
CIRCLE_WORDS = _words(
    "Riverside Hillside Moorland Dales Valley Canal Harbour Northgate Southgate Eastfield "
    "Westfield Market Abbey Bridge Meadow Heath Pennine Fellside Beck Mill Quarry Orchard"
)
CIRCLE_KINDS = ("Circle", "Peer Circle", "Group", "Review Circle", "Practice Circle")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

TOPICS = (
    "our supervision contract",
    "how we welcome new members",
    "a peer review audit day in spring",
    "confidentiality when we write up cases",
    "fees for shared rooms",
    "the annual review of our ethical statement",
    "a reading group on endings",
    "online sessions and their boundaries",
    "how we record challenges",
    "rotating the convener",
    "a joint day with a neighbouring circle",
    "our response to a complaint route",
    "working with interpreters",
    "notes and record keeping",
    "self-care and caseload limits",
)
REASONS = (
    "I would like us to try it for three months and then look again.",
    "I worry this adds work for the convener without clear benefit.",
    "I am not sure the wording covers online work.",
    "It moves too fast for me; can we talk it through at the next meeting?",
    "I can live with it, but I want the review date to be firm.",
    "This conflicts with how my training body asks me to keep notes.",
    "I stand aside: I have not worked this way and trust the circle.",
)
COMMENTS = (
    "Thank you for writing this up so clearly.",
    "Could we add a line about what happens when someone cannot attend?",
    "I like the spirit of this. The second paragraph reads a little stiffly.",
    "We tried something similar in my last circle and it worked well.",
    "What would this mean for members who work part time?",
    "I would prefer we keep the current wording until the review.",
    "Agreed, with one small change to the date.",
)
AGREEMENT_KINDS = (
    ("policy", "Confidentiality policy"),
    ("procedure", "Meeting procedure"),
    ("competence_criteria", "Competence criteria"),
    ("conflict_procedure", "When we disagree"),
    ("ceremony", "How we welcome and say goodbye"),
    ("ethics", "Ethical statement"),
    ("other", "Record keeping"),
)
STANCES = ("agree", "concerns", "disagree", "stand_aside", "block")
STANCE_WEIGHTS = (70, 14, 7, 6, 3)


def split(total: int, weights: dict[str, float]) -> dict[str, int]:
    """`total` spread over the kinds by weight (rounded down; the rest to the largest kind)."""
    whole = sum(weights.values())
    out = {kind: int(total * w / whole) for kind, w in weights.items()}
    if out:
        biggest = max(weights, key=lambda k: weights[k])
        out[biggest] += total - sum(out.values())
    return out


def circle_sizes(rng: random.Random, count: int, mean: float) -> list[int]:
    """Each new circle's size, 4 to 15, around `mean`."""
    return [max(4, min(15, round(rng.gauss(mean, 2.5)))) for _ in range(count)]


def mean_circle_size(practitioners: int, circles: int) -> float:
    """About 1.5 circles per practitioner, a circle holding 5 to 12 on average."""
    if circles <= 0:
        return 8.0
    return max(5.0, min(12.0, practitioners * 1.5 / circles))


def circles_per_practitioner(rng: random.Random) -> int:
    """1 to 3, mostly 1."""
    return rng.choices((1, 2, 3), weights=(60, 30, 10))[0]


def person_name(index: int, seed: int) -> str:
    first = FIRST_NAMES[(index * 7 + seed) % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 13 + seed * 3 + index // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last}"


def circle_name(index: int, seed: int) -> str:
    """Unique per (index, seed): the number keeps it so whatever the words."""
    town = TOWNS[(index + seed) % len(TOWNS)]
    word = CIRCLE_WORDS[(index * 5 + seed) % len(CIRCLE_WORDS)]
    kind = CIRCLE_KINDS[index % len(CIRCLE_KINDS)]
    return f"{town} {word} {kind} {seed}-{index + 1}"


_STANCE_CUMULATIVE = tuple(sum(STANCE_WEIGHTS[: i + 1]) for i in range(len(STANCE_WEIGHTS)))


def stance(rng: random.Random) -> str:
    return rng.choices(STANCES, cum_weights=_STANCE_CUMULATIVE)[0]


def pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[rng.randrange(len(items))]


def sample(rng: random.Random, items: Sequence[T], k: int) -> list[T]:
    return rng.sample(list(items), min(k, len(items)))


def spread(total: int, buckets: int, rng: random.Random) -> list[int]:
    """`total` spread over `buckets` unevenly (some busy, some quiet), summing to `total`."""
    if buckets <= 0:
        return []
    raw = [rng.uniform(0.3, 1.7) for _ in range(buckets)]
    whole = sum(raw)
    out = [int(total * r / whole) for r in raw]
    for i in range(total - sum(out)):
        out[i % buckets] += 1
    return out


def agreement_text(title: str, version: int) -> str:
    lines = [f"## {title}", ""]
    for n in range(1, 3 + version):
        lines.append(f"{n}. {TOPICS[(n + version) % len(TOPICS)].capitalize()}: as agreed.")
    return "\n".join(lines)
