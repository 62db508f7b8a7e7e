"""Staff admin for professionals' pro content.

Staff edit items as an editor would (fix a title, unpublish). The content services check that
the *owning professional* makes the change, so staff edits go through the model form, which
applies the same single-row rules: a plan must belong to the item's professional.
"""

from django import forms
from django.contrib import admin

from content.models import ProContent


class ProContentAdminForm(forms.ModelForm):
    class Meta:
        model = ProContent
        fields = ("professional", "plan", "title", "summary", "full_content", "is_published")

    def clean(self):
        cleaned = super().clean()
        professional, plan = cleaned.get("professional"), cleaned.get("plan")
        if plan and professional and plan.professional_id != professional.pk:
            self.add_error("plan", "This plan belongs to another professional.")
        return cleaned


@admin.register(ProContent)
class ProContentAdmin(admin.ModelAdmin):
    form = ProContentAdminForm
    list_display = (
        "id",
        "title",
        "professional",
        "plan",
        "is_published",
        "created_at",
        "updated_at",
    )
    list_display_links = ("id", "title")
    list_filter = ("is_published",)
    search_fields = ("title", "^professional__user__username")
    list_select_related = ("professional__user", "plan")
    autocomplete_fields = ("professional", "plan")
    readonly_fields = ("created_at", "updated_at")
    ordering = ("-id",)
