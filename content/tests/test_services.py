"""content_create / content_update / content_delete: the rules hold without the API in front."""

import pytest

from accounts.tests.factories import UserFactory
from content.models import ProContent
from content.services import content_create, content_delete, content_update
from content.tests.factories import ProContentFactory
from platform_project.errors import Forbidden, NotFound, ValidationFailed
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return PlanFactory()


@pytest.fixture
def owner(plan):
    return plan.professional.user


class TestContentCreate:
    def test_creates_for_the_users_professional(self, owner, plan):
        content = content_create(
            user=owner,
            title=" Intro ",
            summary="S",
            full_content="Body",
            plan_id=plan.pk,
            is_published=True,
        )

        stored = ProContent.objects.get()
        assert stored.pk == content.pk
        assert (
            stored.professional_id,
            stored.plan_id,
            stored.title,
            stored.summary,
            stored.full_content,
            stored.is_published,
        ) == (plan.professional_id, plan.pk, "Intro", "S", "Body", True)

    def test_without_plan_is_a_draft_for_all_plans(self, owner):
        content = content_create(user=owner, title="T", full_content="B")

        assert (content.plan_id, content.is_published, content.summary) == (None, False, "")

    def test_not_a_professional(self):
        with pytest.raises(Forbidden) as raised:
            content_create(user=UserFactory(), title="T", full_content="B")

        assert raised.value.code == "not_professional"
        assert not ProContent.objects.exists()

    def test_unverified_professional(self):
        professional = ProfessionalFactory(is_verified=False)

        with pytest.raises(Forbidden) as raised:
            content_create(user=professional.user, title="T", full_content="B")

        assert raised.value.code == "professional_unverified"

    @pytest.mark.parametrize("foreign", ["other_professionals_plan", "unknown_plan"])
    def test_plan_must_be_own(self, owner, foreign):
        plan_id = PlanFactory().pk if foreign == "other_professionals_plan" else 987654321

        with pytest.raises(ValidationFailed) as raised:
            content_create(user=owner, title="T", full_content="B", plan_id=plan_id)

        assert (raised.value.code, raised.value.message) == (
            "invalid_plan",
            "plan_id: must be one of your own plans.",
        )
        assert not ProContent.objects.exists()

    def test_own_archived_plan_is_allowed(self, owner, plan):
        # Subscribers of an archived plan keep their access, so content may still target it.
        plan.is_active = False
        plan.save(update_fields=["is_active"])

        content = content_create(user=owner, title="T", full_content="B", plan_id=plan.pk)

        assert content.plan_id == plan.pk

    @pytest.mark.parametrize(
        ("title", "full_content", "code"),
        [
            ("  ", "B", "blank_title"),
            ("x" * 201, "B", "title_too_long"),
            ("T", " \n ", "blank_full_content"),
        ],
    )
    def test_invalid_text(self, owner, title, full_content, code):
        with pytest.raises(ValidationFailed) as raised:
            content_create(user=owner, title=title, full_content=full_content)

        assert raised.value.code == code


class TestContentUpdate:
    def test_changes_only_given_fields(self, owner, plan):
        item = ProContentFactory(plan=plan, summary="Old summary", is_published=False)

        content_update(user=owner, content=item, title="New", is_published=True)

        item.refresh_from_db()
        assert (item.title, item.summary, item.plan_id, item.is_published) == (
            "New",
            "Old summary",
            plan.pk,
            True,
        )

    def test_none_unties_the_plan(self, owner, plan):
        item = ProContentFactory(plan=plan)

        content_update(user=owner, content=item, plan_id=None)

        item.refresh_from_db()
        assert item.plan_id is None

    def test_moves_to_another_own_plan(self, owner, plan):
        item = ProContentFactory(plan=plan)
        second = PlanFactory(professional=plan.professional)

        content_update(user=owner, content=item, plan_id=second.pk)

        item.refresh_from_db()
        assert item.plan_id == second.pk

    def test_plan_of_another_professional(self, owner, plan):
        item = ProContentFactory(plan=plan)

        with pytest.raises(ValidationFailed) as raised:
            content_update(user=owner, content=item, plan_id=PlanFactory().pk)

        assert raised.value.code == "invalid_plan"
        item.refresh_from_db()
        assert item.plan_id == plan.pk

    def test_other_professional(self, plan):
        item = ProContentFactory(plan=plan)

        with pytest.raises(Forbidden) as raised:
            content_update(user=ProfessionalFactory().user, content=item, title="Hacked")

        assert raised.value.code == "not_owner"
        item.refresh_from_db()
        assert item.title != "Hacked"

    def test_deleted_meanwhile(self, owner, plan):
        item = ProContentFactory(plan=plan)
        ProContent.objects.filter(pk=item.pk).delete()

        with pytest.raises(NotFound):
            content_update(user=owner, content=item, title="T")


class TestContentDelete:
    def test_owner_deletes(self, owner, plan):
        item = ProContentFactory(plan=plan)

        content_delete(user=owner, content=item)

        assert not ProContent.objects.filter(pk=item.pk).exists()

    @pytest.mark.parametrize("who", ["learner", "other_professional", "unverified_owner"])
    def test_others_cannot(self, plan, who):
        item = ProContentFactory(plan=plan)
        if who == "learner":
            user, code = UserFactory(), "not_professional"
        elif who == "other_professional":
            user, code = ProfessionalFactory().user, "not_owner"
        else:
            plan.professional.is_verified = False
            plan.professional.save(update_fields=["is_verified"])
            user, code = plan.professional.user, "professional_unverified"

        with pytest.raises(Forbidden) as raised:
            content_delete(user=user, content=item)

        assert raised.value.code == code
        assert ProContent.objects.filter(pk=item.pk).exists()


def test_deleting_a_plan_never_unlocks_its_content_for_other_plans_subscribers():
    """Regression: SET_NULL used to turn a deleted plan's items into 'any plan' items."""
    from django.db.models import ProtectedError

    from content.tests.factories import ProContentFactory

    item = ProContentFactory()
    with pytest.raises(ProtectedError):
        item.plan.delete()
