from django.db import transaction
from django.urls import path

from chat.views import ChannelMessageViewSet, UserChannelViewSet

urlpatterns = [
    path("users/<id:user_id>/channels", UserChannelViewSet.as_view({"get": "list"})),
    # The original path: the same message list as …/messages.
    path("channels/<id:channel_id>", ChannelMessageViewSet.as_view({"get": "list"})),
    # Outside the request transaction: posting is one statement batch that is its own
    # transaction on MySQL/MariaDB (chat.services._message_post_mysql), and everything else
    # the view does is a read. Elsewhere message_post opens its own transaction.atomic.
    path(
        "channels/<id:channel_id>/messages",
        transaction.non_atomic_requests(
            ChannelMessageViewSet.as_view({"get": "list", "post": "create"})
        ),
    ),
    path("channels/<id:channel_id>/read", ChannelMessageViewSet.as_view({"post": "read"})),
]
