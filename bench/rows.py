"""The rows of the benchmark: what each one requests (as wrk request lines), and how many SQL
statements one request of it costs."""

import base64
import math
import secrets
from urllib.parse import urlencode

from common import PASSWORD, WIDE_CHANNELS, log

ROWS = [
    "message page",
    "message page 900k deep",
    "post message",
    "channel list (30)",
    "channel list (30, posted in big channel)",
    "mixed: pages, lists, posts",
    "plan catalogue",
    "plan catalogue, page size stated (never cached)",
    "subscribe",
    "login",
    "floor: bare view 1 KB",
    "floor: page SQL loop",
]
MIXED = "mixed: pages, lists, posts"
POST_BODY = '{"content":"Benchmark message: how is everyone getting on with lesson 3?"}'
# One cycle of the mixed row: readers of several channels and pages, channel lists of three
# members, and posts in the big channel and elsewhere (each post changes that channel's page
# cache key, so the next reads of it miss).
MIXED_CYCLE = [
    "page big",
    "list wide",
    "page wide",
    "page deep",
    "page big",
    "list poster",
    "page wide",
    "post big",
    "page deep",
    "list learner",
    "page big",
    "page wide",
    "list wide",
    "page deep",
    "post wide",
    "page big",
    "list poster",
    "page wide",
    "page deep",
    "list learner",
]
MIXED_CYCLES = 30


def _line(method: str, path: str, token: str = "", body: str = "") -> str:
    return f"{method}\t{path}\t{token}\t{body}"


