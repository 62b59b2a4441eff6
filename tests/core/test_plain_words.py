"""Plain words a counsellor would use, one vocabulary everywhere, and proper plurals.

Every template and every user-facing string in circlework's Python code (translated strings,
form labels and help texts, messages, notices, e-mails, API descriptions and errors, command
output) is read; none may use a phrase from the list below. Docstrings and comments are for
developers and are not read. The sign-in pages allauth draws use the same words as our own.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from tests import factories

ROOT = Path(__file__).resolve().parents[2] / "circlework"

# (pattern, why) — each a phrase a counsellor would not follow, or a second word for one thing.
BANNED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"markdown allowed", re.I), "say what formatting they can use, in plain words"),
    (re.compile(r"[A-Za-z]\(s\)"), "a proper plural (ngettext / pluralize), not “(s)”"),
    (re.compile(r"Sign Up|Sign In|Sign Out"), "“Sign in”, “Sign out”, “Create an account”"),
    (re.compile(r"\bsign[- ]?ups?\b|\bsignup\b", re.I), "“Create an account”, not sign up"),
    (re.compile(r"\blog[- ]?(in|out)s?\b", re.I), "“Sign in” / “Sign out”, not log in"),
    (
        re.compile(
            r"\blive (links?|mandates?)\b|\b(is|are|stays) live\b|\blive (again|until)\b", re.I
        ),
        "a “current” link or mandate, not a live one",
    ),
    (re.compile(r"\bLive\b"), "plain words (current), not “Live”"),
    (re.compile(r"may facilitate now", re.I), "say who leads the election, in a sentence"),
    (re.compile(r"consecutive term", re.I), "“first term”, “second term in a row”"),
    (re.compile(r"lapse at the start", re.I), "“the last day is …”"),
    (re.compile(r"not yet full", re.I), "say who is not yet stood by"),
]

TRANSLATING = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "npgettext"}
SHOWN_ATTRIBUTES = re.compile(
    r'\b(?:title|alt|aria-label|placeholder|content|value|label)="([^"]*)"', re.I
)


def _quoted_prose(text: str) -> str:
    return " ".join(m[1] for m in re.findall(r'(["\'])(.*?)\1', text) if " " in m[1])


def template_text(source: str) -> str:
    """The words a template shows: its text, translated strings and shown attributes."""
    s = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    s = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", s, flags=re.S)
    s = re.sub(r"<!--.*?-->", " ", s, flags=re.S)
    s = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", s, flags=re.S | re.I)
    s = re.sub(r'{%\s*(?:translate|trans)\s+(["\'])(.*?)\1.*?%}', r" \2 ", s, flags=re.S)
    s = re.sub(r"{%.*?%}|{{.*?}}", lambda m: " " + _quoted_prose(m[0]) + " ", s, flags=re.S)

    def tag(m: re.Match[str]) -> str:
        shown = [v for v in SHOWN_ATTRIBUTES.findall(m[0])]
        return " " + " ".join(shown) + " " + _quoted_prose(m[0]) + " "

    return re.sub(r"<[^>]*>", tag, s, flags=re.S)


def templates() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*")):
        if "templates" in path.parts and path.suffix in {".html", ".txt"}:
            yield path


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def python_strings(source: str) -> Iterator[tuple[int, str]]:
    """Strings a person may read: every translated string, and every other string with a space
    in it (identifiers, keys and URL names have none). Docstrings are left out."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    translated: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in TRANSLATING:
                for arg in node.args:
                    if isinstance(arg, ast.Constant):
                        translated.add(id(arg))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and (id(node) in translated or " " in node.value)
        ):
            yield node.lineno, node.value


def python_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def offences(text: str) -> list[str]:
    return [f"{p.search(text)[0]!r} ({why})" for p, why in BANNED if p.search(text)]  # type: ignore[index]


def test_the_scanner_reads_what_people_see() -> None:
    shown = template_text(
        '{# Log in #}<a title="Sign In" href="{% url \'account_login\' %}">{% translate "Live" %}</a>'
        '{% include "x.html" with heading="Not yet full" %}<b class="signup">ok</b>'
        '{% translate "Our" %}{% translate "live mandates" %}{% translate "Now" %}'
    )
    assert "Sign In" in shown and "Live" in shown and "Not yet full" in shown
    assert any("live mandates" in found for found in offences(shown))  # not “live mandatesNow”
    assert "Log in" not in shown and "account_login" not in shown and "signup" not in shown
    strings = python_strings(
        'def f():\n    """A live mandate."""\n    return _("Live"), "member(s) reminded", "signup"\n'
    )
    assert sorted(text for _line, text in strings) == ["Live", "member(s) reminded"]
    assert offences("3 member(s)") and not offences("%(s)s and %(n)s members")


@pytest.mark.parametrize("path", list(templates()), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_use_plain_words(path: Path) -> None:
    found = offences(template_text(path.read_text()))
    assert not found, f"{path.relative_to(ROOT)}: {found}"


def test_python_strings_use_plain_words() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {hit}"
        for path in python_files()
        for line, text in python_strings(path.read_text())
        for hit in offences(text)
    ]
    assert not found, "\n".join(found)


@pytest.mark.django_db
def test_allauth_pages_use_our_words() -> None:
    """The pages allauth draws say "Sign in", "Create an account" and "Sign out", in the page
    title too — the same words as the site's own header and buttons."""
    client = Client()
    pages = {
        "/accounts/login/": "Sign in",
        "/accounts/signup/": "Create an account",
    }
    for url, title in pages.items():
        html = client.get(url).content.decode()
        assert f"<title>{title} · Circlework</title>" in html, url
        assert f"<h1>{title}</h1>" in html, url
        assert not offences(template_text(html)), (url, offences(template_text(html)))
    client.force_login(factories.make_practitioner("Sam Signer").user)
    html = client.get("/accounts/logout/").content.decode()
    assert "<title>Sign out · Circlework</title>" in html
    assert not offences(template_text(html)), offences(template_text(html))
