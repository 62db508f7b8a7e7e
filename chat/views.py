from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.viewsets import GenericViewSet

from accounts.permissions import IsSelfOrStaff
from accounts.selectors import user_get
from chat import selectors, services
from chat.models import ChannelMembership, ChatMessage
from chat.pagination import MessageCursorPagination
from chat.permissions import ChannelAccess
from chat.serializers import (
    ChannelListItemOutputSerializer,
    ChannelReadInputSerializer,
    ChannelReadOutputSerializer,
    DirectOpenInputSerializer,
    MessageCreateInputSerializer,
    MessageListQuerySerializer,
    MessageOutputSerializer,
    MessageReportInputSerializer,
    MessageReportOutputSerializer,
)
from platform_project.schema import (
    THROTTLED,
    UNAUTHENTICATED,
    VALIDATION_ERROR,
    error,
    validation_error,
)

USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)
CHANNEL_ID = OpenApiParameter("channel_id", int, OpenApiParameter.PATH)
CHANNEL_NOT_FOUND = error("Channel not found.", "channel_not_found")
CANNOT_READ = error("You are not a member of this channel.", "cannot_read")


EXAMPLE_MESSAGE = {
    "message_id": 981,
    "channel_id": 1,
    "seq": 42,
    "sender_id": 4,
    "sender_username": "testlearner2",
    "content": "Could we go over exercise 3 again on Thursday?",
    "created_at": "2026-11-24T09:30:00.123456Z",
}
CHANNEL_LIST_EXAMPLE = OpenApiExample(
    "Channels of user 4",
    response_only=True,
    status_codes=["200"],
    value={
        "channel_id": 1,
        "channel_type": "course",
        "related_id": 1,
        "professional_id": 2,
        "name": "Python for data analysis",
        "can_post": True,
        "last_message": EXAMPLE_MESSAGE,
        "unread_count": 3,
    },
)
MESSAGE_PAGE_EXAMPLE = OpenApiExample(
    "Newest messages of channel 1", response_only=True, status_codes=["200"], value=EXAMPLE_MESSAGE
)


class MessagePostThrottle(UserRateThrottle):
    """Per-user rate of new messages (settings: DEFAULT_THROTTLE_RATES["message_post"])."""

    scope = "message_post"


class DirectOpenThrottle(UserRateThrottle):
    """Per-user rate of direct-conversation opens (DEFAULT_THROTTLE_RATES["direct_open"])."""

    scope = "direct_open"


class UserChannelViewSet(GenericViewSet):
    permission_classes = [IsSelfOrStaff]
    queryset = ChannelMembership.objects.none()  # for the schema only; rows come from selectors
    serializer_class = ChannelListItemOutputSerializer

    @extend_schema(
        operation_id="user_channels_list",
        summary="A user's channels",
        description=(
            "The user's channels, most recent activity first, each with its newest visible "
            "message and the user's unread count. The user themself, or staff (without the "
            "user's direct conversations)."
        ),
        parameters=[USER_ID],
        examples=[CHANNEL_LIST_EXAMPLE],
        responses={
            200: ChannelListItemOutputSerializer(many=True),
            401: UNAUTHENTICATED,
            403: error("You can only act on your own account.", "permission_denied"),
            404: error("User not found, or a page past the end.", "user_not_found", "not_found"),
        },
    )
    def list(self, request, user_id: int):
        own = user_id == request.user.pk
        user = request.user if own else user_get(user_id=user_id)
        # Staff see another user's course channels; direct conversations stay private to their
        # two members (staff see a direct message only when it is reported).
        page = self.paginate_queryset(selectors.channel_list_for_user(user=user, with_direct=own))
        selectors.memberships_set_can_post(page, user=user)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ChannelMessageViewSet(GenericViewSet):
    """A channel's messages: read (members, former subscribers, staff), post, mark read.

    The channel is loaded by `get_object`, after authentication, permissions and throttles
    (DRF's order); `ChannelAccess` decides reading, `message_post` posting.
    """

    permission_classes = [ChannelAccess]
    service_decided_actions = ("create",)  # message_post decides who may post
    queryset = ChatMessage.objects.none()  # for the schema only; rows come from selectors
    pagination_class = MessageCursorPagination
    serializer_class = MessageOutputSerializer

    def get_object(self):
        channel = selectors.channel_get(channel_id=self.kwargs["channel_id"])
        self.check_object_permissions(self.request, channel)
        return channel

    def get_throttles(self):
        if self.action == "create":
            return [MessagePostThrottle()]
        return super().get_throttles()

    @extend_schema(
        operation_id="channel_block",
        summary="Block a direct conversation",
        description=(
            "Either member of a direct channel may block it: while blocked, posts from both "
            "sides are refused with `blocked`. Only the side that blocked can unblock."
        ),
        parameters=[CHANNEL_ID],
        request=None,
        responses={
            204: None,
            400: error("Only direct conversations can be blocked.", "not_direct"),
            401: UNAUTHENTICATED,
            403: CANNOT_READ,
            404: CHANNEL_NOT_FOUND,
        },
    )
    def block(self, request, channel_id: int):
        services.direct_channel_set_blocked(
            channel=self.get_object(), user=request.user, blocked=True
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="channel_unblock",
        summary="Unblock a direct conversation",
        description="Lifts the caller's own block (the other side's block, if any, stays).",
        parameters=[CHANNEL_ID],
        request=None,
        responses={
            204: None,
            400: error("Only direct conversations can be blocked.", "not_direct"),
            401: UNAUTHENTICATED,
            403: CANNOT_READ,
            404: CHANNEL_NOT_FOUND,
        },
    )
    def unblock(self, request, channel_id: int):
        services.direct_channel_set_blocked(
            channel=self.get_object(), user=request.user, blocked=False
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="channel_messages_list",
        summary="A channel's messages",
        description=(
            "Visible messages, newest first, cursor-paginated: follow `next` for older "
            "messages. With `after_seq`, the messages after that seq, oldest first. Reading "
            "has no side effects (see POST …/read). Members, former subscribers (history) and "
            "staff."
        ),
        parameters=[CHANNEL_ID, MessageListQuerySerializer],
        examples=[MESSAGE_PAGE_EXAMPLE],
        responses={
            200: MessageOutputSerializer(many=True),
            400: validation_error("invalid_cursor"),  # a bad `after_seq` or cursor
            401: UNAUTHENTICATED,
            403: CANNOT_READ,
            404: CHANNEL_NOT_FOUND,
        },
    )
    def list(self, request, channel_id: int):
        channel = self.get_object()
        query = MessageListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = selectors.channel_messages(
            channel_id=channel.pk, after_seq=query.validated_data.get("after_seq")
        )
        data = self.paginator.cached_page_data(
            messages,
            request,
            self,
            channel=channel,
            serialize=lambda rows: self.get_serializer(rows, many=True).data,
        )
        return Response(data)

    @extend_schema(
        operation_id="channel_message_create",
        summary="Post a message",
        description=(
            "Only members who may post (the professional and active subscribers). "
            "Throttled per user."
        ),
        parameters=[CHANNEL_ID],
        request=MessageCreateInputSerializer,
        responses={
            201: MessageOutputSerializer,
            400: VALIDATION_ERROR,
            401: UNAUTHENTICATED,
            403: error("You cannot post in this channel.", "cannot_post", "blocked"),
            404: CHANNEL_NOT_FOUND,
            429: THROTTLED,
        },
    )
    def create(self, request, channel_id: int):
        channel = self.get_object()
        data = MessageCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_post(
            channel=channel, sender=request.user, content=data.validated_data["content"]
        )
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="channel_read",
        summary="Mark messages read",
        description=(
            "Moves the caller's read mark up to `message_id` (default: the newest message). "
            "The mark never moves backwards: an older `message_id` leaves it where it is. "
            "Answers the resulting mark and unread count."
        ),
        parameters=[CHANNEL_ID],
        request=ChannelReadInputSerializer,
        responses={
            200: ChannelReadOutputSerializer,
            400: validation_error("message_not_in_channel"),
            401: UNAUTHENTICATED,
            403: error("You are not a member of this channel.", "cannot_read", "not_member"),
            404: CHANNEL_NOT_FOUND,
        },
    )
    def read(self, request, channel_id: int):
        channel = self.get_object()
        data = ChannelReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        state = services.channel_mark_read(
            channel=channel, user=request.user, message_id=data.validated_data.get("message_id")
        )
        return Response(ChannelReadOutputSerializer(state).data)


