from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from circlework.core.markdown import render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil></iframe>",
    "<svg onload=alert(1)>",
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    "<style>body{}</style>",
    '<div style="background:url(javascript:alert(1))">',
]


ALLOWED = {
    "p",
    "br",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"attribute {name}")
            if (
                name in ("href", "src")
                and value
                and not value.lower().startswith(("http://", "https://", "mailto:"))
            ):
                self.problems.append(f"{name}={value}")


def assert_safe(html: str) -> None:
    inspector = _Inspector()
    inspector.feed(html)
    assert not inspector.problems, (html, inspector.problems)


def test_markdown_renders_ordinary_text() -> None:
    html = render_markdown("# Purpose\n\nWe **stand by** each other.\n\n- one\n- two")
    assert "<strong>stand by</strong>" in html
    assert "<li>one</li>" in html
    assert "<h3>" in html  # page headings are demoted


def test_links_are_kept_and_marked_nofollow() -> None:
    html = render_markdown("[IPN](https://ipnetwork.org.uk)")
    assert 'href="https://ipnetwork.org.uk"' in html
    assert "nofollow" in html


def test_known_attacks_are_neutralised() -> None:
    for attack in HOSTILE:
        assert_safe(render_markdown(attack))


@given(
    st.lists(
        st.one_of(
            st.sampled_from(HOSTILE),
            st.text(max_size=40),
            st.sampled_from(["<", ">", '"', "'", "](", "[", "\n", "`"]),
        ),
        max_size=12,
    ).map("".join)
)
def test_no_script_survives_any_mixture(text: str) -> None:
    assert_safe(render_markdown(text))
