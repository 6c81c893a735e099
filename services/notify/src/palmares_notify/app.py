"""Composition root of the notify service."""

from __future__ import annotations

from importlib import resources

from faststream.asgi import AsgiFastStream
from palmares_eventkit.cluster import Cluster
from palmares_eventkit.db import load_migrations
from palmares_eventkit.runtime import ServiceRuntime

from palmares_notify.handlers import Notifier
from palmares_notify.sender import sending_loop
from palmares_notify.settings import NotifySettings

SERVICE = "notify"


def create_runtime(settings: NotifySettings | None = None, *, cluster: Cluster | None = None) -> ServiceRuntime:
    settings = settings or NotifySettings()
    notifier = Notifier(settings.sender())
    runtime = ServiceRuntime(
        SERVICE,
        load_migrations(SERVICE, resources.files("palmares_notify") / "migrations"),
        settings,
        subscriptions=notifier.subscriptions(),
        cluster=cluster,
    )
    runtime.add_background("award-renderer", notifier.award_loop())
    runtime.add_background("smtp-sender", sending_loop(settings))
    return runtime


def create_app(settings: NotifySettings | None = None) -> AsgiFastStream:
    return create_runtime(settings).asgi_app()
