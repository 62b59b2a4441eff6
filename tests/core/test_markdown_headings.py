"""Headings written in Markdown nest under the heading of the section that shows the text."""

from __future__ import annotations

import re

from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from circlework.core.markdown import render_markdown

_HEADING = re.compile(r"<h([1-6])>")


def levels(html: str) -> list[int]:
    return [int(level) for level in _HEADING.findall(html)]


def test_the_texts_top_heading_sits_one_level_below_the_section() -> None:
    text = "## Purpose\n\nWe meet.\n\n### When\n\nMonthly."
    assert levels(render_markdown(text, under=2)) == [3, 4]
    assert levels(render_markdown(text, under=3)) == [4, 5]
    assert levels(render_markdown(text, under=1)) == [2, 3]


def test_a_skipped_level_in_the_text_is_closed_up() -> None:
    # Written h1 then h4: shown as h3 then h4, not h3 then h6.
    assert levels(render_markdown("# Ethics\n\n#### Confidentiality", under=2)) == [3, 4]
    # A text that starts deep still starts right under the section.
    assert levels(render_markdown("#### Note\n\n# Main", under=2)) == [3, 3]


def test_headings_deeper_than_h6_become_bold_text() -> None:
    html = render_markdown("# Title\n\n## Part", under=6)
    assert levels(html) == []
    assert "<p><strong>Title</strong></p>" in html


def test_the_template_filter_takes_the_sections_level() -> None:
    template = Template("{% load circlework %}{{ text|markdown:3 }}|{{ text|markdown }}")
    html = template.render(Context({"text": "# Heading"}))
    assert html == "<h4>Heading</h4>\n|<h3>Heading</h3>\n"


_lines = st.lists(
    st.one_of(
        st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 6), st.text("abc ", max_size=5)),
        st.builds(lambda t: t + "\n===", st.text("abc", min_size=1, max_size=5)),
        st.sampled_from(["text", "> # quoted", "- ## in a list", "", "---"]),
    ),
    max_size=10,
).map("\n\n".join)


@given(_lines, st.integers(1, 6))
def test_no_heading_reaches_the_sections_level_or_skips_one(text: str, under: int) -> None:
    found = levels(render_markdown(text, under=under))
    previous = under
    for level in found:
        assert under < level <= 6, (text, under, found)
        assert level <= previous + 1, (text, under, found)
        previous = level
