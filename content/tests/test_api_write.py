"""POST /content/, PATCH and DELETE /content/{content_id}: the owning verified professional only."""

import pytest

from accounts.tests.factories import UserFactory
from content.models import ProContent
from content.tests.conftest import NOT_FOUND_BODY, UNAUTHENTICATED_BODY, detail_body, subscribe
from content.tests.factories import ProContentFactory
from subscriptions.tests.factories import PlanFactory, ProfessionalFactory

pytestmark = pytest.mark.django_db

INVALID_PLAN_BODY = {"detail": "plan_id: must be one of your own plans.", "code": "invalid_plan"}
NOT_OWNER_BODY = {"detail": "Only the item's professional may change it.", "code": "not_owner"}
NOT_PROFESSIONAL_BODY = {
    "detail": "Only professionals can publish content.",
    "code": "not_professional",
}
UNVERIFIED_BODY = {
    "detail": "Your professional profile is not verified yet.",
    "code": "professional_unverified",
}


@pytest.fixture
def plan():
    return PlanFactory()


@pytest.fixture
def owner(plan):
    return plan.professional.user


@pytest.fixture
def item(plan):
    return ProContentFactory(plan=plan)


class TestCreate:
    def test_owner_creates(self, owner, plan, client_for):
        payload = {
            "title": "  Breathing drills  ",
            "summary": "Ten minutes a day.",
            "full_content": "Inhale for four, hold for seven, exhale for eight.",
            "plan_id": plan.pk,
            "is_published": True,
        }

        response = client_for(owner).post("/content/", payload)

        assert response.status_code == 201
        created = ProContent.objects.get()
        assert response.json() == detail_body(created, entitled=True)
        assert (created.title, created.professional_id, created.plan_id) == (
            "Breathing drills",
            plan.professional_id,
            plan.pk,
        )

    def test_defaults_are_a_draft_for_all_plans(self, owner, client_for):
        response = client_for(owner).post("/content", {"title": "Notes", "full_content": "Body"})

        assert response.status_code == 201
        created = ProContent.objects.get()
        assert response.json() == detail_body(created, entitled=True)
        assert (created.plan_id, created.is_published, created.summary) == (None, False, "")

    def test_anonymous_is_401(self, api_client):
        response = api_client.post("/content/", {"title": "T", "full_content": "B"})

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED_BODY

    def test_learner_is_403(self, user, client_for):
        response = client_for(user).post("/content/", {"title": "T", "full_content": "B"})

        assert response.status_code == 403
        assert response.json() == NOT_PROFESSIONAL_BODY
        assert not ProContent.objects.exists()

    def test_unverified_professional_is_403(self, client_for):
        professional = ProfessionalFactory(is_verified=False, verified_at=None)

        response = client_for(professional.user).post(
            "/content/", {"title": "T", "full_content": "B"}
        )

        assert response.status_code == 403
        assert response.json() == UNVERIFIED_BODY

    @pytest.mark.parametrize(
        ("payload", "errors"),
        [
            ({"title": "   ", "full_content": "B"}, {"title": ["This field may not be blank."]}),
            ({"title": "T"}, {"full_content": ["This field is required."]}),
            (
                {"title": "x" * 201, "full_content": "B"},
                {"title": ["Ensure this field has no more than 200 characters."]},
            ),
            (
                {"title": "T", "full_content": "B", "plan_id": "abc"},
                {"plan_id": ["A valid integer is required."]},
            ),
            (
                {"title": "T", "full_content": "B", "is_published": "maybe"},
                {"is_published": ["Must be a valid boolean."]},
            ),
        ],
    )
    def test_bad_input_is_400(self, payload, errors, owner, client_for):
        response = client_for(owner).post("/content/", payload)

        assert response.status_code == 400
        assert response.json() == errors
        assert not ProContent.objects.exists()

    def test_plan_of_another_professional_is_400(self, owner, client_for):
        foreign_plan = PlanFactory()

        response = client_for(owner).post(
            "/content/", {"title": "T", "full_content": "B", "plan_id": foreign_plan.pk}
        )

        assert response.status_code == 400
        assert response.json() == INVALID_PLAN_BODY
        assert not ProContent.objects.exists()

    def test_unknown_plan_is_400(self, owner, client_for):
        response = client_for(owner).post(
            "/content/", {"title": "T", "full_content": "B", "plan_id": 987654321}
        )

        assert response.status_code == 400
        assert response.json() == INVALID_PLAN_BODY

    def test_non_json_body_is_415(self, owner, client_for):
        response = client_for(owner).post(
            "/content/", "title=T", content_type="application/x-www-form-urlencoded"
        )

        assert response.status_code == 415
        assert response.json() == {
            "detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.',
            "code": "unsupported_media_type",
        }


