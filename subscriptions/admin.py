"""Staff admin for professionals, plans, subscriptions and payments, and the site's branding.

Every change list costs the same number of queries whatever its page holds: related rows come
through `list_select_related`, counts through annotations or per-row subqueries on indexed keys.
Actions with side effects (verify, revoke, cancel) call the services, like the commands do.
Subscriptions and payments are history: read-only here, changed only through the services.
"""

from admin_auto_filters.filters import AutocompleteFilter
from django.contrib import admin, messages
from django.db.models import Count, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from platform_project.admin_tools import (
    CachedCountPaginator,
    ReadOnlyMixin,
    count_subquery,
    run_per_object,
)
from subscriptions.catalogue import catalogue_changed
from subscriptions.models import (
    Payment,
    Professional,
    ProfessionalPlan,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.services import (
    professional_apply,
    professional_set_verified,
    subscription_cancel,
)

# --- Site branding and the index dashboard ---------------------------------------------------
admin.site.site_header = "Learning Platform"
admin.site.site_title = "Learning Platform admin"
admin.site.index_title = "Platform administration"
# "View site": the API's own documentation (the API root itself is not a page).
admin.site.site_url = "/docs"

PENDING_ON_DASHBOARD = 5


_default_index = admin.site.index


def _index_with_dashboard(request: HttpRequest, extra_context: dict | None = None):
    """AdminSite.index plus the pending-verification dashboard (templates/admin/index.html).

    Wrapping the default site's index keeps settings untouched (no custom AdminSite class to
    swap in); the two queries run only on the index page and only for staff who may see
    professionals.
    """
    context = dict(extra_context or {})
    if request.user.has_perm("subscriptions.view_professional"):
        pending = Professional.objects.filter(is_verified=False)
        context["pending_verification_count"] = pending.count()
        context["pending_professionals"] = list(
            pending.select_related("user").order_by("created_at", "id")[:PENDING_ON_DASHBOARD]
        )
        context["pending_changelist_url"] = (
            reverse("admin:subscriptions_professional_changelist") + "?is_verified__exact=0"
        )
    return _default_index(request, extra_context=context)


# The site's URLs wrap `self.index` when they are built (after every admin module has loaded).
admin.site.index = _index_with_dashboard


class ProfessionalFilter(AutocompleteFilter):
    """By professional: an autocomplete over the professionals admin's search, not a list of
    every professional (one query for the chosen one, whatever the table holds)."""

    title = "professional"
    field_name = "professional"
    parameter_name = "professional"  # the plans column links here with ?professional=<id>


class PlanFilter(AutocompleteFilter):
    """By plan: an autocomplete over the plans admin's search."""

    title = "plan"
    field_name = "plan"
    parameter_name = "plan"  # the plans list's subscriber counts link here with ?plan=<id>


# --- Professionals -----------------------------------------------------------------------------
class ProfessionalPlanInline(admin.TabularInline):
    model = ProfessionalPlan
    fields = ("name", "price", "currency", "duration_days", "is_active")
    extra = 0
    show_change_link = True


@admin.register(Professional)
class ProfessionalAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "username",
        "headline",
        "verified",
        "verified_at",
        "plan_count",
        "created_at",
    )
    list_display_links = ("id", "username")
    list_filter = ("is_verified",)
    search_fields = ("^user__username", "headline")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    fields = ("user", "headline", "bio", "is_verified", "verified_at", "verified_by", "created_at")
    # Verification goes through the actions (the service records when and by whom).
    readonly_fields = ("is_verified", "verified_at", "verified_by", "created_at")
    inlines = (ProfessionalPlanInline,)
    actions = ("verify", "revoke")
    ordering = ("-id",)

    def get_queryset(self, request):
        # select_related also serves the autocomplete view, whose labels show the username.
        return (
            super().get_queryset(request).select_related("user").annotate(plan_count=Count("plans"))
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # A profile never moves to another account.
            return ("user", *self.readonly_fields)
        return self.readonly_fields

    @admin.display(description="username", ordering="user__username")
    def username(self, obj: Professional) -> str:
        return obj.user.username

    @admin.display(description="verified", boolean=True, ordering="is_verified")
    def verified(self, obj: Professional) -> bool:
        return obj.is_verified

    @admin.display(description="plans", ordering="plan_count")
    def plan_count(self, obj: Professional) -> str:
        url = reverse("admin:subscriptions_professionalplan_changelist")
        return format_html('<a href="{}?professional={}">{}</a>', url, obj.pk, obj.plan_count)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new profile starts the way an application through the API does.
        created = professional_apply(user=obj.user, headline=obj.headline, bio=obj.bio)
        obj.pk = created.pk
        obj.created_at = created.created_at

    @admin.action(description="Verify selected professionals", permissions=["change"])
    def verify(self, request, queryset):
        run_per_object(
            self,
            request,
            queryset,
            lambda p: professional_set_verified(professional=p, verified=True, by=request.user),
            "Verified",
        )

    @admin.action(
        description="Revoke verification of selected professionals", permissions=["change"]
    )
    def revoke(self, request, queryset):
        run_per_object(
            self,
            request,
            queryset,
            lambda p: professional_set_verified(professional=p, verified=False, by=request.user),
            "Revoked",
        )


# --- Plans -------------------------------------------------------------------------------------
@admin.register(ProfessionalPlan)
class ProfessionalPlanAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "professional",
        "price",
        "currency",
        "duration_days",
        "is_active",
        "active_subscribers",
        "created_at",
    )
    list_display_links = ("id", "name")
    list_editable = ("price", "is_active")
    list_filter = ("is_active", ProfessionalFilter, "currency")
    search_fields = ("name", "^professional__user__username")
    list_select_related = ("professional__user",)
    autocomplete_fields = ("professional",)
    readonly_fields = ("created_at", "updated_at")
    ordering = ("-id",)
    # A plan with subscriptions cannot be deleted (PROTECT keeps its payment history): archive it.
    actions = ("archive",)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # A plan never changes hands: its course channel, its subscribers' entitlement and
            # the content tied to it all follow its professional.
            return ("professional", *self.readonly_fields)
        return self.readonly_fields

    @admin.action(
        description="Archive selected plans (no new subscriptions)", permissions=["change"]
    )
    def archive(self, request, queryset):
        archived = queryset.filter(is_active=True).update(
            is_active=False, updated_at=timezone.now()
        )
        catalogue_changed()  # update() sends no save signal
        self.message_user(request, f"Archived: {archived}.", messages.SUCCESS)

    def get_queryset(self, request):
        active = Subscription.objects.filter(plan=OuterRef("pk"), status=SubscriptionStatus.ACTIVE)
        return (
            super()
            .get_queryset(request)
            .select_related("professional__user")
            .annotate(active_subscriber_count=count_subquery(active))
        )

    @admin.display(description="active subscribers", ordering="active_subscriber_count")
    def active_subscribers(self, obj: ProfessionalPlan) -> str:
        url = reverse("admin:subscriptions_subscription_changelist")
        return format_html(
            '<a href="{}?plan={}&status__exact=active">{}</a>',
            url,
            obj.pk,
            obj.active_subscriber_count,
        )


