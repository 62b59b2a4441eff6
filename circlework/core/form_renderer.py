"""How every form field is drawn: Django's own templates, plus one thing of ours.

A text box or text area with a character limit (``maxlength``, from the form field's
``max_length``) says so beside it, "Up to 200 characters", and is described by that note (screen
readers read it with the field). static/circlework.js turns the note into a live counter; without
JavaScript the note alone still tells the writer before the browser cuts a longer text short.
Set as FORM_RENDERER, so every form on the site — ours and allauth's — is drawn through it.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

# Text the writer composes. An e-mail address or a password has a technical limit nobody reaches.
_LIMITED_INPUT_TYPES = {"text", "search", "url", "tel"}
_TEXTAREA = "django/forms/widgets/textarea.html"


def limit_note_id(widget_id: str) -> str:
    return f"{widget_id}_limit"


def _limit_of(widget: dict[str, Any]) -> tuple[int, str] | None:
    """(limit, the field's id) for a widget that takes composed text with a limit, else None."""
    attrs = widget.get("attrs") or {}
    limit, widget_id = attrs.get("maxlength"), attrs.get("id")
    if not limit or not widget_id:
        return None
    if widget.get("template_name") != _TEXTAREA and widget.get("type") not in _LIMITED_INPUT_TYPES:
        return None
    return int(limit), str(widget_id)


class CharacterLimitRenderer(DjangoTemplates):
    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        widget = context.get("widget")
        if not isinstance(widget, dict) or (found := _limit_of(widget)) is None:
            return str(super().render(template_name, context, request))
        limit, widget_id = found
        note_id = limit_note_id(widget_id)
        attrs = dict(widget["attrs"])
        described = [part for part in str(attrs.get("aria-describedby", "")).split() if part]
        attrs["aria-describedby"] = " ".join([note_id, *described])
        html = super().render(
            template_name, {**context, "widget": {**widget, "attrs": attrs}}, request
        )
        note = format_html(
            '<span class="char-limit" id="{}" data-limit="{}" data-count="{}" data-left="{}"'
            ' data-full="{}">{}</span>',
            note_id,
            limit,
            gettext("%(used)s of %(limit)s characters"),
            gettext("(%(left)s left)"),
            gettext("— the limit: nothing more can be added."),
            gettext("Up to %(limit)s characters") % {"limit": limit},
        )
        return str(format_html("{}{}", mark_safe(html), note))  # noqa: S308 - Django rendered it
