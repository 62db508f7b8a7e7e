from django.urls import path

from chat.live_views import WsTicketView
from chat.views import (
    ChannelMessageViewSet,
    ChannelPageViewSet,
    DirectChannelViewSet,
    MessageReportViewSet,
    UserChannelViewSet,
)

urlpatterns = [
    path("ws-ticket", WsTicketView.as_view()),
    path("users/<id:user_id>/channels", UserChannelViewSet.as_view({"get": "list"})),
    # The original path: the same message list as …/messages.
    path("channels/<id:channel_id>", ChannelPageViewSet.as_view({"get": "list"})),
    path(
        "channels/<id:channel_id>/messages",
        ChannelMessageViewSet.as_view({"get": "list", "post": "create"}),
    ),
    path("channels/<id:channel_id>/read", ChannelMessageViewSet.as_view({"post": "read"})),
    path("channels/<id:channel_id>/block", ChannelMessageViewSet.as_view({"post": "block"})),
    path("channels/<id:channel_id>/unblock", ChannelMessageViewSet.as_view({"post": "unblock"})),
    path("direct", DirectChannelViewSet.as_view({"post": "create"})),
    path("messages/<id:message_id>/report", MessageReportViewSet.as_view({"post": "create"})),
]