# --- Subscriptions and payments (history: read-only) -------------------------------------------
class PaymentInline(ReadOnlyMixin, admin.TabularInline):
    model = Payment
    fields = ("transaction_id", "payment_method", "amount", "currency", "paid_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-paid_at", "-id")


class ReadOnlyHistoryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Subscriptions and payments: history, changed only through the services."""


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "id",
        "user",
        "plan",
        "status",
        "started_at",
        "expires_at",
        "cancelled_at",
    )
    list_filter = ("status", PlanFilter)
    date_hierarchy = "started_at"
    search_fields = ("^user__username", "=id")
    # Millions of rows: the page is read by primary key without JOINs (MariaDB would drive a
    # join from the small plans table and sort the whole table); users and plans of the page
    # are fetched by id afterwards, two queries whatever the page size.
    list_select_related = ()
    inlines = (PaymentInline,)
    actions = ("cancel",)
    ordering = ("-id",)
    # Millions of rows: no COUNT(*) of the whole table, no facet counts.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CachedCountPaginator

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("user", "plan")

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("subscriptions.change_subscription")

    @admin.action(description="Cancel selected subscriptions", permissions=["cancel"])
    def cancel(self, request, queryset):
        run_per_object(
            self,
            request,
            queryset,
            lambda s: subscription_cancel(subscription=s, reason="Cancelled by staff."),
            "Cancelled",
        )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyHistoryAdmin):
    list_display = (
        "transaction_id",
        "user",
        "plan",
        "amount",
        "currency",
        "payment_method",
        "paid_at",
    )
    list_filter = ("payment_method",)
    date_hierarchy = "paid_at"
    search_fields = ("=transaction_id", "^subscription__user__username")
    list_select_related = ()  # see SubscriptionAdmin
    ordering = ("-id",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CachedCountPaginator

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("subscription__user", "subscription__plan")
        )

    @admin.display(ordering="subscription__user__username")
    def user(self, obj: Payment):
        return obj.subscription.user

    @admin.display(ordering="subscription__plan__name")
    def plan(self, obj: Payment):
        return obj.subscription.plan
