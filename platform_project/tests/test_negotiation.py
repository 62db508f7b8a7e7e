"""The remembering content negotiation answers what DRF's own answers, every time."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from platform_project.negotiation import RememberingContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html, application/json;q=0.9",
    "application/*",
    "image/png",
]


def _choose(negotiation, accept, query=""):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/plans/{query}", **headers))
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except NotAcceptable:
        return "406"
    return renderers.index(renderer), media_type


@pytest.fixture(autouse=True)
def _empty_memo():
    RememberingContentNegotiation._memo.clear()
    yield
    RememberingContentNegotiation._memo.clear()


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api"])
def test_answers_what_drf_answers_first_and_from_memory(accept, query):
    expected = _choose(DefaultContentNegotiation(), accept, query)
    remembering = RememberingContentNegotiation()

    assert _choose(remembering, accept, query) == expected
    assert _choose(remembering, accept, query) == expected  # the remembered answer


def test_one_memo_answers_every_question_as_drf_does_in_any_order():
    # One memo for every (Accept, format) pair, asked in interleaved order twice: a key that
    # left out any input DRF reads would answer some pair with another pair's renderer.
    remembering = RememberingContentNegotiation()
    questions = [
        (accept, query) for query in ("", "?format=json", "?format=api") for accept in ACCEPTS
    ]
    expected = {q: _choose(DefaultContentNegotiation(), *q) for q in questions}

    for question in questions + questions[::-1]:
        assert _choose(remembering, *question) == expected[question], question
    assert len({answer for answer in expected.values()}) > 2  # the pairs do differ


def test_refusals_are_not_remembered_and_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(RememberingContentNegotiation, "memo_max", 3)
    remembering = RememberingContentNegotiation()

    assert _choose(remembering, "image/png") == "406"
    assert RememberingContentNegotiation._memo == {}
    for accept in ACCEPTS[:4]:
        _choose(remembering, accept)
    assert len(RememberingContentNegotiation._memo) <= 3


def test_an_unacceptable_accept_header_is_a_json_406(api_client):
    response = api_client.get("/plans/", HTTP_ACCEPT="image/png")
    assert response.status_code == 406
    assert response.json() == {
        "detail": "Could not satisfy the request Accept header.",
        "code": "not_acceptable",
    }
