"""The load test's workload (bench/load.py): virtual users, each signing up, logging in and then
acting at random, and the record of what they got (statuses, latencies, what the API confirmed)
for the audit."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx

PASSWORD = "Load-test-password-" + secrets.token_hex(4)
METHODS = ["credit_card", "debit_card", "paypal", "bank_transfer", "apple_pay", "google_pay"]


@dataclass
class Stats:
    statuses: Counter = field(default_factory=Counter)  # (action, status) -> count
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unexpected: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    messages: dict[int, tuple[int, int, str]] = field(
        default_factory=dict
    )  # id -> chan, user, text
    duplicate_message_ids: list[int] = field(default_factory=list)
    subscriptions: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> user, plan
    users: set[int] = field(default_factory=set)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


class VirtualUser:
    def __init__(self, client: httpx.AsyncClient, stats: Stats, plan_ids: list[int], n: int):
        self.client = client
        self.stats = stats
        self.plan_ids = plan_ids
        self.n = n
        self.generation = 0

    async def call(self, action: str, method: str, path: str, expected: set[int], body=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            self.stats.transport_errors.append(f"{action} {method} {path}: {exc!r}")
            self.stats.statuses[(action, "transport")] += 1
            return None
        self.stats.latencies[action].append(time.perf_counter() - started)
        self.stats.statuses[(action, response.status_code)] += 1
        if response.status_code not in expected:
            self.stats.unexpected.append(
                f"{action} {method} {path}: {response.status_code} {response.text[:200]}"
            )
            return None
        return response

    async def become_new_user(self) -> bool:
        self.token = None
        self.generation += 1
        self.username = f"load{self.n}g{self.generation}x{secrets.token_hex(3)}"
        self.channels: list[int] = []
        self.subscribed: set[int] = set()
        response = await self.call(
            "signup",
            "POST",
            "/users/",
            {201},
            {
                "username": self.username,
                "email": f"{self.username}@example.com",
                "password": PASSWORD,
            },
        )
        if response is None:
            return False
        self.user_id = response.json()["user_id"]
        return await self.login()

    async def login(self) -> bool:
        self.token = None
        response = await self.call(
            "login", "POST", "/login", {200}, {"username": self.username, "password": PASSWORD}
        )
        if response is None:
            return False
        data = response.json()
        self.token, self.user_id = data["access"], data["user_id"]
        self.stats.users.add(self.user_id)
        return True

    async def subscribe(self) -> None:
        unsubscribed = [p for p in self.plan_ids if p not in self.subscribed]
        if not unsubscribed or random.random() < 0.1:
            if not self.subscribed:
                return
            # A second subscription to a plan already held: refused, nothing created.
            plan_id = random.choice(sorted(self.subscribed))
            body = {"payment_method": "paypal", "transaction_id": f"load_{uuid.uuid4().hex}"}
            await self.call("subscribe_again", "POST", self.subscribe_path(plan_id), {409}, body)
            return
        plan_id = random.choice(unsubscribed)
        body = {
            "payment_method": random.choice(METHODS),
            "transaction_id": f"load_{uuid.uuid4().hex}",
        }
        path = self.subscribe_path(plan_id)
        if random.random() < 0.25:
            # A client retrying before the first answer came back: the same request twice at
            # once. One subscription and one payment; one 201, the replay 200.
            first, second = await asyncio.gather(
                self.call("subscribe_twice", "POST", path, {200, 201}, body),
                self.call("subscribe_twice", "POST", path, {200, 201}, body),
            )
            responses = [r for r in (first, second) if r is not None]
            if len(responses) == 2:
                pair = sorted(r.status_code for r in responses)
                ids = {r.json()["subscription_id"] for r in responses}
                if pair != [200, 201] or len(ids) != 1:
                    self.stats.unexpected.append(f"subscribe twice: statuses {pair}, ids {ids}")
        else:
            responses = [await self.call("subscribe", "POST", path, {201}, body)]
        for response in responses:
            if response is None:
                continue
            data = response.json()
            self.stats.subscriptions[data["subscription_id"]] = (self.user_id, plan_id)
            self.subscribed.add(plan_id)
            if data["channel_id"] not in self.channels:
                self.channels.append(data["channel_id"])

    def subscribe_path(self, plan_id: int) -> str:
        return f"/users/{self.user_id}/subscribe/{plan_id}"

    async def post(self) -> None:
        channel_id = random.choice(self.channels)
        text = f"load message {uuid.uuid4().hex} from {self.username}"
        response = await self.call(
            "post", "POST", f"/chat/channels/{channel_id}/messages", {201}, {"content": text}
        )
        if response is not None:
            message_id = response.json()["message_id"]
            if message_id in self.stats.messages:
                self.stats.duplicate_message_ids.append(message_id)
            self.stats.messages[message_id] = (channel_id, self.user_id, text)

    async def read(self) -> None:
        channel_id = random.choice(self.channels)
        await self.call("read", "GET", f"/chat/channels/{channel_id}", {200})

    async def mark_read(self) -> None:
        channel_id = random.choice(self.channels)
        await self.call("mark_read", "POST", f"/chat/channels/{channel_id}/read", {200}, {})

    async def list_channels(self) -> None:
        response = await self.call("channels", "GET", f"/chat/users/{self.user_id}/channels", {200})
        if response is not None:
            for channel in response.json()["results"]:
                if channel["channel_id"] not in self.channels:
                    self.channels.append(channel["channel_id"])

    async def list_plans(self) -> None:
        await self.call("plans", "GET", "/plans/?ordering=price", {200})

    async def run(self, deadline: float) -> None:
        self.token = None
        while time.monotonic() < deadline:
            if not await self.become_new_user():
                await asyncio.sleep(0.5)
                continue
            for _ in range(random.randint(20, 80)):
                if time.monotonic() >= deadline:
                    return
                choices: list[tuple[float, object]] = [
                    (3 if len(self.subscribed) < 2 else 0.3, self.subscribe),
                    (2, self.list_plans),
                    (3, self.list_channels),
                    (0.5, self.login),
                ]
                if self.channels:
                    choices += [(5, self.post), (5, self.read), (1, self.mark_read)]
                weights, actions = zip(*choices, strict=True)
                action = random.choices(actions, weights)[0]
                await action()


async def drive(base_url: str, concurrency: int, duration: float, plan_ids: list[int]) -> Stats:
    stats = Stats()
    limits = httpx.Limits(
        max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2
    )
    async with httpx.AsyncClient(
        base_url=base_url,
        limits=limits,
        timeout=60,
        headers={"X-Forwarded-Proto": "https"},
    ) as client:
        deadline = time.monotonic() + duration
        users = [VirtualUser(client, stats, plan_ids, n) for n in range(concurrency)]
        await asyncio.gather(*(u.run(deadline) for u in users))
    return stats
