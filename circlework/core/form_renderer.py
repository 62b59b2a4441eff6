"""How every form field is drawn: Django's own templates, plus one thing of ours.

A text box or text area with a character limit (``maxlength``, from the form field's
``max_length``) says so beside it, "Up to 200 characters", and is described by that note (screen
readers read it with the field). static/circlework.js turns the note into a live counter; without
JavaScript the note alone still tells the writer before the browser cuts a longer text short.
Set as FORM_RENDERER, so every form on the site — ours and allauth's — is drawn through it.

Drawing a field through Django's templates costs about half a millisecond (the field template
includes the label, error list and widget templates, each a nested template render), a large
share of a page with a form. So the templates drawn most — a field, its label and errors, inputs,
text areas, radio and checkbox options, and select lists with their options — are drawn here in
Python, to the same bytes: each step does what the template does (the same escaping, the same
number and date formatting, the same white space). A fast path is used only while the template
the engine finds for that name is Django's own, word for word (_STOCK below): a template
overridden by an app, or changed by a new Django version, is drawn by the template as before.
tests/core/test_form_renderer_fast.py draws every form of the site, and random widgets, both
ways and compares the bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.forms.utils import ErrorList
from django.http import HttpRequest
from django.template import Context
from django.template.base import render_value_in_context
from django.template.defaultfilters import stringformat
from django.utils.html import format_html
from django.utils.safestring import SafeData, mark_safe
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


# --- Fast paths: Django's form templates, drawn in Python to the same bytes.
_FORMS = "django/forms/"
_W = "django/forms/widgets/"
_INPUT = '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %} value="{{ widget.value|stringformat:\'s\' }}"{% endif %}{% include "django/forms/widgets/attrs.html" %}>\n'
_INCLUDE_INPUT = '{% include "django/forms/widgets/input.html" %}\n'
_INCLUDE_INPUT_OPTION = '{% include "django/forms/widgets/input_option.html" %}\n'
_ATTRS_LOOP = "{% for name, value in ATTRS.items %}{% if value is not False %} {{ name }}{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}"
# Each template a fast path stands for, with the templates it includes, as Django 5.2 ships them.
_STOCK: dict[str, str] = {
    _W + "attrs.html": _ATTRS_LOOP.replace("ATTRS", "widget.attrs"),
    _FORMS + "attrs.html": _ATTRS_LOOP.replace("ATTRS", "attrs"),
    _W + "input.html": _INPUT,
    _W
    + "input_option.html": '{% if widget.wrap_label %}<label{% if widget.attrs.id %} for="{{ widget.attrs.id }}"{% endif %}>{% endif %}{% include "django/forms/widgets/input.html" %}{% if widget.wrap_label %} {{ widget.label }}</label>{% endif %}\n',
    _W
    + "textarea.html": '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n',
    _W
    + "select.html": '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>{% for group_name, group_choices, group_index in widget.optgroups %}{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}{% for option in group_choices %}\n  {% include option.template_name with widget=option %}{% endfor %}{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n',
    _W
    + "select_option.html": '<option value="{{ widget.value|stringformat:\'s\' }}"{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n',
    _FORMS
    + "label.html": "{% if use_tag %}<{{ tag }}{% include 'django/forms/attrs.html' %}>{{ label }}</{{ tag }}>{% else %}{{ label }}{% endif %}\n",
    _FORMS
    + "errors/list/ul.html": '{% if errors %}<ul class="{{ error_class }}"{% if errors.field_id %} id="{{ errors.field_id }}_error"{% endif %}>{% for error in errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}',
    _FORMS + "errors/list/default.html": '{% include "django/forms/errors/list/ul.html" %}',
    _FORMS + "field.html": """{% if field.use_fieldset %}
  <fieldset{% if field.aria_describedby %} aria-describedby="{{ field.aria_describedby }}"{% endif %}>
  {% if field.label %}{{ field.legend_tag }}{% endif %}
{% else %}
  {% if field.label %}{{ field.label_tag }}{% endif %}
{% endif %}
{% if field.help_text %}<div class="helptext"{% if field.auto_id %} id="{{ field.auto_id }}_helptext"{% endif %}>{{ field.help_text|safe }}</div>{% endif %}
{{ field.errors }}
{{ field }}{% if field.use_fieldset %}</fieldset>{% endif %}
""",
}
_INPUT_TEMPLATES = (
    "text", "number", "email", "url", "password", "hidden", "date", "datetime", "time", "search",
    "tel", "color", "file", "checkbox",
)  # fmt: skip
for _name in _INPUT_TEMPLATES:
    _STOCK[f"{_W}{_name}.html"] = _INCLUDE_INPUT
for _name in ("radio_option", "checkbox_option"):
    _STOCK[f"{_W}{_name}.html"] = _INCLUDE_INPUT_OPTION
for _name in ("radio", "checkbox_select"):
    _STOCK[f"{_W}{_name}.html"] = '{% include "django/forms/widgets/multiple_input.html" %}\n'
_STOCK[
    _W + "multiple_input.html"
] = """{% with id=widget.attrs.id %}<div{% if id %} id="{{ id }}"{% endif %}{% if widget.attrs.class %} class="{{ widget.attrs.class }}"{% endif %}>{% for group, options, index in widget.optgroups %}{% if group %}
  <div><label>{{ group }}</label>{% endif %}{% for option in options %}<div>
    {% include option.template_name with widget=option %}</div>{% endfor %}{% if group %}
  </div>{% endif %}{% endfor %}