class TestUpdate:
    def test_owner_updates_only_what_is_sent(self, owner, item, client_for):
        before = ProContent.objects.get(pk=item.pk)

        response = client_for(owner).patch(
            f"/content/{item.pk}", {"title": "New title", "plan_id": None}
        )

        assert response.status_code == 200
        item.refresh_from_db()
        assert response.json() == detail_body(item, entitled=True)
        assert (item.title, item.plan_id, item.summary, item.full_content) == (
            "New title",
            None,
            before.summary,
            before.full_content,
        )

    def test_owner_updates_own_draft(self, owner, plan, client_for):
        draft = ProContentFactory(plan=plan, is_published=False)

        response = client_for(owner).patch(f"/content/{draft.pk}/", {"is_published": True})

        assert response.status_code == 200
        assert response.json() == detail_body(draft, entitled=True)
        assert response.json()["is_published"] is True

    def test_anonymous_is_401(self, item, api_client):
        response = api_client.patch(f"/content/{item.pk}", {"title": "Hacked"})

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED_BODY

    def test_other_professional_is_403(self, item, client_for):
        other = ProfessionalFactory()

        response = client_for(other.user).patch(f"/content/{item.pk}", {"title": "Hacked"})

        assert response.status_code == 403
        assert response.json() == NOT_OWNER_BODY
        item.refresh_from_db()
        assert item.title != "Hacked"

    def test_subscriber_is_403(self, item, plan, client_for):
        learner = UserFactory()
        subscribe(learner, plan)

        response = client_for(learner).patch(f"/content/{item.pk}", {"title": "Hacked"})

        assert response.status_code == 403
        assert response.json() == NOT_PROFESSIONAL_BODY

    def test_staff_is_403(self, item, staff_user, client_for):
        # Staff edit content in admin; the API is the professional's.
        response = client_for(staff_user).patch(f"/content/{item.pk}", {"title": "Hacked"})

        assert response.status_code == 403
        assert response.json() == NOT_PROFESSIONAL_BODY

    def test_owner_whose_verification_was_revoked_is_403(self, owner, item, client_for):
        owner.professional.is_verified = False
        owner.professional.save(update_fields=["is_verified"])

        response = client_for(owner).patch(f"/content/{item.pk}", {"title": "Late edit"})

        assert response.status_code == 403
        assert response.json() == UNVERIFIED_BODY

    def test_someone_elses_draft_is_404(self, client_for):
        draft = ProContentFactory(is_published=False)
        other = ProfessionalFactory()

        response = client_for(other.user).patch(f"/content/{draft.pk}", {"title": "Hacked"})

        assert response.status_code == 404
        assert response.json() == NOT_FOUND_BODY

    def test_unknown_id_is_404(self, owner, client_for):
        response = client_for(owner).patch("/content/987654321", {"title": "T"})

        assert response.status_code == 404
        assert response.json() == NOT_FOUND_BODY

    def test_plan_of_another_professional_is_400(self, owner, item, client_for):
        foreign_plan = PlanFactory()

        response = client_for(owner).patch(f"/content/{item.pk}", {"plan_id": foreign_plan.pk})

        assert response.status_code == 400
        assert response.json() == INVALID_PLAN_BODY
        item.refresh_from_db()
        assert item.plan_id != foreign_plan.pk

    def test_blank_title_is_400(self, owner, item, client_for):
        response = client_for(owner).patch(f"/content/{item.pk}", {"title": ""})

        assert response.status_code == 400
        assert response.json() == {"title": ["This field may not be blank."]}

    def test_null_full_content_is_400(self, owner, item, client_for):
        response = client_for(owner).patch(f"/content/{item.pk}", {"full_content": None})

        assert response.status_code == 400
        assert response.json() == {"full_content": ["This field may not be null."]}


class TestDelete:
    def test_owner_deletes(self, owner, item, client_for):
        response = client_for(owner).delete(f"/content/{item.pk}")

        assert response.status_code == 204
        assert response.content == b""
        assert not ProContent.objects.filter(pk=item.pk).exists()

    def test_anonymous_is_401(self, item, api_client):
        response = api_client.delete(f"/content/{item.pk}")

        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED_BODY
        assert ProContent.objects.filter(pk=item.pk).exists()

    def test_other_professional_is_403(self, item, client_for):
        other = ProfessionalFactory()

        response = client_for(other.user).delete(f"/content/{item.pk}")

        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only the item's professional may delete it.",
            "code": "not_owner",
        }
        assert ProContent.objects.filter(pk=item.pk).exists()

    def test_learner_is_403(self, item, user, client_for):
        response = client_for(user).delete(f"/content/{item.pk}")

        assert response.status_code == 403
        assert response.json() == NOT_PROFESSIONAL_BODY

    def test_unknown_id_is_404(self, owner, client_for):
        response = client_for(owner).delete("/content/987654321")

        assert response.status_code == 404
        assert response.json() == NOT_FOUND_BODY

    def test_put_is_405(self, owner, item, client_for):
        response = client_for(owner).put(f"/content/{item.pk}", {"title": "T"})

        assert response.status_code == 405
        assert response.json() == {
            "detail": 'Method "PUT" not allowed.',
            "code": "method_not_allowed",
        }
