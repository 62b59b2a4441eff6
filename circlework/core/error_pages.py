"""Django's handler400, for requests refused before any view could answer them.

Django raises RequestDataTooBig (a SuspiciousOperation) wherever the body is first read, be it a
middleware (the CSRF check reads a form), a view or django-ninja; each becomes a call to this
handler. A body over the limit is not a malformed request but one too large to take: 413, in the
API's error shape under /api/ and as a page in plain words elsewhere. Other refused requests
(too many form fields, a bad Host header) stay 400, in the API's shape under /api/.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.views import defaults

from circlework.core.errors import ApplicationError, TooLarge

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def too_large(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(TooLarge().as_dict(), status=TooLarge.status_code)
    return render(
        request,
        "413.html",
        {
            "limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
            "document_limit": filesizeformat(settings.CREDENTIAL_DOCUMENT_MAX_BYTES),
        },
        status=TooLarge.status_code,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    if is_api_request(request):
        error = ApplicationError("The request could not be read.")
        return JsonResponse(error.as_dict(), status=400)
    return defaults.bad_request(request, exception or Exception())
