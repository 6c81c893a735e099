"""Every service's table of subscriptions is typed and consistent: with its topics, its runtime and the docs.

Each service declares what it consumes in one table (`Subscription(topic,
handler)`: mypy refuses a handler of another event type, see
test_typed_topics.py) that its composition root hands to the runtime. Here,
on the runtime each service's own `create_runtime` builds (no broker or
database is contacted):
- each handler's `event` parameter names exactly the event types of its topic;
- a topic is consumed once per service, in the group `<service>.<topic>`, and
  the broker has a consumer for each subscription and no other;
- the topic table of docs/architecture.md names the same consumers.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from palmares_contracts import ALL_TOPICS, Event
from palmares_eventkit.lag import consumer_groups
from palmares_eventkit.runtime import ServiceRuntime, Subscription

REPO = Path(__file__).resolve().parents[3]


def _submission() -> ServiceRuntime:
    from palmares_submission.app import create_runtime
    from palmares_submission.settings import SubmissionSettings

    return create_runtime(SubmissionSettings(OPERATOR_TOKEN="t" * 32))


def _scoring() -> ServiceRuntime:
    from palmares_scoring.app import create_runtime

    return create_runtime()


def _mentions() -> ServiceRuntime:
    from palmares_mentions.app import create_runtime

    return create_runtime()


def _notify() -> ServiceRuntime:
    from palmares_notify.app import create_runtime

    return create_runtime()


RUNTIMES: dict[str, Callable[[], ServiceRuntime]] = {
    "submission": _submission,
    "scoring": _scoring,
    "mentions": _mentions,
    "notify": _notify,
}


def event_types(subscription: Subscription[Any]) -> set[type[Event]]:
    """The event types a handler declares it takes (its `event` parameter, a class or a union)."""
    hint = typing.get_type_hints(subscription.handler)["event"]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return set(typing.get_args(hint))
    return {hint}


@pytest.mark.parametrize("service", sorted(RUNTIMES))
def test_each_handler_takes_exactly_the_events_of_its_topic(service: str) -> None:
    runtime = RUNTIMES[service]()
    assert runtime.subscriptions, f"{service} declares no subscription"
    for subscription in runtime.subscriptions:
        assert subscription.topic in ALL_TOPICS, f"{subscription.topic.name} is not a registered topic"
        assert event_types(subscription) == set(subscription.topic.events), (
            f"{service}: the handler of {subscription.topic.name} takes {event_types(subscription)}"
        )


@pytest.mark.parametrize("service", sorted(RUNTIMES))
def test_each_subscription_is_one_consumer_group_of_its_own(service: str) -> None:
    runtime = RUNTIMES[service]()
    topics = [s.topic.name for s in runtime.subscriptions]
    assert len(topics) == len(set(topics)), f"{service} subscribes a topic twice: {topics}"
    assert consumer_groups(runtime.broker) == {f"{service}.{topic}": [topic] for topic in topics}


def documented_consumers() -> dict[str, set[str]]:
    """Topic -> the services docs/architecture.md lists as its consumers (« Topics and events »)."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    consumers: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"`[a-z]+\.v\d+`", cells[0]):
            consumers[cells[0].strip("`")] = set(re.findall(r"`([a-z]+)\.", cells[4]))
    return consumers


def test_the_architecture_documents_every_subscription() -> None:
    declared: dict[str, set[str]] = {t.name: set() for t in ALL_TOPICS}
    for service, build in RUNTIMES.items():
        for subscription in build().subscriptions:
            declared[subscription.topic.name].add(service)
    assert documented_consumers() == declared


@pytest.mark.parametrize("service", sorted(RUNTIMES))
def test_consumers_of_per_dossier_topics_fetch_in_batches_and_the_others_at_once(service: str) -> None:
    """Topics keyed by collectivité wait for a batch on the broker; those keyed by edition (a few events a year)
    answer at the first byte and long-poll, so that their idle consumers cost the broker little."""
    runtime = RUNTIMES[service]()
    settings = runtime.settings
    for subscriber in runtime.broker.subscribers:
        (name,) = subscriber.topic_names
        (topic,) = [t for t in ALL_TOPICS if t.name == name]
        # FastStream keeps the consumer's arguments there (no public accessor in 0.7).
        args = subscriber._connection_args  # type: ignore[attr-defined]
        fetch = (args["fetch_min_bytes"], args["fetch_max_wait_ms"])
        if topic.key == "edition":
            assert fetch == (1, 500), name
        else:
            assert fetch == (settings.fetch_min_bytes, settings.fetch_max_wait_ms) == (64 * 1024, 100), name
