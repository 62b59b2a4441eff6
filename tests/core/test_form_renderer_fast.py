"""The form renderer's fast paths (core/form_renderer.py) draw the same bytes as the templates."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.forms.boundfield import BoundField
from hypothesis import given, settings
from hypothesis import strategies as st

from circlework.core.form_renderer import _FAST, CharacterLimitRenderer


class TemplatesOnly(CharacterLimitRenderer):
    """The site's renderer with every fast path off: Django's templates draw everything."""

    def fast_path(self, template_name: str) -> Any:
        return None


FAST = CharacterLimitRenderer()
SLOW = TemplatesOnly()

# Text that tests escaping and formatting: markup, quotes, entities, non-Latin letters.
WORDS = st.lists(st.sampled_from([*"ab <>&\"'é€:?.!\n", "&amp;", "<b>", "1000"]), max_size=6).map(
    "".join
)
CHOICES = st.lists(
    st.tuples(st.one_of(st.integers(-2000, 2000), WORDS), WORDS), min_size=1, max_size=4
)


@st.composite
def field_specs(draw: st.DrawFn) -> forms.Field:
    kind = draw(st.sampled_from(["char", "text", "radio", "select", "groups", "checkboxes",
                                 "bool", "int", "date", "email", "hidden", "password"]))  # fmt: skip
    common: dict[str, Any] = {
        "required": draw(st.booleans()),
        "label": draw(st.one_of(st.none(), WORDS)),
        "help_text": draw(WORDS),
    }
    if kind in {"char", "text", "password"}:
        text_widgets: dict[str, type[forms.Widget]] = {
            "char": forms.TextInput, "text": forms.Textarea, "password": forms.PasswordInput,
        }  # fmt: skip
        return forms.CharField(
            max_length=draw(st.one_of(st.none(), st.integers(1, 3000))),
            widget=text_widgets[kind](attrs=draw(st.dictionaries(
                st.sampled_from(["class", "placeholder", "aria-describedby", "rows", "disabled"]),
                st.one_of(st.booleans(), WORDS, st.integers(0, 5000)), max_size=3))),
            **common,
        )  # fmt: skip
    if kind in {"radio", "select", "checkboxes"}:
        choices = draw(CHOICES)
        choice_widget = {"radio": forms.RadioSelect, "select": forms.Select,
                  "checkboxes": forms.CheckboxSelectMultiple}[kind]  # fmt: skip
        field_class = forms.MultipleChoiceField if kind == "checkboxes" else forms.ChoiceField
        return field_class(choices=choices, widget=choice_widget, **common)
    if kind == "groups":
        groups = [(draw(WORDS), draw(CHOICES)), *draw(CHOICES)]
        return forms.ChoiceField(choices=groups, **common)
    simple: dict[str, type[forms.Field]] = {
        "bool": forms.BooleanField, "int": forms.IntegerField, "date": forms.DateField,
        "email": forms.EmailField,
    }  # fmt: skip
    if kind == "hidden":
        return forms.CharField(widget=forms.HiddenInput, **common)
    return simple[kind](**common)


VALUES = st.one_of(
    st.none(), WORDS, st.integers(-5000, 5000), st.booleans(), st.dates(), st.just([])
)


def _draw_both(form_class: type[forms.Form], **kwargs: Any) -> tuple[str, str]:
    fast = form_class(renderer=FAST, **kwargs)
    slow = form_class(renderer=SLOW, **kwargs)
    parts_fast = [fast.render(), *(str(bf.as_field_group()) for bf in fast)]
    parts_slow = [slow.render(), *(str(bf.as_field_group()) for bf in slow)]
    parts_fast += [str(bf.label_tag()) + str(bf.errors) for bf in fast]
    parts_slow += [str(bf.label_tag()) + str(bf.errors) for bf in slow]
    for bound_fast, bound_slow in zip(fast, slow, strict=True):
        if isinstance(bound_fast.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            parts_fast += [str(option.tag()) + str(option) for option in bound_fast]
            parts_slow += [str(option.tag()) + str(option) for option in bound_slow]
    return "\n".join(parts_fast), "\n".join(parts_slow)


@settings(max_examples=250, deadline=None)
@given(
    fields=st.lists(field_specs(), min_size=1, max_size=4),
    data=st.lists(VALUES, min_size=4, max_size=4),
    initial=st.lists(VALUES, min_size=4, max_size=4),
    bound=st.booleans(),
    prefix=st.one_of(st.none(), st.just("p")),
    auto_id=st.sampled_from(["id_%s", "", "x-%s"]),
    label_suffix=st.sampled_from([None, "", ":", " →"]),
)
def test_every_kind_of_field_is_drawn_to_the_same_bytes(
    fields: list[forms.Field],
    data: list[Any],
    initial: list[Any],
    bound: bool,
    prefix: str | None,
    auto_id: str,
    label_suffix: str | None,
) -> None:
    names = [f"f{index}" for index in range(len(fields))]
    form_class = type("Drawn", (forms.Form,), dict(zip(names, fields, strict=True)))
    kwargs: dict[str, Any] = {
        "prefix": prefix,
        "auto_id": auto_id,
        "initial": dict(zip(names, initial, strict=False)),
    }
    if label_suffix is not None:
        kwargs["label_suffix"] = label_suffix
    if bound:
        full = [f"{prefix}-{name}" if prefix else name for name in names]
        kwargs["data"] = {
            name: value if isinstance(value, list) else str(value)  # as a browser sends it
            for name, value in zip(full, data, strict=False)
            if value is not None
        }
    fast, slow = _draw_both(form_class, **kwargs)
    assert fast == slow


def test_the_fast_paths_are_taken() -> None:
    # Each fast path is on while Django's templates are as the renderer knows them; after a
    # Django upgrade that changes one, this fails and the fast path needs looking at again.
    lists = ["select", "radio", "checkbox_select"]
    for name in [*_FAST, *(f"django/forms/widgets/{name}.html" for name in lists)]:
        assert FAST.fast_path(name) is not None, name
    assert FAST.fast_path("django/forms/div.html") is None
    assert FAST.fast_path("accounts/widgets/compact_select.html") is None


def test_a_widget_drawn_fast_keeps_the_limit_note_and_its_description() -> None:
    class Note(forms.Form):
        text = forms.CharField(max_length=200, widget=forms.Textarea, help_text="Be brief.")

    form = Note(renderer=FAST, data={"text": ""})
    html = str(form["text"].as_field_group())
    assert 'aria-describedby="id_text_limit id_text_helptext id_text_error"' in html
    assert '<span class="char-limit" id="id_text_limit"' in html
    assert '<ul class="errorlist" id="id_text_error"><li>This field is required.</li></ul>' in html
    assert html == str(Note(renderer=SLOW, data={"text": ""})["text"].as_field_group())


def test_a_value_the_template_would_format_is_formatted_the_same() -> None:
    class Dated(forms.Form):
        when = forms.DateField(initial=datetime.date(2026, 12, 6))
        count = forms.IntegerField(initial=12345)
        pick = forms.ChoiceField(choices=[(1, 12345), (2, datetime.date(2026, 1, 2))])

    fast, slow = _draw_both(Dated)
    assert fast == slow
    assert isinstance(next(iter(Dated(renderer=FAST))), BoundField)
