"""Development only (config.settings.dev, `make run`): a page that does not exist shows the
product's own "not found" page, as production does, not Django's debug page listing every route.

Django answers Http404 with its debug page whenever DEBUG is on; this middleware, the innermost,
answers first with the project's handler404. A path that resolves to no route is answered before
the view step, so CommonMiddleware still adds a missing slash (it redirects on a 404 response).
Every other error keeps Django's debug page: that one is for the developer.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver, resolve


class ProductNotFoundPage:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        urlconf = getattr(request, "urlconf", None)
        try:
            resolve(request.path_info, urlconf)
        except Resolver404 as exception:
            return self._not_found(request, exception)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return self._not_found(request, exception)
        return None

    def _not_found(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        resolver = get_resolver(getattr(request, "urlconf", None))
        handler: Callable[[HttpRequest, Exception], HttpResponse] = resolver.resolve_error_handler(
            404
        )  # type: ignore[assignment]
        return handler(request, exception)
