"""Staff admin for chat: channels with their members, message moderation, the report queue.

Channels, memberships and messages are written by the chat services (a subscription opens its
course channel; members post). Staff look, and moderate through the hide / unhide actions,
which call `message_set_hidden`, and through the report queue (`reports_resolve`). The message
table is the largest in the system: its change list reads one page by primary key and counts
once in a while (CachedCountPaginator).

Privacy: direct conversations are not in the messages list. Staff see a direct message only when
someone reports it, in the report queue: that message and the report, without the conversation
around it.
"""

from admin_auto_filters.filters import AutocompleteFilter
from django.contrib import admin
from django.db.models import OuterRef
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from chat.models import (
    ChannelMembership,
    ChannelType,
    ChatChannel,
    ChatMessage,
    MessageReport,
    ReportStatus,
)
from chat.services import message_set_hidden, reports_resolve
from platform_project.admin_tools import (
    CachedCountPaginator,
    ReadOnlyMixin,
    count_subquery,
    run_per_object,
)

EXCERPT_LENGTH = 80
CHANNEL_PARAMETER = "channel__id__exact"


class ChannelMembershipInline(ReadOnlyMixin, admin.TabularInline):
    model = ChannelMembership
    fields = ("user", "role", "joined_at", "last_read_seq")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("joined_at", "id")

    def get_queryset(self, request):
        # Each row is labelled "<user> in <channel>".
        return super().get_queryset(request).select_related("user", "channel")


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "display_name",
        "channel_type",
        "professional",
        "member_count",
        "messages",
        "last_activity_at",
    )
    list_display_links = ("id", "display_name")
    list_filter = ("channel_type",)
    search_fields = ("name", "=related_id", "^professional__user__username")
    list_select_related = ("professional__user",)
    readonly_fields = (
        "channel_type",
        "related_id",
        "professional",
        "last_seq",
        "last_activity_at",
        "created_at",
    )
    fields = ("name", *readonly_fields)
    inlines = (ChannelMembershipInline,)
    ordering = ("-last_activity_at", "-id")

    def get_queryset(self, request):
        members = ChannelMembership.objects.filter(channel=OuterRef("pk"))
        return super().get_queryset(request).annotate(member_count=count_subquery(members))

    def save_model(self, request, obj, form, change):
        # Only the name is editable. A full save would write back every column as the form
        # loaded it: a post or hide committed meanwhile would lose its last_seq (every later post
        # would then collide on (channel, seq)), its newest message and its visibility version.
        if change:
            obj.save(update_fields=["name"])
        else:
            super().save_model(request, obj, form, change)

    # Channels exist because subscriptions opened them; deleting one would delete its history.
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="name", ordering="name")
    def display_name(self, obj: ChatChannel) -> str:
        return str(obj)

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj: ChatChannel) -> int:
        return obj.member_count

    @admin.display(description="messages", ordering="last_seq")
    def messages(self, obj: ChatChannel) -> str:
        # seq is gap-free, so the newest seq is the number of messages ever posted.
        url = reverse("admin:chat_chatmessage_changelist")
        return format_html('<a href="{}?channel__id__exact={}">{}</a>', url, obj.pk, obj.last_seq)


