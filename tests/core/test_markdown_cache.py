"""The rendered-text cache (core/markdown.py): the same HTML as rendering afresh, every time."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circlework.core import markdown
from circlework.core.markdown import clear_markdown_cache, render_markdown

# Pieces of markdown that exercise the parser: headings, emphasis, lists, links, code, tables,
# raw HTML (which must stay escaped), entities and unusual characters.
PIECES = st.sampled_from(
    [
        "# ", "## ", "### ", "#### ", "\n", "\n\n", "*", "**", "_", "~~", "`", "```\n", "> ",
        "- ", "1. ", "[a](http://x.org/?q=1&r=2)", "[b](javascript:alert(1))", "<script>",
        "</p>", "&amp;", "&", "<", ">", '"', "'", "| a | b |\n|---|:-:|\n| 1 | 2 |\n", "---",
        "    code", "\t", "é", "\u202e", "\U0001f600", "word", " ", "\\", "![i](x.png)",
    ]
)  # fmt: skip
MARKDOWN = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=25).map("".join)


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    clear_markdown_cache()
    yield
    clear_markdown_cache()


@settings(max_examples=300, deadline=None)
@given(text=MARKDOWN, under=st.integers(min_value=-1, max_value=8))
def test_cached_html_is_byte_identical_to_a_fresh_render(text: str, under: int) -> None:
    level = max(1, min(6, under))
    fresh = markdown._render_uncached(text, level)
    first = render_markdown(text, under=under)
    second = render_markdown(text, under=under)
    assert str(first) == fresh
    assert str(second) == fresh
    assert hasattr(second, "__html__")  # still marked safe when it comes from the cache


def test_the_same_text_is_rendered_once() -> None:
    with mock.patch.object(markdown, "_render_uncached", wraps=markdown._render_uncached) as spy:
        render_markdown("# A heading\n\nSome *text*.")
        render_markdown("# A heading\n\nSome *text*.")
        assert spy.call_count == 1
        render_markdown("# A heading\n\nSome *text*!")  # an edited text is a new entry
        assert spy.call_count == 2


def test_the_key_includes_the_heading_level() -> None:
    assert "<h3>" in render_markdown("# Title", under=2)
    assert "<h4>" in render_markdown("# Title", under=3)
    assert "<h3>" in render_markdown("# Title", under=2)


def test_a_huge_text_is_not_kept() -> None:
    text = "word " * (markdown._MAX_CACHED_CHARS // 5 + 1)
    render_markdown(text)
    assert len(markdown._cache) == 0
    render_markdown("short")
    assert len(markdown._cache) == 1


def test_the_cache_stays_within_its_size() -> None:
    with mock.patch.object(markdown, "_MAX_CACHED_HTML", 200):
        for number in range(50):
            render_markdown(f"paragraph number {number}")
        assert 0 < markdown._cache_size <= 200
        assert markdown._cache_size == sum(len(html) for html in markdown._cache.values())
        # The newest text is kept, the oldest gave way.
        assert markdown._cache_key("paragraph number 49", 2) in markdown._cache
        assert markdown._cache_key("paragraph number 0", 2) not in markdown._cache