@extend_schema_view(list=extend_schema(operation_id="channel_get"))
class ChannelPageViewSet(ChannelMessageViewSet):
    """The original path, GET /chat/channels/{channel_id}: the same page as …/messages, under
    an operation id of its own."""


class DirectChannelViewSet(GenericViewSet):
    """Opening the direct conversation of two users."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [DirectOpenThrottle]
    serializer_class = ChannelListItemOutputSerializer

    @extend_schema(
        operation_id="direct_open",
        summary="Open a direct conversation",
        description=(
            "Opens (201) or returns (200) the one direct channel of the caller and `user_id`: "
            "between a professional and a learner who holds or held a subscription to one of "
            "their plans. Posting in it follows the learner's subscriptions (read-only while "
            "none is active). Answers the caller's channel-list row. Throttled per user."
        ),
        request=DirectOpenInputSerializer,
        responses={
            200: ChannelListItemOutputSerializer,
            201: ChannelListItemOutputSerializer,
            400: validation_error("direct_self"),
            401: UNAUTHENTICATED,
            403: error(
                "Direct conversations are between a professional and their learners.",
                "direct_not_allowed",
            ),
            404: error("User not found.", "user_not_found"),
            429: THROTTLED,
        },
    )
    def create(self, request):
        data = DirectOpenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel, created = services.direct_channel_open(
            user=request.user, peer_id=data.validated_data["user_id"]
        )
        row = selectors.channel_list_row(user=request.user, channel_id=channel.pk)
        return Response(
            self.get_serializer(row).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessageReportViewSet(GenericViewSet):
    """Reporting a message to staff."""

    permission_classes = [IsAuthenticated]
    serializer_class = MessageReportOutputSerializer

    @extend_schema(
        operation_id="message_report",
        summary="Report a message",
        description=(
            "By a member of its channel who can read it; once per user and message; not one's own. "
            "Staff review open reports in the admin."
        ),
        parameters=[OpenApiParameter("message_id", int, OpenApiParameter.PATH)],
        request=MessageReportInputSerializer,
        responses={
            201: MessageReportOutputSerializer,
            400: validation_error("own_message"),
            401: UNAUTHENTICATED,
            403: CANNOT_READ,
            404: error("Message not found.", "message_not_found"),
            409: error("You have already reported this message.", "already_reported"),
        },
    )
    def create(self, request, message_id: int):
        message = selectors.message_get_visible(message_id=message_id)
        data = MessageReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.message_report(
            message=message, reporter=request.user, reason=data.validated_data["reason"]
        )
        return Response(self.get_serializer(report).data, status=status.HTTP_201_CREATED)
