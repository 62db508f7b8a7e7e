"""Staff admin for chat: channels with their members, and message moderation.

Channels, memberships and messages are written by the chat services (a subscription opens its
course channel; members post). Staff look, and moderate through the hide / unhide actions,
which call `message_set_hidden`. The message table is the largest in the system: its change
list reads one page by primary key and never counts the whole table.
"""

from django.contrib import admin
from django.db.models import OuterRef
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from chat.models import ChannelMembership, ChatChannel, ChatMessage
from chat.services import message_set_hidden
from platform_project.admin_tools import (
    EstimatedCountPaginator,
    ReadOnlyMixin,
    count_subquery,
    run_per_object,
)

EXCERPT_LENGTH = 80


class ChannelMembershipInline(ReadOnlyMixin, admin.TabularInline):
    model = ChannelMembership
    fields = ("user", "role", "joined_at", "last_read_seq")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("joined_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


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


@admin.register(ChatMessage)
class ChatMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "channel", "seq", "sender", "excerpt", "created_at", "is_hidden")
    list_filter = (HiddenFilter, "channel__channel_type")
    # Contains-search on content scans the table; the sender prefix search uses the username
    # index. Filter by channel with ?channel__id__exact=<id> (linked from the channel list).
    search_fields = ("content", "^sender__username")
    # No JOINs in the page query: MariaDB would drive a join from the small channels table and
    # sort a million rows; the page is read by primary key and its channels and senders are
    # fetched by id afterwards (two more queries, whatever the page size).
    list_select_related = ()
    fields = ("channel", "seq", "sender", "content", "created_at", "hidden_at", "hidden_by")
    actions = ("hide", "unhide")
    ordering = ("-id",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("channel", "sender", "hidden_by")

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