</div>{% endwith %}
"""
# What each fast path's output depends on besides its own template.
_NEEDS: dict[str, tuple[str, ...]] = {
    **{f"{_W}{name}.html": (_W + "input.html", _W + "attrs.html") for name in _INPUT_TEMPLATES},
    **{
        f"{_W}{name}.html": (_W + "input_option.html", _W + "input.html", _W + "attrs.html")
        for name in ("radio_option", "checkbox_option")
    },
    _W + "textarea.html": (_W + "attrs.html",),
    _W + "select.html": (_W + "attrs.html",),  # and each option's template, checked as drawn
    _W + "radio.html": (_W + "multiple_input.html",),  # and each option's template, as drawn
    _W + "checkbox_select.html": (_W + "multiple_input.html",),
    _FORMS + "label.html": (_FORMS + "attrs.html",),
    _FORMS + "errors/list/default.html": (_FORMS + "errors/list/ul.html",),
    _FORMS + "field.html": (),
}

# How a template shows {{ value }}: autoescaped, numbers and dates formatted as settings say.
_TEMPLATE_CONTEXT = Context()


class _Unusual(Exception):
    """Something a fast path does not reproduce exactly: the template draws it instead."""


def _show(value: Any) -> str:
    """``{{ value }}``."""
    if callable(value):  # a template would call it; leave that to the template
        raise _Unusual
    return str(render_value_in_context(value, _TEMPLATE_CONTEXT))


def _show_s(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``."""
    if callable(value):
        raise _Unusual
    text = stringformat(value, "s")
    return _show(mark_safe(text) if isinstance(value, SafeData) else text)  # noqa: S308 - as the filter does


def _attrs(attrs: Any) -> str:
    """``django/forms/widgets/attrs.html`` (and ``django/forms/attrs.html``)."""
    if attrs is None:
        return ""
    if not isinstance(attrs, dict) or "items" in attrs:
        raise _Unusual
    parts = []
    for name, value in attrs.items():
        if value is not False:
            parts.append(" " + _show(name))
            if value is not True:
                parts.append('="' + _show_s(value) + '"')
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    value = widget.get("value")
    shown = ' value="' + _show_s(value) + '"' if value != None else ""  # noqa: E711 - as the template
    return (
        '<input type="' + _show(widget["type"]) + '" name="' + _show(widget["name"]) + '"'
        + shown + _attrs(widget["attrs"]) + ">\n"
    )  # fmt: skip


def _input_template(context: dict[str, Any]) -> str:
    return _input(context["widget"])


def _input_option_raw(widget: dict[str, Any]) -> str:
    """``input_option.html`` with its last new line (kept where another template includes it)."""
    if not widget.get("wrap_label"):
        return _input(widget) + "\n"
    widget_id = widget["attrs"].get("id")
    label_for = ' for="' + _show(widget_id) + '"' if widget_id else ""
    label = " " + _show(widget["label"]) + "</label>\n"
    return "<label" + label_for + ">" + _input(widget) + label


def _input_option(context: dict[str, Any]) -> str:
    return _input_option_raw(context["widget"])


def _textarea(context: dict[str, Any]) -> str:
    widget = context["widget"]
    value = widget.get("value")
    return (
        '<textarea name="' + _show(widget["name"]) + '"' + _attrs(widget["attrs"]) + ">\n"
        + (_show(value) if value else "") + "</textarea>"
    )  # fmt: skip


def _select_option(option: dict[str, Any]) -> str:
    return (
        '<option value="' + _show_s(option["value"]) + '"' + _attrs(option["attrs"]) + ">"
        + _show(option["label"]) + "</option>\n"
    )  # fmt: skip


def _label(context: dict[str, Any]) -> str:
    if not context.get("use_tag"):
        return _show(context["label"])
    tag = _show(context["tag"])
    return (
        "<" + tag + _attrs(context.get("attrs")) + ">" + _show(context["label"]) + "</" + tag + ">"
    )


def _error_list(context: dict[str, Any]) -> str:
    errors = context["errors"]
    if type(errors) is not ErrorList:
        raise _Unusual
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)  # set by Django 5.2, not in the stubs
    shown_id = ' id="' + _show(field_id) + '_error"' if field_id else ""
    items = "".join("<li>" + _show(error) + "</li>" for error in errors)
    return '<ul class="' + _show(context["error_class"]) + '"' + shown_id + ">" + items + "</ul>"


