from django.conf import settings
from django.db import models
from django.db.models import Max, Q
from django.utils import timezone


class ChannelType(models.TextChoices):
    COURSE = "course", "Course"
    DIRECT_MESSAGE = "direct_message", "Direct message"


class ChatChannel(models.Model):
    """A conversation. A course channel belongs to one plan (`related_id` = plan id).

    `related_id` is deliberately not a foreign key: other channel types point at other things
    (or at nothing), and the unique key (channel_type, related_id) keeps one course channel per
    plan. MySQL treats NULLs as distinct in unique keys, so channels without a related object are
    not limited by it.

    `last_seq` is the seq of the newest message; posting takes `last_seq + 1` under this row's
    lock, so seqs are gap-free in commit order.
    """

    channel_type = models.CharField(max_length=20, choices=ChannelType.choices)
    related_id = models.BigIntegerField(null=True, blank=True)
    professional = models.ForeignKey(
        "subscriptions.Professional",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="channels",
    )
    name = models.CharField(max_length=200, blank=True)
    last_seq = models.PositiveIntegerField(default=0)
    # Bumped whenever a message's visibility changes (hide, unhide). With `last_seq` it names
    # one state of the channel's visible messages: message pages are cached under both.
    visibility_version = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(default=timezone.now)
    # The newest visible message, or None (no message yet, or all hidden). Kept by the services:
    # posting sets it, hiding/unhiding and account deletion recompute it
    # (`channels_refresh_last_message`), so the channel list joins it by primary key instead of
    # searching every channel's messages for it. No database constraint and no cascade: an
    # account's messages go by a fast DELETE (a reverse relation with a cascade would make
    # Django load each message first), and the same transaction recomputes this column.
    # No index: nothing looks channels up by it, and every post writes it.
    last_message = models.ForeignKey(
        "ChatMessage",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "chat_channels"
        constraints = [
            models.UniqueConstraint(
                fields=["channel_type", "related_id"], name="chat_channels_type_related_unique"
            ),
            models.CheckConstraint(
                condition=Q(channel_type__in=ChannelType.values),
                name="chat_channels_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.channel_type} #{self.pk}"

    @property
    def is_direct(self) -> bool:
        return self.channel_type == ChannelType.DIRECT_MESSAGE


class MembershipRole(models.TextChoices):
    MEMBER = "member", "Member"
    PROFESSIONAL = "professional", "Professional"


class ChannelMembership(models.Model):
    channel = models.ForeignKey(ChatChannel, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_memberships"
    )
    role = models.CharField(
        max_length=20, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    joined_at = models.DateTimeField(default=timezone.now)
    # The seq of the last message this member has read; unread = newer visible messages.
    # Invariant: at least the seq of every message this member sent in the channel (posting
    # moves it to the new message, it never moves back, and `save()` starts a new membership
    # there), so the unread count never has to look for the member's own messages.
    last_read_seq = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "chat_memberships"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "user"], name="chat_memberships_channel_user_unique"
            ),
        ]
        indexes = [models.Index(fields=["user", "channel"], name="chat_memberships_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.channel}"

    def save(self, *args, **kwargs):
        if self._state.adding:
            # A member re-added after posting here starts with their own messages read.
            newest_own = ChatMessage.objects.filter(
                channel_id=self.channel_id, sender_id=self.user_id
            ).aggregate(newest=Max("seq"))["newest"]
            self.last_read_seq = max(self.last_read_seq, newest_own or 0)
        super().save(*args, **kwargs)


class ChatMessage(models.Model):
    channel = models.ForeignKey(ChatChannel, on_delete=models.CASCADE, related_name="messages")
    # Position in the channel: 1, 2, 3 … without gaps, in commit order.
    seq = models.PositiveIntegerField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    content = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The channel id while the message is hidden, else NULL; computed by the database. Its index
    # holds only hidden messages, so "hidden messages of channel X after seq N" is a tiny range.
    hidden_in_channel = models.GeneratedField(
        expression=models.Case(
            models.When(hidden_at__isnull=False, then=models.F("channel_id")), default=None
        ),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
    )

    class Meta:
        db_table = "chat_messages"
        constraints = [
            # Also the index behind every page query: WHERE channel_id = ? [AND seq < ?]
            # ORDER BY seq DESC LIMIT n reads this index backwards, with no filesort.
            models.UniqueConstraint(fields=["channel", "seq"], name="chat_messages_channel_seq"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="chat_messages_seq_positive"),
        ]
        indexes = [
            # A member's newest own message in a channel (a new membership's read mark), and
            # the hidden messages after a read mark (unread counts): small ranges of these
            # keys. Neither serves message pages, which use (channel_id, seq).
            models.Index(fields=["sender", "channel", "seq"], name="chat_messages_sender_idx"),
            models.Index(fields=["hidden_in_channel", "seq"], name="chat_messages_hidden_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.channel_id}"


class DirectChannel(models.Model):
    """The pair behind a `direct_message` channel: one channel per pair of users.

    The pair is stored in a fixed order (`user_low` < `user_high`), so a plain unique key holds
    one channel per pair on every database (MySQL has no partial or functional unique indexes).
    A DM is between a professional (the channel's `professional`) and a learner who holds or
    held a subscription to one of their plans; `learner` names which of the two that is, for
    the posting rule. Each side may block the channel; posting is refused while either does.
    """

    channel = models.OneToOneField(
        ChatChannel, on_delete=models.CASCADE, primary_key=True, related_name="direct"
    )
    user_low = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    user_high = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    blocked_by_low = models.BooleanField(default=False)
    blocked_by_high = models.BooleanField(default=False)

    class Meta:
        db_table = "chat_direct_channels"
        constraints = [
            models.UniqueConstraint(
                fields=["user_low", "user_high"], name="chat_direct_pair_unique"
            ),
            models.CheckConstraint(
                condition=Q(user_low__lt=models.F("user_high")), name="chat_direct_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_low_id} ↔ {self.user_high_id}"

    @property
    def is_blocked(self) -> bool:
        return self.blocked_by_low or self.blocked_by_high


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    ACTIONED = "actioned", "Message hidden"


class MessageReport(models.Model):
    """A member's report of a message, for staff to review (one per user and message)."""

    # DO_NOTHING: a cascade from messages would make Django load every message of a deleted
    # account before deleting it, instead of one DELETE by sender. The services that delete
    # messages (account deletion, a direct channel's deletion) delete their reports first.
    message = models.ForeignKey(ChatMessage, on_delete=models.DO_NOTHING, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_reports"
    )
    reason = models.TextField()
    status = models.CharField(
        max_length=20, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "chat_message_reports"
        constraints = [
            models.UniqueConstraint(
                fields=["message", "reporter"], name="chat_reports_message_reporter_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values), name="chat_reports_status_valid"
            ),
        ]
        indexes = [
            # The staff queue: open reports first, oldest first.
            models.Index(fields=["status", "created_at", "id"], name="chat_reports_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"report of message {self.message_id} ({self.status})"
