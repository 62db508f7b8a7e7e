from rest_framework import serializers

from chat.models import ChannelType
from chat.services import MESSAGE_MAX_LENGTH
from platform_project.datetimes import utc_for_json


def _last_message_dict(message) -> dict:
    return {
        "message_id": message.pk,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "sender_username": message.sender.username,
        "content": message.content,
        "created_at": utc_for_json(message.created_at),
    }


def _last_message_columns_dict(row: dict) -> dict:
    return {
        "message_id": row["last_message_id"],
        "seq": row["last_message_seq"],
        "sender_id": row["last_message_sender_id"],
        "sender_username": row["last_message_sender_username"],
        "content": row["last_message_content"],
        "created_at": utc_for_json(row["last_message_created_at"]),
    }


class ChannelLastMessageOutputSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(source="pk")
    seq = serializers.IntegerField()
    sender_id = serializers.IntegerField()
    sender_username = serializers.CharField(source="sender.username")
    content = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, row):
        # The `last_message_*` columns of a selectors.ChannelListRows row. Declared fields
        # document the shape (OpenAPI); see MessageOutputSerializer for why it is built directly.
        return _last_message_columns_dict(row)


class ChannelListItemOutputSerializer(serializers.Serializer):
    """One channel of a user's list (built from the user's membership row)."""

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
        allow_null=True, help_text="The newest visible message, or null."
    )
    unread_count = serializers.IntegerField(
        help_text="Visible messages by others newer than the user's read mark."
    )

    def to_representation(self, row):
        # A dict row of selectors.ChannelListRows. Declared fields document the shape (OpenAPI);
        # see MessageOutputSerializer.
        return {
            "channel_id": row["channel_id"],
            "channel_type": row["channel_type"],
            "related_id": row["related_id"],
            "professional_id": row["professional_id"],
            "name": row["name"],
            "can_post": row["can_post"],
            # By the joined row, not the channel's key: a key left pointing at a message that
            # an account deletion removed while it was being posted joins nothing.
            "last_message": (
                None if row["last_message_seq"] is None else _last_message_columns_dict(row)
            ),
            "unread_count": row["unread_count"],
        }


class MessageOutputSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(source="pk")
    channel_id = serializers.IntegerField()
    seq = serializers.IntegerField(
        help_text="Position in the channel: 1, 2, 3 … without gaps, in commit order."
    )
    sender_id = serializers.IntegerField()
    sender_username = serializers.CharField(source="sender.username")
    content = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, message):
        if isinstance(message, dict):
            # A row of selectors.channel_messages (with its sender_username attached).
            return {
                "message_id": message["id"],
                "channel_id": message["channel_id"],
                "seq": message["seq"],
                "sender_id": message["sender_id"],
                "sender_username": message["sender_username"],
                "content": message["content"],
                "created_at": utc_for_json(message["created_at"]),
            }
        # The declared fields document the shape (OpenAPI, validation of nothing: output only).
        # Building the dict directly: DRF's per-field get_attribute / to_representation and
        # DateTimeField's time-zone lookups were ~1.8 ms of a 50-message page (~20% of the
        # request in pyinstrument); this is ~0.1 ms. Same keys, same values, same formats.
        return {
            "message_id": message.pk,
            "channel_id": message.channel_id,
            **_last_message_dict(message),
        }


class MessageCreateInputSerializer(serializers.Serializer):
    content = serializers.CharField(
        trim_whitespace=False,
        allow_blank=True,  # blank is reported below with the same message as whitespace-only
        help_text=(
            f"1 to {MESSAGE_MAX_LENGTH} characters after trimming; stored exactly as sent "
            "(unicode and HTML are plain text)."
        ),
    )

    def validate_content(self, value: str) -> str:
        # The service checks the same rule; checking here too gives the field-shaped error.
        text = value.strip()
        if not text:
            raise serializers.ValidationError("A message cannot be blank.", code="blank")
        if len(text) > MESSAGE_MAX_LENGTH:
            raise serializers.ValidationError(
                f"A message has at most {MESSAGE_MAX_LENGTH} characters.", code="max_length"
            )
        return value


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
