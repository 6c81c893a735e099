"""The AsyncAPI 3 document of each service, built from its code, and the OpenAPI document of the API.

Each service's composition root (`create_runtime`) registers its subscribers on
a FastStream `KafkaBroker`; this module builds that broker **without starting
anything** (no connection, no database: constructing a broker only records
its subscribers), adds the publishers the service writes through its outbox
(they are not broker publishers, so they are declared here from the topic
registry), and describes the result with FastStream's AsyncAPI generator.

Importing this module has no side effect: the objects below are built on first
access (PEP 562 `__getattr__`), so FastStream's own CLI works on them too:

    faststream docs gen --yaml --app-dir deploy/apidocs palmares_apidocs:scoring -o docs/asyncapi/scoring.yaml

`python deploy/apidocs/generate.py` (`make asyncapi`) writes every document;
`python deploy/apidocs/generate.py --check` fails when a committed document
differs from the code (tests/unit/ops/test_api_documents.py runs it).

FastStream describes a subscriber's payload from the handler's signature; the
runtime's handlers take raw bytes (they decode with the contracts themselves,
to dead-letter what does not decode), so the payloads of the consume
operations are replaced by the JSON schemas of the topic's event models
(`palmares_contracts`). The result stays a FastStream specification object
(`to_json`, `to_jsonable`, `to_yaml`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.base import Specification

SERVICES = ("submission", "scoring", "mentions", "notify")
# Where examples point: a placeholder, so the documents do not depend on the environment.
DOC_BOOTSTRAP = "kafka:9092"
VERSION = "1.0.0"

# What each service publishes through its outbox (docs/architecture.md, "Topics and events").
PRODUCES: dict[str, tuple[str, ...]] = {
    "submission": ("grilles.v1", "submissions.v1", "jury.v1", "palmares.v1"),
    "scoring": ("scores.v1",),
    "mentions": ("mentions.v1",),
    "notify": ("notifications.v1",),
}

DESCRIPTIONS = {
    "submission": (
        "HTTP API of the label (dossiers, status view, grille, jury, palmarès; see docs/openapi.json). "
        "Publishes through its transactional outbox; consumes results to build the status view."
    ),
    "scoring": "Pré-notation of each dossier revision under the edition's latest grille; re-scores on a new grille.",
    "mentions": "Mentions of each dossier revision under the edition's latest grille; re-detects on a new grille.",
    "notify": "Joins results into receipts and award emails, sent at least once; reports each send.",
}

DLQ_DESCRIPTION = (
    "Dead letters of {consumer}: the original record (key, value and headers byte for byte) of {topic} that "
    "the consumer could not process, with the headers x-error, x-error-type, x-source-topic, "
    "x-source-partition, x-source-offset and x-consumer. Replayed by `palmares dlq replay`."
)
HEADERS_NOTE = " Headers: event-type, schema-version, schema-compatible-since, and the W3C traceparent/tracestate of the dossier's trace. Key: {key}."


class PalmaresSpecification(Specification):
    """A FastStream specification whose document was completed with the contracts' event schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document

    @property
    def title(self) -> str:
        return str(self._document["info"]["title"])

    def to_jsonable(self) -> Any:
        return json.loads(json.dumps(self._document))

    def to_json(self) -> str:
        return json.dumps(self._document, ensure_ascii=False, indent=2) + "\n"

    def to_yaml(self) -> str:
        import yaml

        return str(yaml.safe_dump(self._document, allow_unicode=True, sort_keys=False, width=120))


class PalmaresAsyncAPI(AsyncAPI):
    """FastStream's AsyncAPI factory, plus the event schemas of the consumed topics."""

    def __init__(self, broker: KafkaBroker, service: str) -> None:
        super().__init__(
            broker,
            title=f"Palmarès — {service}",
            version=VERSION,
            description=DESCRIPTIONS[service],
            schema_version="3.0.0",
        )
        self.service = service

    def to_specification(self) -> Specification:
        document = super().to_specification().to_jsonable()
        return PalmaresSpecification(complete(document, self.service))