def _field(context: dict[str, Any]) -> str:
    field = context["field"]
    if not isinstance(field, BoundField):
        raise _Unusual
    fieldset = field.use_fieldset
    if fieldset:
        described = field.aria_describedby
        described_by = ' aria-describedby="' + _show(described) + '"' if described else ""
        top = "\n  <fieldset" + described_by + ">\n  "
        top += (_show(field.legend_tag()) if field.label else "") + "\n"
    else:
        top = "\n  " + (_show(field.label_tag()) if field.label else "") + "\n"
    help_text = ""
    if field.help_text:
        help_id = ' id="' + _show(field.auto_id) + '_helptext"' if field.auto_id else ""
        help_text = (
            '<div class="helptext"' + help_id + ">" + str(field.help_text) + "</div>"
        )  # help text is shown as written: the template marks it |safe
    return (
        top + "\n" + help_text + "\n" + _show(field.errors) + "\n" + _show(field)
        + ("</fieldset>" if fieldset else "") + "\n"
    )  # fmt: skip


_FAST: dict[str, Callable[[dict[str, Any]], str]] = {
    **{f"{_W}{name}.html": _input_template for name in _INPUT_TEMPLATES},
    _W + "radio_option.html": _input_option,
    _W + "checkbox_option.html": _input_option,
    _W + "textarea.html": _textarea,
    _FORMS + "label.html": _label,
    _FORMS + "errors/list/default.html": _error_list,
    _FORMS + "field.html": _field,
}


class FastFormRenderer(DjangoTemplates):
    """Django's template renderer, with the fast paths above while the templates are stock."""

    def __init__(self) -> None:
        super().__init__()
        self._stock: dict[str, bool] = {}

    def is_stock(self, template_name: str) -> bool:
        """Is the template the engine finds for this name Django's own, as _STOCK has it?"""
        found = self._stock.get(template_name)
        if found is None:
            expected = _STOCK.get(template_name)
            try:
                source = self.get_template(template_name).template.source
            except Exception:  # not found, or not a Django template: no fast path for it
                source = None
            found = expected is not None and source == expected
            self._stock[template_name] = found
        return found

    def fast_path(self, template_name: str) -> Callable[[dict[str, Any]], str] | None:
        draw = _FAST.get(template_name) or self._lists.get(template_name)
        if draw is None or not self.is_stock(template_name):
            return None
        if not all(self.is_stock(needed) for needed in _NEEDS[template_name]):
            return None
        return draw

    @property
    def _lists(self) -> dict[str, Callable[[dict[str, Any]], str]]:
        """The widgets that draw a list of options, each option by its own template."""
        return {
            _W + "select.html": self._select,
            _W + "radio.html": self._multiple_input,
            _W + "checkbox_select.html": self._multiple_input,
        }

    def _option_raw(self, option: dict[str, Any]) -> str:
        """``{% include option.template_name with widget=option %}`` in multiple_input.html."""
        name = option["template_name"]
        if name not in (_W + "radio_option.html", _W + "checkbox_option.html"):
            raise _Unusual
        if self.fast_path(name) is None:
            raise _Unusual
        return _input_option_raw(option) + "\n"

    def _multiple_input(self, context: dict[str, Any]) -> str:
        """``radio.html`` and ``checkbox_select.html``: both include multiple_input.html."""
        widget = context["widget"]
        attrs = widget["attrs"]
        if not isinstance(attrs, dict):
            raise _Unusual
        widget_id, css_class = attrs.get("id"), attrs.get("class")
        parts = [
            "<div",
            ' id="' + _show(widget_id) + '"' if widget_id else "",
            ' class="' + _show(css_class) + '"' if css_class else "",
            ">",
        ]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append("\n  <div><label>" + _show(group) + "</label>")
            for option in options:
                parts.append("<div>\n    " + self._option_raw(option) + "</div>")
            if group:
                parts.append("\n  </div>")
        parts.append("\n</div>\n\n")
        return "".join(parts)

    def _select(self, context: dict[str, Any]) -> str:
        widget = context["widget"]
        parts = ['<select name="', _show(widget["name"]), '"', _attrs(widget["attrs"]), ">"]
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append('\n  <optgroup label="' + _show(group_name) + '">')
            for option in group_choices:
                option_template = option["template_name"]
                if option_template != _W + "select_option.html" or not self.is_stock(
                    option_template
                ):
                    raise _Unusual
                parts.append("\n  " + _select_option(option))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>\n")
        return "".join(parts)

    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        draw = self.fast_path(template_name) if request is None else None
        if draw is not None:
            try:
                return draw(context).strip()
            except (_Unusual, KeyError, AttributeError, TypeError):
                pass  # something the fast path does not know: the template decides
        return str(super().render(template_name, context, request))


class CharacterLimitRenderer(FastFormRenderer):
    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        widget = context.get("widget")
        if not isinstance(widget, dict) or (found := _limit_of(widget)) is None:
            return super().render(template_name, context, request)
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
