"""The one diff renderer (core.diff): Markdown rendered, changes marked with <ins>/<del>, safe."""

from __future__ import annotations

import re
from html import unescape

from hypothesis import given, settings
from hypothesis import strategies as st

from circlework.agreements.templatetags.diffs import rendered_diff
from circlework.core.diff import DiffLine, render_diff

OLD = "## How we meet\n\nWe meet **monthly** in Leeds.\n\n- bring notes\n- arrive early\n"
NEW = "## How we meet\n\nWe meet **every two weeks** in Leeds.\n\n- bring notes\n- arrive early\n- stay late\n\nA new paragraph.\n"


def test_markdown_is_rendered_and_changes_are_marked() -> None:
    html = str(render_diff(OLD, NEW).html)
    assert "**" not in html and "##" not in html
    assert "<strong>" in html and "<h3>" in html and "<li>" in html
    assert re.search(r"<del>.*monthly</del>", html)
    assert re.search(r"<ins>.*every two weeks</ins>", html)
    assert re.search(r"<ins>.*stay late</ins>", html)
    assert re.search(r'<ins class="diff-block">.*<p>A new paragraph\.</p>', html, re.S)
    # Announced to screen readers, not shown by colour alone.
    assert '<span class="visually-hidden">added: </span>' in html
    assert '<span class="visually-hidden">taken out: </span>' in html


def test_kinds_of_block_are_counted() -> None:
    diff = render_diff(OLD, NEW)
    assert diff.changed and diff.edited == 2 and diff.added == 1 and diff.removed == 0
    gone = render_diff("First.\n\nSecond, about something else entirely.", "First.")
    assert gone.removed == 1 and "<del" in str(gone.html)


def test_plain_lines_are_not_read_as_markdown() -> None:
    html = str(render_diff("1. at least 4 members", "1. at least 5 members", markdown=False).html)
    assert "<ol>" not in html and "<p>1. at least" in html and "<ins>" in html


def test_a_list_of_diff_lines_renders_from_the_texts_it_holds() -> None:
    """decisions.selectors gives lists of lines: the template filter renders them the same way."""
    lines = [DiffLine("removed", "We meet **monthly**."), DiffLine("added", "We meet **weekly**.")]
    html = str(rendered_diff(lines).html)
    assert "**" not in html and "<del>" in html and "<ins>" in html


def test_html_in_the_texts_is_shown_as_text() -> None:
    html = str(
        render_diff("Hello", "Hello <script>alert(1)</script> <img src=x onerror=alert(1)>").html
    )
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html


# Pieces of Markdown and HTML, joined in any order.
markdownish = st.lists(
    st.sampled_from(
        [
            *"ab <>/*_#-~`[]()!\"'=&;:\n",
            "script",
            "onerror",
            "ins",
            "del",
            "javascript:",
            "**",
            "## ",
            "- ",
            "1. ",
            "\n\n",
            "| a | b |\n|---|---|\n",
            "```\n",
            "[x](",
            "<script>",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(old=markdownish, new=markdownish)
def test_no_text_can_bring_markup_of_its_own(old: str, new: str) -> None:
    html = str(render_diff(old, new).html).lower()
    assert "<script" not in html
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", html)
    # No link or source leads to a script: every address is http(s), mailto, or relative (a
    # relative one may contain the letters "javascript:" after other characters, harmlessly).
    for address in re.findall(r"""\s(?:href|src)\s*=\s*["']([^"']*)""", html):
        scheme = re.match(r"\s*([a-z][a-z0-9+.-]*):", unescape(address).replace("\t", ""))
        assert scheme is None or scheme.group(1) in {"http", "https", "mailto"}, address
    for tag in re.findall(r"<\s*([a-z0-9]+)", html):
        assert tag in {
            "p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "h1",
            "h2", "h3", "h4", "h5", "h6", "hr", "a", "table", "thead", "tbody", "tr", "th", "td",
            "ins", "del", "span",
        }  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | markdownish)
def test_a_text_compared_with_itself_has_no_changes(text: str) -> None:
    diff = render_diff(text, text)
    assert not diff.changed
    assert "<ins" not in str(diff.html) and "<del" not in str(diff.html)
