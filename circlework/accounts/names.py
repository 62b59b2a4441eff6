"""What a display name may be: the pure rule, used by the sign-up and profile forms, the profile
services and so the API. No database here; the service passes the names to compare with.

A name is how colleagues recognise each other, so it must show something and must not pass for
someone else's:
- it must have at least one visible character: a name of spaces, zero-width or other invisible
  characters would show as nothing at all;
- it must not contain the characters that reorder text on screen (right-to-left override and the
  other bidirectional embeddings and isolates), which make a name display differently from how
  it is written. Arabic, Hebrew and other right-to-left names need none of them;
- it must not copy the name of someone in the same circles: the same letters once case, spacing,
  invisible characters and look-alike forms of the same letter (full-width "Ａ", ligatures such
  as "ﬁ") are set aside (Unicode NFKC normalisation and case folding).

Why among the circles' members and not everyone's: real people share names, and a circle's
members are the ones who read each other's names on every proposal, comment and poll, so that
is where a copy deceives. Refusing names across the whole site would also tell anybody that some
practitioner, perhaps one who keeps their name private, is called that.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.utils.translation import gettext as _

# Characters that change the order text is shown in: embeddings, overrides and isolates
# (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI). The marks LRM/RLM/ALM are invisible but only
# nudge neutral characters; they are allowed beside visible text and ignored when comparing.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Letters and symbols that Unicode classes as visible but that render as blank space.
BLANK_LOOKALIKES = frozenset(
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u2800"  # braille pattern blank
    "\u180e"  # Mongolian vowel separator (older Unicode: a space)
)

# Marks that Unicode says to ignore when showing text: the combining grapheme joiner, Khmer
# inherent vowels, Mongolian free variation selectors and the variation selectors.
IGNORABLE_MARKS = frozenset(
    "\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
    + "".join(chr(c) for c in range(0xE0100, 0xE01F0))
)


def is_invisible(char: str) -> bool:
    """True for a character that shows nothing by itself: spaces, controls, format characters
    (zero-width space and joiners, bidi marks, tags), combining marks with nothing to attach to,
    unassigned and private-use code points, and letters that render as blank space."""
    if char in BLANK_LOOKALIKES:
        return True
    # L* letters, N* numbers, P* punctuation, S* symbols show something; M*, Z*, C* do not.
    return unicodedata.category(char)[0] not in "LNPS"


def _takes_no_space(char: str) -> bool:
    """Shows nothing and takes no room, so a copy could hide it anywhere in a name."""
    if char in BLANK_LOOKALIKES or char in IGNORABLE_MARKS:
        return True
    return unicodedata.category(char)[0] == "C"


def has_visible_character(name: str) -> bool:
    return any(not is_invisible(char) for char in name)


def comparison_key(name: str) -> str:
    """The form two names are compared in: equal keys look the same on screen.

    NFKC folds look-alike forms of a letter together; invisible characters are dropped, every
    run of spaces becomes one; then case folding, and NFKC again since folding can leave text
    that composes differently (Unicode's NFKC_Casefold). Accents stay: "René" is not "Rene".
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(
        " " if char.isspace() else "" if _takes_no_space(char) else char for char in text
    )
    text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(text.split())


def display_name_problems(name: str) -> list[str]:
    """Why this name cannot be used on its own terms (empty when it can), in plain words."""
    problems = []
    if not has_visible_character(name):
        problems.append(_("Your name must contain at least one letter or other visible character."))
    if any(char in BIDI_CONTROLS for char in name):
        problems.append(
            _(
                "Your name contains invisible characters that change the order in which text is "
                "shown. Please type it without them."
            )
        )
    return problems


def copies_a_name(name: str, others: Iterable[str]) -> bool:
    """True when `name` matches one of `others` once case, spacing and look-alikes are set aside."""
    key = comparison_key(name)
    return bool(key) and any(comparison_key(other) == key for other in others)


def copy_message() -> str:
    return _(
        "Someone in your circles already uses this name. Please add something that tells you "
        "apart, such as an initial or your town."
    )
