"""Django REST framework, bare APIView, served by gunicorn: `gunicorn twinapi_bench.refs.drf_app:application`."""

from django.conf import settings  # type: ignore[import-untyped]

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-reference-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    DATABASES={},
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
        "UNAUTHENTICATED_USER": None,
    },
)

import django  # type: ignore[import-untyped]  # noqa: E402

django.setup()

from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]  # noqa: E402
from django.urls import path  # type: ignore[import-untyped]  # noqa: E402
from rest_framework.response import Response  # type: ignore[import-untyped]  # noqa: E402
from rest_framework.views import APIView  # type: ignore[import-untyped]  # noqa: E402

from twinapi_bench.refs import BODY  # noqa: E402


class Health(APIView):  # type: ignore[misc]
    def get(self, request: object) -> Response:
        return Response(BODY)


urlpatterns = [path("health", Health.as_view())]
application = get_wsgi_application()
