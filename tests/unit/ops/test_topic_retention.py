"""The event topics keep every record (a database is rebuilt from them); dead letters go after 90 days."""

from __future__ import annotations

from palmares_contracts import ALL_TOPICS
from palmares_eventkit.topics_admin import _configs


def test_event_topics_keep_everything_and_are_not_compacted() -> None:
    for topic in ALL_TOPICS:
        config = _configs(topic.name, {"min.insync.replicas": "2"})
        assert config["retention.ms"] == "-1" and config["retention.bytes"] == "-1", topic.name
        assert config["cleanup.policy"] == "delete", "compaction would keep one event per collectivité"
        assert config["min.insync.replicas"] == "2"


def test_dead_letters_are_kept_90_days_and_whole() -> None:
    config = _configs(ALL_TOPICS[0].dlq, {})
    assert int(config["retention.ms"]) == 90 * 24 * 3600 * 1000
    assert int(config["max.message.bytes"]) >= 4 * 1024 * 1024
