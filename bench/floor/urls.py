from django.http import HttpRequest, HttpResponse
from django.urls import path


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "<!doctype html><title>Hello</title><p>Hello, world.</p>\n",
        content_type="text/html; charset=utf-8",
    )


urlpatterns = [path("", hello)]
