"""Staff admin for user accounts.

Superusers manage accounts in full. Platform staff (the `setup_roles` group, which holds
`change_user`) change one thing: a user's `account_type` (SPEC: not self-editable, staff change it
in the admin). Everything else is shown read-only to them, and setting another user's password is
a superuser's job, so they get no "Reset password" button and the password form answers 403.

The generated lower-case columns (`username_lower`, `email_lower`) back the case-insensitive
unique keys; they are computed by the database, so they never appear in a form.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.core.exceptions import PermissionDenied

from accounts.models import User
from accounts.services import user_sessions_end, users_deactivate


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


class PlatformAdminPasswordChangeForm(AdminPasswordChangeForm):
    """A superuser's "Reset password": as a password change or reset through the API, every
    session of the account ends (its tokens were issued under the old password)."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            user_sessions_end(user_ids=[user.pk])
        return user


class StaffUserChangeForm(forms.ModelForm):
    """Platform staff's form for an existing account: the account type, nothing else (no
    password widget, so no "Reset password" button)."""

    class Meta:
        model = User
        fields = ("account_type",)


@admin.register(User)
class PlatformUserAdmin(UserAdmin):
    form = PlatformUserChangeForm
    add_form = PlatformUserCreationForm
    change_password_form = PlatformAdminPasswordChangeForm

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
    # What platform staff see of an existing account; only STAFF_EDITABLE_FIELDS is a form field.
    staff_fieldsets = (
        (None, {"fields": ("username", "email", "account_type")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    STAFF_EDITABLE_FIELDS = frozenset({"account_type"})

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.staff_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and not request.user.is_superuser:
            kwargs["form"] = StaffUserChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return [
                name
                for _, options in self.staff_fieldsets
                for name in options["fields"]
                if name not in self.STAFF_EDITABLE_FIELDS
            ]
        return super().get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Closed from the change form: as the deactivate action, its sessions end.
            user_sessions_end(user_ids=[obj.pk])

    # Accounts with subscription or payment history cannot be deleted (PROTECT): close them.
    actions = ("deactivate",)

    def has_deactivate_permission(self, request) -> bool:
        # Platform staff hold change_user for the account type only (see the module docstring).
        return request.user.is_superuser

    @admin.action(
        description="Deactivate selected users (no login; history kept)", permissions=["deactivate"]
    )
    def deactivate(self, request, queryset):
        deactivated = users_deactivate(user_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Deactivated: {deactivated}.", messages.SUCCESS)

    def user_change_password(self, request, id, form_url=""):
        # `change_user` lets platform staff set the account type; it must not let them take over
        # an account (or a superuser's) by setting its password.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

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