def _event_schemas(topic_name: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """The payload schema of a topic (one event model, or oneOf them); model definitions go to `schemas`."""
    from palmares_contracts.topics import topic_named
    from pydantic.json_schema import models_json_schema

    topic = topic_named(topic_name)
    _, top = models_json_schema(
        [(event, "serialization") for event in topic.events], ref_template="#/components/schemas/{model}"
    )
    for name, schema in top.get("$defs", {}).items():
        schemas.setdefault(name, schema)
    refs = [{"$ref": f"#/components/schemas/{event.__name__}"} for event in topic.events]
    return refs[0] if len(refs) == 1 else {"oneOf": refs}


def complete(document: dict[str, Any], service: str) -> dict[str, Any]:
    """Payloads: the topic's event schemas (the consumers' handlers take raw bytes); describe keys and headers."""
    from palmares_contracts.topics import topic_named

    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    messages: dict[str, Any] = components.setdefault("messages", {})
    for channel in document.get("channels", {}).values():
        address = channel["address"]
        if address.endswith(".dlq"):
            continue
        topic = topic_named(address)
        payload = _event_schemas(address, schemas)
        described = (channel.get("description") or "").rstrip()
        if described and not described.endswith("."):
            described += "."
        channel["description"] = described + HEADERS_NOTE.format(
            key="the collectivité code" if topic.key == "collectivite" else "the edition"
        )
        for ref in channel.get("messages", {}).values():
            message = messages[ref["$ref"].rsplit("/", 1)[1]]
            generated = message.get("payload", {}).get("$ref", "").rsplit("/", 1)[-1]
            if generated.endswith(":Payload"):  # FastStream's own, from the handler signature or the publisher
                schemas.pop(generated, None)
            message["payload"] = payload
    # Sorted: the order in which a service registers its handlers is not part of its interface.
    for key in ("channels", "operations"):
        document[key] = dict(sorted(document.get(key, {}).items()))
    components["messages"] = dict(sorted(messages.items()))
    components["schemas"] = dict(sorted(schemas.items()))
    return document


def build_broker(service: str) -> KafkaBroker:
    """The service's broker with its subscribers (from its own code) and its publishers (outbox, dead letters)."""
    runtime = _create_runtime(service)
    broker: KafkaBroker = runtime.broker
    from palmares_contracts.topics import topic_named

    for topic_name in PRODUCES[service]:
        topic = topic_named(topic_name)
        events = topic.events
        broker.publisher(
            topic_name,
            title=f"{service}.{topic_name}:publish",
            description=f"{service} publishes {', '.join(e.__name__ for e in events)} (transactional outbox).",
            schema=events[0],  # the payload is replaced by every event of the topic in `complete`
        )
    for subscriber in list(broker.subscribers):
        group_id: str = getattr(subscriber, "group_id", "")
        for topic_name in getattr(subscriber, "topic_names", ()):
            broker.publisher(
                f"{topic_name}.dlq",
                title=f"{group_id}.dlq:publish",
                description=DLQ_DESCRIPTION.format(consumer=group_id, topic=topic_name),
                schema=bytes,
            )
    return broker


def _create_runtime(service: str) -> Any:
    """The runtime from the service's composition root, with settings that do not depend on the environment."""
    overrides: dict[str, Any] = {"KAFKA_BOOTSTRAP_SERVERS": DOC_BOOTSTRAP, "PALMARES_LOG_LEVEL": "ERROR"}
    if service == "submission":
        from palmares_submission.app import create_runtime as submission_runtime
        from palmares_submission.settings import SubmissionSettings

        # A placeholder: the settings insist on an operator token; nothing is served.
        overrides["OPERATOR_TOKEN"] = "docs-generation-only"
        return submission_runtime(SubmissionSettings(**overrides))
    if service == "notify":
        from palmares_notify.app import create_runtime as notify_runtime
        from palmares_notify.settings import NotifySettings

        return notify_runtime(NotifySettings(**overrides))
    from palmares_eventkit.settings import ServiceSettings

    factories: dict[str, Callable[[ServiceSettings], Any]] = {}
    if service == "scoring":
        from palmares_scoring.app import create_runtime as scoring_runtime

        factories[service] = scoring_runtime
    elif service == "mentions":
        from palmares_mentions.app import create_runtime as mentions_runtime

        factories[service] = mentions_runtime
    else:
        raise ValueError(f"unknown service {service!r}: expected one of {SERVICES}")
    return factories[service](ServiceSettings(**overrides))


@dataclass(frozen=True)
class ServiceDocs:
    """What `faststream docs gen module:obj` needs: an object with a `schema` (a specification factory)."""

    service: str
    schema: PalmaresAsyncAPI


_built: dict[str, ServiceDocs] = {}


def service_docs(service: str) -> ServiceDocs:
    if service not in _built:
        _built[service] = ServiceDocs(service, PalmaresAsyncAPI(build_broker(service), service))
    return _built[service]


def asyncapi_yaml(service: str) -> str:
    return service_docs(service).schema.to_specification().to_yaml()


def openapi_json() -> str:
    """The OpenAPI document of the submission service, as `/openapi.json` serves it (no server needed)."""
    from palmares_submission.app import openapi_document

    return json.dumps(openapi_document(), ensure_ascii=False, indent=2) + "\n"


def __getattr__(name: str) -> ServiceDocs:
    # `palmares_apidocs:scoring` for FastStream's CLI, built on first access only.
    if name in SERVICES:
        return service_docs(name)
    raise AttributeError(name)
