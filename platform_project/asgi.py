"""ASGI entry point: the REST API (Django) and the chat socket (Channels) on one server.

`uvicorn platform_project.asgi:application` (`make demo`), or gunicorn with uvicorn workers
(`make serve`, gunicorn.conf.py); docs/live.md says why one server serves both.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_project.settings")

# Django first: it sets up the apps that the routes below import.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.routing import LiveOriginValidator, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": LiveOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
