"""Staff admin for user accounts.

The generated lower-case columns (`username_lower`, `email_lower`) back the case-insensitive
unique keys; they are computed by the database, so they never appear in a form.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User


def _email_taken(email: str, *, exclude_pk: int | None) -> bool:
    # The unique key on email_lower would reject it anyway, but as an IntegrityError (a 500):
    # the form says it first. The model form cannot, since email_lower is not one of its fields.
    return User.objects.filter(email_lower=email.lower()).exclude(pk=exclude_pk).exists()


class PlatformUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email", "account_type")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if _email_taken(email, exclude_pk=None):
            raise forms.ValidationError("A user with that email address already exists.")
        return email


class PlatformUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if _email_taken(email, exclude_pk=self.instance.pk):
            raise forms.ValidationError("A user with that email address already exists.")
        return email


@admin.register(User)
class PlatformUserAdmin(UserAdmin):
    form = PlatformUserChangeForm
    add_form = PlatformUserCreationForm

    list_display = ("username", "email", "account_type", "is_staff", "date_joined")
    list_filter = ("account_type", "is_staff", "is_superuser", "is_active", "groups")
    # Prefix searches ("^"): LIKE 'term%' can use the unique indexes on username and on the
    # lower-cased email, where a contains-search would scan the whole users table.
    search_fields = ("^username", "^email_lower")
    # Newest accounts first, by primary key (no filesort over a large table).
    ordering = ("-id",)
    show_facets = admin.ShowFacets.NEVER

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "account_type")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "account_type",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )


# --- Admin login lockouts (django-axes, see accounts.lockout) ------------------------------------
@admin.action(description="Lift lockout (forget these failed attempts)", permissions=["delete"])
def lift_lockout(modeladmin, request, queryset):
    # Deleting the attempt rows is how axes resets a lockout (its `axes_reset` command does the
    # same); the queryset delete also runs axes' post_delete receivers.
    lifted, _ = queryset.delete()
    modeladmin.message_user(request, f"Lockouts lifted: {lifted}.", messages.SUCCESS)


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    actions = ["lift_lockout", *axes_admin.AccessAttemptAdmin.actions]
    ordering = ("-attempt_time", "-id")

    lift_lockout = lift_lockout


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, AccessAttemptAdmin)