class Fixtures:
    """Ids, tokens and bodies for every row, made through the ORM in this process."""

    def __init__(self, size: dict, duration: float):
        from django.contrib.auth.hashers import make_password
        from rest_framework_simplejwt.tokens import AccessToken

        from accounts.models import User
        from chat.models import ChannelMembership, ChatChannel
        from subscriptions.models import ProfessionalPlan

        self.token = lambda user: str(AccessToken.for_user(user))
        self.channel = ChatChannel.objects.select_related("professional__user").get(
            pk=ChatChannel.objects.order_by("-last_seq", "id").values("pk")[:1]
        )
        self.reader = User.objects.get(username="learner1")
        self.poster = self.channel.professional.user
        self.wide = User.objects.get(username="wide-member")
        self.early = User.objects.get(username="early-poster")
        behind = (
            self.channel.last_seq
            - ChannelMembership.objects.get(channel=self.channel, user=self.early).last_read_seq
        )
        if behind < size["messages"] // 2:
            log(
                f"early-poster is only {behind:,} messages behind in the big channel: the "
                "database was seeded before seed_demo made them post first; drop it and re-run"
            )
        self.wide_channels = list(
            ChannelMembership.objects.filter(user=self.wide)
            .order_by("channel_id")
            .values_list("channel_id", flat=True)
        )
        position = max(self.channel.last_seq - size["deep"], 1)
        self.page_path = f"/chat/channels/{self.channel.pk}/messages"
        self.deep_path = self.cursor_path(self.channel.pk, position)
        self.deep_position = position

        # Subscribe: fresh users each run, so every request is a new (user, plan) pair with a
        # new transaction id, as many as the row can send over warm-up, run and the count.
        self.run_id = secrets.token_hex(4)
        self.plan_ids = list(
            ProfessionalPlan.objects.filter(name__startswith="Bulk plan ")
            .order_by("id")
            .values_list("id", flat=True)[: WIDE_CHANNELS + 10]
        )[WIDE_CHANNELS:]  # not the wide member's plans
        wanted = math.ceil(1500 * (duration + size["warmup"]) + 10)
        n_users = math.ceil(wanted / len(self.plan_ids))
        unusable = make_password(None)
        User.objects.bulk_create(
            User(username=f"bench-{self.run_id}-{i}", email=f"b{self.run_id}{i}@example.com")
            for i in range(n_users)
        )
        User.objects.filter(username__startswith=f"bench-{self.run_id}-").update(password=unusable)
        self.subscribers = [
            (u.pk, self.token(u))
            for u in User.objects.filter(username__startswith=f"bench-{self.run_id}-").order_by(
                "id"
            )
        ]
        self.next_subscribe = 0
        self.login_names = [f"bulk-u{i}" for i in range(1, min(size["users"], 1000) + 1)]
        # Full catalogue pages of 20 there are (at most 50), for the never-cached catalogue row.
        self.catalogue_pages = max(1, min(50, ProfessionalPlan.objects.available().count() // 20))
        self.mixed = self.mixed_lines()

    @staticmethod
    def cursor_path(channel_id: int, position: int) -> str:
        cursor = base64.b64encode(urlencode({"p": str(position)}).encode()).decode()
        return f"/chat/channels/{channel_id}/messages?{urlencode({'cursor': cursor})}"

    def mixed_lines(self) -> list[str]:
        """MIXED_CYCLES cycles of MIXED_CYCLE; each cycle reads other wide channels and other
        depths of the big channel (ten depths spread over it)."""
        tokens = {
            "reader": self.token(self.reader),
            "poster": self.token(self.poster),
            "wide": self.token(self.wide),
            "early": self.token(self.early),
        }
        listers = {
            "wide": (self.wide, tokens["wide"]),
            "poster": (self.early, tokens["early"]),
            "learner": (self.reader, tokens["reader"]),
        }
        last = self.channel.last_seq
        depths = [max(1, last - k * last // 10) for k in range(1, 11)]
        lines, n = [], 0
        for cycle in range(MIXED_CYCLES):
            for kind in MIXED_CYCLE:
                n += 1
                wide_channel = self.wide_channels[n % len(self.wide_channels)]
                if kind == "page big":
                    lines.append(_line("GET", self.page_path, tokens["reader"]))
                elif kind == "page wide":
                    path = f"/chat/channels/{wide_channel}/messages"
                    lines.append(_line("GET", path, tokens["wide"]))
                elif kind == "page deep":
                    path = self.cursor_path(self.channel.pk, depths[(cycle + n) % len(depths)])
                    lines.append(_line("GET", path, tokens["early"]))
                elif kind.startswith("list "):
                    user, token = listers[kind.removeprefix("list ")]
                    lines.append(_line("GET", f"/chat/users/{user.pk}/channels", token))
                elif kind == "post big":
                    lines.append(_line("POST", self.page_path, tokens["poster"], POST_BODY))
                elif kind == "post wide":
                    path = f"/chat/channels/{wide_channel}/messages"
                    lines.append(_line("POST", path, tokens["wide"], POST_BODY))
        return lines

    def subscribe_lines(self, count: int) -> list[str]:
        lines = []
        for _ in range(count):
            i = self.next_subscribe
            self.next_subscribe += 1
            # Consecutive requests go to different plans (each subscribe locks its plan row).
            user_id, token = self.subscribers[(i // len(self.plan_ids)) % len(self.subscribers)]
            plan_id = self.plan_ids[i % len(self.plan_ids)]
            body = f'{{"payment_method":"credit_card","transaction_id":"bench-{self.run_id}-{i}"}}'
            lines.append(_line("POST", f"/users/{user_id}/subscribe/{plan_id}", token, body))
        return lines

    def lines(self, row: str, count: int = 1) -> list[str]:
        if row == "message page":
            return [_line("GET", self.page_path, self.token(self.reader))]
        if row == "message page 900k deep":
            return [_line("GET", self.deep_path, self.token(self.reader))]
        if row == "post message":
            return [_line("POST", self.page_path, self.token(self.poster), POST_BODY)]
        if row == "channel list (30)":
            return [_line("GET", f"/chat/users/{self.wide.pk}/channels", self.token(self.wide))]
        if row == "channel list (30, posted in big channel)":
            path = f"/chat/users/{self.early.pk}/channels"
            return [_line("GET", path, self.token(self.early))]
        if row == MIXED:
            return self.mixed
        if row == "plan catalogue":
            return [_line("GET", "/plans/")]
        if row == "plan catalogue, page size stated (never cached)":
            # Every ordering and page (up to 50), with the page size stated: the catalogue
            # cache keeps only the browsed pages (no parameters but page and ordering), so
            # every request is built from the database.
            orderings = ["price", "-price", "created_at", "-created_at", "name", "-name"]
            return [
                _line("GET", f"/plans/?{urlencode({'ordering': o, 'page': n, 'page_size': 20})}")
                for n in range(1, self.catalogue_pages + 1)
                for o in orderings
            ]
        if row == "subscribe":
            return self.subscribe_lines(count)
        if row == "login":
            return [
                _line("POST", "/login", "", f'{{"username":"{name}","password":"{PASSWORD}"}}')
                for name in self.login_names
            ]
        if row == "floor: bare view 1 KB":
            return [_line("GET", "/bench/floor")]
        raise ValueError(row)


def _send(client, line: str):
    method, path, token, body = line.split("\t")
    headers = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if method == "GET":
        return client.get(path, **headers)
    return client.post(path, body, content_type="application/json", **headers)


def count_queries(fixtures: Fixtures, row: str) -> tuple[str, list[str]]:
    """Send the row's request through the test client; (queries, their SQL).

    Reads are sent twice: where the second costs fewer queries (a message page served from the
    page cache), both counts are shown, "3 (2 repeated)". The mixed row sends one cycle of its
    requests once each and shows their mean."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if row == MIXED:
        with CaptureQueriesContext(connection) as captured:
            for line in fixtures.lines(row)[: len(MIXED_CYCLE)]:
                response = _send(client, line)
                if not 200 <= response.status_code < 300:
                    log(f"{row}: {line.split(chr(9))[:2]} answered {response.status_code}")
        mean = len(captured) / len(MIXED_CYCLE)
        return f"{mean:.1f} (mean)", [q["sql"] for q in captured.captured_queries]
    line = fixtures.lines(row, 1)[0]
    with CaptureQueriesContext(connection) as captured:
        response = _send(client, line)
    if not 200 <= response.status_code < 300:
        log(f"{row}: the test-client request answered {response.status_code}: {response.content}")
    label = str(len(captured))
    if line.startswith("GET\t"):
        with CaptureQueriesContext(connection) as repeated:
            _send(client, line)
        if len(repeated) != len(captured):
            label += f" ({len(repeated)} repeated)"
    return label, [q["sql"] for q in captured.captured_queries]
