"""A text field with a limit says so ("Up to N characters") instead of the browser cutting a
longer text short without a word; the note describes the field for screen readers."""

from __future__ import annotations

import copy
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.test import Client

from tests import factories

APPS = Path(__file__).resolve().parents[2] / "circlework"
_TEXT_TYPES = {"text", "url", "search", "tel"}


def _composed_text(widget: forms.Widget) -> bool:
    """A text box or area one writes in (not an e-mail address, a password or a number)."""
    if isinstance(widget, forms.Textarea):
        return True
    kind = widget.attrs.get("type", getattr(widget, "input_type", None))
    return kind in _TEXT_TYPES


def _limited_fields() -> list[tuple[str, str, forms.Field]]:
    found = []
    for path in sorted(APPS.glob("*/forms.py")):
        module = importlib.import_module(f"circlework.{path.parent.name}.forms")
        for form_name, form_class in inspect.getmembers(module, inspect.isclass):
            if (
                not issubclass(form_class, forms.BaseForm)
                or form_class.__module__ != module.__name__
            ):
                continue
            fields: dict[str, forms.Field] = form_class.base_fields  # type: ignore[attr-defined]
            for field_name, field in fields.items():
                limit = getattr(field, "max_length", None)
                if limit and _composed_text(field.widget):
                    found.append((f"{form_name}.{field_name}", field_name, field))
    return found


LIMITED = _limited_fields()


def test_the_forms_have_limited_text_fields() -> None:
    assert len(LIMITED) >= 10  # the check below is not vacuous


@pytest.mark.parametrize(("label", "name", "field"), LIMITED, ids=[x[0] for x in LIMITED])
def test_every_limited_text_field_shows_its_limit(label: str, name: str, field: Any) -> None:
    form_class = type("OneField", (forms.Form,), {name: copy.deepcopy(field)})
    html = str(form_class()[name])
    assert f"Up to {field.max_length} characters" in html, (label, html)
    describedby = re.search(r'aria-describedby="([^"]+)"', html)
    assert describedby and f"id_{name}_limit" in describedby.group(1).split(), (label, html)
    assert f'id="id_{name}_limit"' in html


def test_help_text_and_limit_both_describe_the_field() -> None:
    class Form(forms.Form):
        reason = forms.CharField(max_length=300, help_text="Say why.", widget=forms.Textarea)
        email = forms.EmailField(max_length=254)

    form = Form()
    html = form.as_p()
    assert 'aria-describedby="id_reason_limit id_reason_helptext"' in html
    assert "Up to 300 characters" in html
    # An e-mail address has a technical limit nobody reaches: no note.
    assert "Up to 254" not in html


@pytest.mark.django_db
def test_the_profile_page_shows_the_limits(client: Client) -> None:
    practitioner = factories.make_practitioner("Ines Okafor")
    client.force_login(practitioner.user)
    body = client.get("/me/profile/").content.decode()
    limited = re.findall(r"<(?:input|textarea)[^>]*maxlength=\"(\d+)\"[^>]*id=\"([^\"]+)\"", body)
    texts = [(n, i) for n, i in limited if 'type="email"' not in body.split(f'id="{i}"')[0][-300:]]
    assert texts
    for limit, field_id in texts:
        assert f'id="{field_id}_limit" data-limit="{limit}"' in body, field_id
        assert f"Up to {limit} characters" in body