class HiddenFilter(admin.SimpleListFilter):
    title = "moderation"
    parameter_name = "hidden"

    def lookups(self, request, model_admin):
        return (("yes", "Hidden"), ("no", "Visible"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(hidden_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(hidden_at__isnull=True)
        return queryset


class ChannelFilter(AutocompleteFilter):
    """By channel: an autocomplete over the channels admin's search (a million messages live in
    thousands of channels; a list of every channel would not do)."""

    title = "channel"
    field_name = "channel"
    parameter_name = CHANNEL_PARAMETER  # the channels list links here with ?channel__id__exact=


@admin.register(ChatMessage)
class ChatMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # Moderation state and time first: the excerpt takes the remaining width and wraps.
    list_display = ("id", "is_hidden", "created_at", "sender", "channel", "seq", "excerpt")
    list_filter = (ChannelFilter, HiddenFilter, "channel__channel_type")
    # Everywhere: message id and sender username prefix, both on indexes. Message text only
    # within a chosen channel (get_search_results): a contains-search cannot use an index, so it
    # is bounded by the channel's range of the (channel, seq) key instead of scanning the table.
    search_fields = ("=id", "^sender__username")
    search_help_text = (
        "Message id or sender username (prefix). Pick a channel to search message text too."
    )
    # No JOINs in the page query: MariaDB would drive a join from the small channels table and
    # sort a million rows; the page is read by primary key and its channels and senders are
    # fetched by id afterwards (two more queries, whatever the page size).
    list_select_related = ()
    fields = ("channel", "seq", "sender", "content", "created_at", "hidden_at", "hidden_by")
    actions = ("hide", "unhide")
    ordering = ("-id",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CachedCountPaginator

    def get_queryset(self, request):
        # Direct conversations stay out (see the module's docstring): a subquery of the few
        # direct channels, not a JOIN (see list_select_related).
        direct = ChatChannel.objects.filter(channel_type=ChannelType.DIRECT_MESSAGE).values("pk")
        return (
            super()
            .get_queryset(request)
            .exclude(channel_id__in=direct)
            .prefetch_related("channel", "sender", "hidden_by")
        )

    def get_search_results(self, request, queryset, search_term):
        # `queryset` comes already filtered by the list filters, the channel included.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term and request.GET.get(CHANNEL_PARAMETER, "").isdigit():
            results = results | queryset.filter(content__icontains=search_term)
        return results, may_have_duplicates

    # Messages are posted through the API and moderated by hiding: the form is view-only and
    # the "change" permission is what allows moderation (see has_moderate_permission).

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("chat.change_chatmessage")

    @admin.display(description="content")
    def excerpt(self, obj: ChatMessage) -> str:
        return Truncator(obj.content).chars(EXCERPT_LENGTH)

    @admin.display(description="hidden", boolean=True, ordering="hidden_at")
    def is_hidden(self, obj: ChatMessage) -> bool:
        return obj.hidden_at is not None

    @admin.action(description="Hide selected messages", permissions=["moderate"])
    def hide(self, request, queryset):
        run_per_object(
            self,
            request,
            queryset,
            lambda m: message_set_hidden(message=m, hidden=True, by=request.user),
            "Hidden",
        )

    @admin.action(description="Unhide selected messages", permissions=["moderate"])
    def unhide(self, request, queryset):
        run_per_object(
            self,
            request,
            queryset,
            lambda m: message_set_hidden(message=m, hidden=False, by=request.user),
            "Unhidden",
        )


CONTEXT_MESSAGES = 3  # on each side of a reported message in a course channel


class ReportStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return ReportStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(MessageReport)
class MessageReportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The report queue: open reports first, oldest first; hide the messages or dismiss."""

    list_display = ("id", "status", "created_at", "reporter", "sender", "excerpt", "reason")
    list_filter = (ReportStatusFilter,)
    search_fields = ("=message__id", "^reporter__username")
    list_select_related = ("reporter", "message__sender")
    fields = ("status", "reason", "reporter", "created_at", "resolved_by", "resolved_at", "context")
    readonly_fields = fields
    actions = ("hide_messages", "dismiss")
    paginator = CachedCountPaginator

    # Open reports first: "open" sorts after "dismissed" and "actioned", so descending status
    # (a test holds the order); then oldest first.
    ordering = ("-status", "created_at", "id")

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("chat.change_messagereport")

    @admin.display(description="sender")
    def sender(self, report: MessageReport) -> str:
        return report.message.sender.username

    @admin.display(description="message")
    def excerpt(self, report: MessageReport) -> str:
        return Truncator(report.message.content).chars(EXCERPT_LENGTH)

    @admin.display(description="the message in its channel")
    def context(self, report: MessageReport) -> str:
        message = report.message
        if message.channel.is_direct:
            around = [message]  # a direct conversation: the reported message alone
        else:
            around = (
                ChatMessage.objects.filter(
                    channel_id=message.channel_id,
                    seq__gte=message.seq - CONTEXT_MESSAGES,
                    seq__lte=message.seq + CONTEXT_MESSAGES,
                )
                .select_related("sender")
                .order_by("seq")
            )
        return format_html_join(
            "",
            '<p style="{}">#{} {} ({}){}: {}</p>',
            (
                (
                    "font-weight: bold" if m.pk == message.pk else "",
                    m.seq,
                    m.sender.username,
                    m.created_at.strftime("%Y-%m-%d %H:%M"),
                    " [hidden]" if m.hidden_at else "",
                    m.content,
                )
                for m in around
            ),
        )

    @admin.action(description="Hide the reported messages", permissions=["moderate"])
    def hide_messages(self, request, queryset):
        resolved = reports_resolve(reports=list(queryset), by=request.user, hide=True)
        self.message_user(request, f"Messages hidden; reports resolved: {resolved}.")

    @admin.action(description="Dismiss the selected reports", permissions=["moderate"])
    def dismiss(self, request, queryset):
        resolved = reports_resolve(reports=list(queryset), by=request.user, hide=False)
        self.message_user(request, f"Reports dismissed: {resolved}.")
