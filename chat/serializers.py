"""The chat API's shapes: each written once, used by the REST responses (and live events)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chat.models import ChannelType, ReportStatus
from chat.services import MESSAGE_MAX_LENGTH, REPORT_REASON_MAX_LENGTH, message_text_blank


class ChannelLastMessageOutputSerializer(serializers.Serializer):
    """A message as a channel-list row shows it (a `ChatMessage` with its sender loaded)."""

    message_id = serializers.IntegerField(source="pk")
    seq = serializers.IntegerField(
        help_text="Position in the channel: 1, 2, 3 … without gaps, in commit order."
    )
    sender_id = serializers.IntegerField()
    sender_username = serializers.CharField(source="sender.username")
    content = serializers.CharField()
    created_at = serializers.DateTimeField()


class MessageOutputSerializer(ChannelLastMessageOutputSerializer):
    """A message of a channel's page, as posted and as pushed live."""

    channel_id = serializers.IntegerField()


class DirectPeerOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(source="pk")
    username = serializers.CharField()


class ChannelListItemOutputSerializer(serializers.Serializer):
    """One channel of a user's list: a `ChannelMembership` from
    `selectors.channel_list_for_user` (annotated with `unread_count`), given `can_post` by
    `selectors.memberships_set_can_post`."""

    channel_id = serializers.IntegerField()
    channel_type = serializers.ChoiceField(source="channel.channel_type", choices=ChannelType)
    related_id = serializers.IntegerField(
        source="channel.related_id",
        allow_null=True,
        help_text="For a course channel, the plan's id.",
    )
    professional_id = serializers.IntegerField(source="channel.professional_id", allow_null=True)
    name = serializers.CharField(source="channel.name")
    can_post = serializers.BooleanField(
        help_text="False when the user may only read the history (e.g. subscription ended)."
    )
    last_message = ChannelLastMessageOutputSerializer(
        source="channel.last_message", allow_null=True, help_text="The newest visible message."
    )
    unread_count = serializers.IntegerField(
        help_text="Visible messages by others newer than the user's read mark."
    )
    peer = serializers.SerializerMethodField(
        help_text="For a direct channel, the other member; null for other channels."
    )

    @extend_schema_field(DirectPeerOutputSerializer(allow_null=True))
    def get_peer(self, membership) -> dict | None:
        if not membership.channel.is_direct:
            return None
        direct = membership.channel.direct
        peer = direct.user_high if membership.user_id == direct.user_low_id else direct.user_low
        return DirectPeerOutputSerializer(peer).data


class MessageCreateInputSerializer(serializers.Serializer):
    # Trimmed before validation (DRF's default), and stored trimmed: the limit holds for what
    # is stored.
    content = serializers.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        error_messages={
            "blank": "A message cannot be blank.",
            "max_length": f"A message has at most {MESSAGE_MAX_LENGTH} characters.",
        },
        help_text=(
            f"1 to {MESSAGE_MAX_LENGTH} characters; leading and trailing whitespace is removed "
            "before the check and is not stored (unicode and HTML are plain text)."
        ),
    )

    def validate_content(self, value: str) -> str:
        if message_text_blank(value):  # zero-width and other invisible characters only
            raise serializers.ValidationError(self.fields["content"].error_messages["blank"])
        return value


class MessageListQuerySerializer(serializers.Serializer):
    after_seq = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**32 - 1,
        help_text=(
            "Only messages after this seq, oldest first (catch-up after a gap in live "
            "delivery); `next` continues the walk."
        ),
    )


class ChannelReadInputSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Mark read up to this message of the channel; default: the newest.",
    )


class ChannelReadOutputSerializer(serializers.Serializer):
    channel_id = serializers.IntegerField()
    last_read_seq = serializers.IntegerField(
        help_text="The seq of the last message read (never moves backwards)."
    )
    unread_count = serializers.IntegerField()


class DirectOpenInputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The other side of the conversation."
    )


class MessageReportInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REPORT_REASON_MAX_LENGTH,
        help_text=f"Why staff should look at the message: 1 to {REPORT_REASON_MAX_LENGTH} "
        "characters (trimmed).",
    )


class MessageReportOutputSerializer(serializers.Serializer):
    report_id = serializers.IntegerField(source="pk")
    message_id = serializers.IntegerField()
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    created_at = serializers.DateTimeField()
