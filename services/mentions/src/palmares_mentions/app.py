"""Composition root of the mentions service: the shared evaluating service around its pure domain."""

from __future__ import annotations

from palmares_contracts import MentionsDetected
from palmares_evaluation.service import EvaluatingService

from palmares_mentions import metrics
from palmares_mentions.handlers import evaluate

SERVICE = "mentions"
EVALUATING = EvaluatingService(SERVICE, evaluate, MentionsDetected, metrics.count)
create_runtime = EVALUATING.create_runtime
create_app = EVALUATING.create_app
