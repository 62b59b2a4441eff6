from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from circlework.core.markdown import DEFAULT_UNDER, render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(value: str, under: int | str = DEFAULT_UNDER) -> SafeString:
    """``{{ text|markdown }}``, or ``{{ text|markdown:3 }}`` for text in a section headed by an
    h3: the text's own headings start one level below the section's heading."""
    return render_markdown(value, under=int(under))
