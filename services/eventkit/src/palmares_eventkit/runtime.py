"""What a service imports to be built on the runtime (the names live in the modules of their job).

- `ServiceRuntime` (`lifecycle`): the composition root, started and stopped with the service;
- `Tx` (`tx`): a transaction whose events leave through the outbox;
- `Subscription`, `Handler` (`subscription`): what a service consumes;
- `run_worker` (`worker`): serve a worker app;
- `bootstrap` (`bootstrap`): the process's logs and traces, called first by an entrypoint.

Delivery (docs/delivery.md): consumers commit offsets only after a batch is
applied (at least once); each event is claimed in the inbox in the
transaction that applies it (a redelivery is a no-op); emitted events go to
the outbox in that same transaction; what cannot be processed is
dead-lettered with its reason (`consumer`).
"""

from __future__ import annotations

from palmares_eventkit.bootstrap import bootstrap
from palmares_eventkit.lifecycle import Background, ServiceRuntime
from palmares_eventkit.subscription import Handler, Subscription
from palmares_eventkit.tx import Tx
from palmares_eventkit.worker import run_worker

__all__ = ["Background", "Handler", "ServiceRuntime", "Subscription", "Tx", "bootstrap", "run_worker"]
