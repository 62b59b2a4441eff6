"""Pages that gather every app: the home page ("what needs me") and "Download everything"."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from circlework.circles import two_factor
from circlework.circles.selectors import federations
from circlework.core.contributions import home_sections
from circlework.core.http import me
from circlework.site.export import practitioner_export


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: "what needs me". Signed out: what Circlework is."""
    if not request.user.is_authenticated or not hasattr(request.user, "practitioner"):
        return render(request, "site/landing.html", {"federations": federations()})
    practitioner = request.user.practitioner
    # Every list is read through the viewer's audience (request.user carries how the session
    # signed in): a circle that asks for two-factor authentication shows nothing of its own to
    # a session without the second factor, here as on its pages.
    user = request.user
    context: dict[str, Any] = {"practitioner": practitioner}
    shown: list[str] = []
    for section in home_sections():  # each app's sections, in the page's order
        part = section.context(practitioner, user)
        if part is None:
            continue  # nothing to show
        context.update(part)
        shown.append(section.template)
    context["home_sections"] = shown
    return render(request, "site/home.html", context)


@login_required
def data_export(request: HttpRequest) -> HttpResponse:
    # Everything includes what they wrote in a circle that requires a second factor: the
    # download waits for it, as the circle's own pages do.
    needs = two_factor.whole_account_needs_second_factor(request.user)
    if needs is not None:
        name, has_app = needs
        if has_app:
            messages.warning(request, two_factor.sign_in_again_message(name))
            back = reverse("accounts:data_export")
            return redirect(reverse("mfa_reauthenticate") + "?" + urlencode({"next": back}))
        messages.warning(request, two_factor.page_message(name))
        return redirect("mfa_activate_totp")
    data = practitioner_export(practitioner=me(request))
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="circlework-export-{timezone.now():%Y-%m-%d}.json"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
