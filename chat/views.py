from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound as DRFNotFound
from rest_framework.exceptions import ParseError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.viewsets import GenericViewSet

from accounts.authentication import fetched_with_user
from accounts.permissions import IsSelfOrStaff
from accounts.selectors import user_get
from chat import selectors, services
from chat.models import ChannelMembership, ChatMessage
from chat.permissions import ChannelAccess
from chat.serializers import (
    ChannelListItemOutputSerializer,
    ChannelReadInputSerializer,
    ChannelReadOutputSerializer,
    MessageCreateInputSerializer,
    MessageOutputSerializer,
)
from platform_project.prepared import PreparedCall
from platform_project.schema import (
    THROTTLED,
    UNAUTHENTICATED,
    VALIDATION_ERROR,
    error,
)
from platform_project.serializers import represent_many

USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)
CHANNEL_ID = OpenApiParameter("channel_id", int, OpenApiParameter.PATH)
CHANNEL_NOT_FOUND = error("Channel not found.", "channel_not_found")
CANNOT_READ = error("You are not a member of this channel.", "cannot_read")


class MessageCursorPagination(CursorPagination):
    """Newest first, keyed by `seq`: a walk along `next` never skips or repeats a message while
    new ones arrive (they land above the first page), and a deep page costs what the first does.
    """

    ordering = "-seq"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except DRFNotFound:
            # DRF answers a corrupt cursor with 404; it is a bad request, not a missing page.
            raise ParseError("Invalid cursor.", code="invalid_cursor") from None
        position = None if cursor is None else cursor.position
        if position is not None and not (
            position.isascii() and position.isdigit() and len(position) <= 10
        ):
            # A hand-made cursor: a position that is not a seq (letters, "²", thousands of
            # digits that int() refuses) would reach the seq lookup. Seqs have at most 10 digits.
            raise ParseError("Invalid cursor.", code="invalid_cursor")
        return cursor


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


class UserChannelViewSet(GenericViewSet):
    permission_classes = [IsSelfOrStaff]
    queryset = ChannelMembership.objects.none()  # for the schema only; rows come from selectors
    serializer_class = ChannelListItemOutputSerializer

    def prepared_with_user(self, user_id: int) -> PreparedCall | None:
        """One's own list: its page is read in the same round trip as the authenticated user
        (accounts.authentication; on MariaDB), one round trip fewer a list."""
        if self.action != "list" or self.kwargs.get("user_id") != user_id:
            return None
        rows = self.paginator.requested_slice(self.request)
        if rows is None:
            return None
        return selectors.channel_list_page_call(user_id=user_id, start=rows[0], stop=rows[1])

    @extend_schema(
        summary="A user's channels",
        description=(
            "The user's channels, most recent activity first, each with its newest visible "
            "message and the user's unread count. The user themself or staff."
        ),
        parameters=[USER_ID],
        examples=[CHANNEL_LIST_EXAMPLE],
        responses={
            200: ChannelListItemOutputSerializer(many=True),
            401: UNAUTHENTICATED,
            403: error("You can only act on your own account.", "permission_denied"),
            404: error("User not found.", "user_not_found"),
        },
    )
    def list(self, request, user_id: int):
        user = request.user if user_id == request.user.pk else user_get(user_id=user_id)
        rows = selectors.ChannelListRows(user=user, fetched=fetched_with_user(request))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(represent_many(self.get_serializer(), page))


class ChannelMessageViewSet(GenericViewSet):
    """A channel's messages: read (members, former subscribers, staff), post, mark read."""

    permission_classes = [ChannelAccess]
    queryset = ChatMessage.objects.none()  # for the schema only; rows come from selectors
    pagination_class = MessageCursorPagination
    serializer_class = MessageOutputSerializer
    posting_actions = ("create",)

    def prepared_with_user(self, user_id: int) -> PreparedCall | None:
        """The channel (with the user's subscription columns) is read in the same round trip as
        the authenticated user (accounts.authentication; on MariaDB): one round trip fewer on
        every message page, post and read mark (not for OPTIONS or a refused method)."""
        if self.action not in ("list", "create", "read"):
            return None
        return selectors.channel_get_call(channel_id=self.kwargs["channel_id"], user_id=user_id)

    def get_object(self):
        channel = selectors.channel_get(
            channel_id=self.kwargs["channel_id"],
            user=self.request.user,
            fetched=fetched_with_user(self.request),
        )
        self.check_object_permissions(self.request, channel)
        return channel

    def get_throttles(self):
        if self.action == "create":
            return [MessagePostThrottle()]
        return super().get_throttles()

    @extend_schema(
        summary="A channel's messages",
        description=(
            "Visible messages, newest first, cursor-paginated: follow `next` for older "
            "messages. Reading has no side effects (see POST …/read). Members, former "
            "subscribers (history) and staff."
        ),
        parameters=[CHANNEL_ID],
        examples=[MESSAGE_PAGE_EXAMPLE],
        responses={
            200: MessageOutputSerializer(many=True),
            400: error("Invalid cursor.", "invalid_cursor"),
            401: UNAUTHENTICATED,
            403: CANNOT_READ,
            404: CHANNEL_NOT_FOUND,
        },
    )
    def list(self, request, channel_id: int):
        rows = selectors.ChannelMessageRows(channel=self.get_object(), cached=True)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(represent_many(self.get_serializer(), page))

    @extend_schema(
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
            403: error("You cannot post in this channel.", "cannot_post"),
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
            400: VALIDATION_ERROR,
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
