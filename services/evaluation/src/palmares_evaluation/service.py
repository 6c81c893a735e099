"""An evaluating service (scoring, mentions) from its pure evaluation: its runtime, its app, its entry point.

The two services differ only by their name, their `evaluate`, the event they
publish and the counter of their business metric; everything around is here,
so that neither repeats the other's composition root or `__main__`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from faststream.asgi import AsgiFastStream
from palmares_contracts import Event, Grille, SubmissionReceived
from palmares_eventkit.cluster import Cluster
from palmares_eventkit.published import Observer
from palmares_eventkit.runtime import ServiceRuntime, bootstrap, run_worker
from palmares_eventkit.settings import ServiceSettings

from palmares_evaluation.evaluator import Evaluate, evaluation_runtime

E = TypeVar("E", bound=Event)


def evaluated_revision(dossier: SubmissionReceived, grille: Grille) -> dict[str, Any]:
    """The fields every evaluation event opens with: which dossier revision, under which grille version."""
    return {
        "submission_id": dossier.submission_id,
        "revision": dossier.revision,
        "edition": dossier.edition,
        "collectivite_code": dossier.collectivite.code,
        "grille_version": grille.version,
    }


@dataclass(frozen=True)
class EvaluatingService(Generic[E]):
    """A service that evaluates dossiers under the grille and publishes one `published` event per evaluation."""

    name: str
    evaluate: Evaluate
    published: type[E]
    count: Observer[E]  # its business counter, once Kafka acknowledged the event

    def create_runtime(
        self, settings: ServiceSettings | None = None, *, cluster: Cluster | None = None
    ) -> ServiceRuntime:
        runtime = evaluation_runtime(self.name, self.evaluate, settings, cluster=cluster)
        runtime.on_published(self.published, self.count)
        return runtime

    def create_app(self, settings: ServiceSettings | None = None) -> AsgiFastStream:
        return self.create_runtime(settings).asgi_app()

    def main(self) -> None:
        """Run the worker (health, readiness and metrics over HTTP): `python -m palmares_<name>`."""
        settings = ServiceSettings()
        bootstrap(self.name, settings)
        run_worker(self.create_app(settings), settings)
