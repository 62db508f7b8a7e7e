"""Constants and small helpers shared by the chat API tests."""

from datetime import UTC

from chat.models import ChatMessage
from chat.services import message_post

UNAUTHENTICATED = {
    "detail": "Authentication credentials were not provided.",
    "code": "not_authenticated",
}
CHANNEL_NOT_FOUND = {"detail": "Channel not found.", "code": "channel_not_found"}
CANNOT_READ = {"detail": "You are not a member of this channel.", "code": "cannot_read"}
CANNOT_POST = {"detail": "You cannot post in this channel.", "code": "cannot_post"}


def iso(value) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message_body(message: ChatMessage) -> dict:
    message = ChatMessage.objects.select_related("sender").get(pk=message.pk)
    return {
        "message_id": message.pk,
        "channel_id": message.channel_id,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "sender_username": message.sender.username,
        "content": message.content,
        "created_at": iso(message.created_at),
    }


def post(channel, user, content="hello"):
    return message_post(channel=channel, sender=user, content=content)
