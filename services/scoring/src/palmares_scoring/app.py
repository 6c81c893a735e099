"""Composition root of the scoring service: the shared evaluating service around its pure domain."""

from __future__ import annotations

from palmares_contracts import SubmissionScored
from palmares_evaluation.service import EvaluatingService

from palmares_scoring import metrics
from palmares_scoring.handlers import evaluate

SERVICE = "scoring"
EVALUATING = EvaluatingService(SERVICE, evaluate, SubmissionScored, metrics.count)
create_runtime = EVALUATING.create_runtime
create_app = EVALUATING.create_app
