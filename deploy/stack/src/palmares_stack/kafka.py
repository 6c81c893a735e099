"""Apache Kafka (KRaft) clusters as local JVM processes.

Each node is a combined broker + controller (``process.roles=broker,controller``)
with a static quorum (``controller.quorum.voters``): one node for development
and most tests, three nodes for replication and fail-over tests. Every node
listens on two free ports (PLAINTEXT for clients, CONTROLLER for the quorum).

With ``sasl_users`` the client listener is ``SASL_PLAINTEXT`` instead, with the
mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, and it also carries the
traffic between brokers (PLAIN, as the first user). The CONTROLLER listener
stays PLAINTEXT. No listener is left open without authentication for clients:
the readiness probe authenticates with SASL/PLAIN (``kafka_probe``).

With ``proxied=True`` each node has a third listener, ``PROXIED``, advertised
at the address of a fault proxy (``toxiproxy``) that forwards to it: a client
bootstrapping there connects to every broker through the proxy. The proxy's
port is chosen here (``proxy_routes``); the launcher creates the proxies.

Layout under ``base_dir``::

    cluster.json          cluster id, node ids and ports (re-used on restart)
    log4j2.yaml           broker logging (WARN, startup lines at INFO)
    node-<i>/server.properties
    node-<i>/data/        log.dirs (formatted once by kafka.tools.StorageTool)
    logs/kafka-<i>.log    stdout/stderr of node i (unless ``log_dir`` is given)
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .kafka_artifacts import ensure_kafka_libs
from .kafka_probe import brokers_registered
from .lifecycle import Server
from .ports import LOCALHOST, free_ports, port_is_free
from .process import ManagedProcess, ProcessError, start_process, stop_all, wait_until_ready

HEAP_ENV = "PALMARES_KAFKA_HEAP"
JVM_OPTS_ENV = "PALMARES_KAFKA_JVM_OPTS"
JAVA_MIN_VERSION = 17

LOG4J2_YAML = """\
# Written by palmares_stack.kafka. WARN keeps test logs small; the INFO
# logger prints the "Kafka Server started" / "shut down" lines.
Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""

_SASL_LISTENER = "SASL_PLAINTEXT"
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_SCRAM_MECHANISMS = SASL_MECHANISMS[1:]
# Characters that need no quoting in a JAAS option nor in `kafka-storage format --add-scram`.
_SASL_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_SASL_PASSWORD = re.compile(r"[A-Za-z0-9_.~+/-]+")

# Shorter than Kafka's defaults (heartbeat 2 s, session 9 s, ISR lag 30 s) so a
# killed broker is fenced and leaves the ISR in a few seconds: fail-over tests
# with acks=all then wait seconds, not half a minute. It also bounds a crashed
# node's restart: the controller refuses its new registration until the old
# session expires (10.5 s measured with the defaults, ~5 s with these).
_FAILOVER_TUNING = {
    "broker.heartbeat.interval.ms": "1000",
    "broker.session.timeout.ms": "4000",
    "replica.lag.time.max.ms": "10000",
}


class KafkaError(RuntimeError):
    """Kafka could not be prepared, started or stopped."""


@functools.cache
def find_java() -> str:
    """Path of a ``java`` (``$JAVA_HOME/bin/java`` first) of version 17 or later."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    java = str(candidate) if candidate and candidate.is_file() else shutil.which("java")
    if java is None:
        raise KafkaError(
            "java not found: install OpenJDK 17 (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', result.stderr + result.stdout)
    if match is None or int(match.group(1)) < JAVA_MIN_VERSION:
        found = match.group(1) if match else "unknown"
        raise KafkaError(f"{java} is Java {found}: Kafka 4 needs Java {JAVA_MIN_VERSION}+ (install OpenJDK 17)")
    return java


def new_cluster_id() -> str:
    """A random 22-character cluster id, as ``kafka-storage random-uuid`` makes.

    Like Kafka's ``Uuid.randomUuid`` we avoid a leading '-', which command-line
    parsers take for an option.
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


@dataclass
class KafkaNode:
    """One combined broker + controller node of a :class:`KafkaCluster`."""

    node_id: int
    broker_port: int
    controller_port: int
    node_dir: Path
    log_path: Path
    process: ManagedProcess | None = None
    proxied_port: int | None = None  # the PROXIED listener (``proxied=True``)
    proxy_port: int | None = None  # where that listener is advertised: the fault proxy's port

    @property
    def properties_path(self) -> Path:
        return self.node_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.node_dir / "data"

    @property
    def is_formatted(self) -> bool:
        return (self.data_dir / "meta.properties").is_file()

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.is_alive()


class KafkaCluster(Server):
    """A KRaft cluster of ``brokers`` combined nodes on free ports under ``base_dir``.

    >>> cluster = KafkaCluster(tmp / "kafka", brokers=3)
    >>> bootstrap = cluster.start()          # '127.0.0.1:41235,127.0.0.1:40111,...'
    >>> cluster.kill_broker(1); cluster.restart_broker(1)
    >>> cluster.stop()

    Re-using ``base_dir`` keeps the data and, when they are still free, the
    ports. ``tie_to_parent`` makes the JVMs die with this interpreter (test
    sessions); ``palmares_stack up`` passes False so they outlive it.
    ``on_spawn`` is called with each node process as soon as it exists (before
    readiness), so a pid registry never misses a process, even on failure.
    Extra JVM options can be given in ``$PALMARES_KAFKA_JVM_OPTS``.

    ``sasl_users={"palmares": "secret"}`` makes the client listener
    ``SASL_PLAINTEXT`` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; see the module
    docstring). SCRAM credentials are written when a data dir is formatted:
    users added later on an existing ``base_dir`` only get PLAIN.
    """

    def __init__(
        self,
        base_dir: Path,
        brokers: int = 1,
        *,
        host: str = LOCALHOST,
        heap: str | None = None,
        extra_config: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
        tie_to_parent: bool = True,
        libs_dir: Path | None = None,
        on_spawn: Callable[[ManagedProcess], None] | None = None,
        sasl_users: Mapping[str, str] | None = None,
        proxied: bool = False,
    ) -> None:
        if brokers < 1:
            raise ValueError("brokers must be >= 1")
        self.sasl_users = dict(sasl_users or {})
        for name, password in self.sasl_users.items():
            if not _SASL_USERNAME.fullmatch(name) or not _SASL_PASSWORD.fullmatch(password):
                raise ValueError(f"SASL user {name!r}: names are [A-Za-z][A-Za-z0-9_-]*, passwords [A-Za-z0-9_.~+/-]+")
        if proxied and sasl_users:
            raise ValueError("a proxied listener is PLAINTEXT: not with sasl_users")
        self.proxied = proxied
        self.base_dir = Path(base_dir).resolve()
        self.brokers = brokers
        self.host = host
        self.heap = heap or os.environ.get(HEAP_ENV, "512m")
        self.extra_config = dict(extra_config or {})
        self.log_dir = Path(log_dir).resolve() if log_dir else self.base_dir / "logs"
        self.tie_to_parent = tie_to_parent
        self._libs_dir = libs_dir
        self._on_spawn = on_spawn
        self.cluster_id: str = ""
        self.nodes: list[KafkaNode] = []
        self.ready_seconds: float | None = None

    # ------------------------------------------------------------------ public API

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` of every broker, comma-separated (the client bootstrap list)."""
        if not self.nodes:
            raise KafkaError("cluster not started")
        return ",".join(f"{self.host}:{n.broker_port}" for n in self.nodes)

    @property
    def proxied_bootstrap_servers(self) -> str:
        """The bootstrap list through the fault proxy (``proxied=True``): every connection goes through it."""
        if not self.nodes or not self.proxied:
            raise KafkaError("cluster not started with proxied=True")
        return ",".join(f"{self.host}:{n.proxy_port}" for n in self.nodes)

    def proxy_routes(self) -> dict[int, int]:
        """For each node, the proxy's port (advertised) → the PROXIED listener's port (the proxy's upstream)."""
        return {n.proxy_port: n.proxied_port for n in self.nodes if n.proxy_port and n.proxied_port}

    @property
    def security_protocol(self) -> str:
        """``KAFKA_SECURITY_PROTOCOL`` of the clients: ``SASL_PLAINTEXT`` with ``sasl_users``, else ``PLAINTEXT``."""
        return _SASL_LISTENER if self.sasl_users else "PLAINTEXT"

    @property
    def pids(self) -> list[int | None]:
        """Pid of each node's JVM (None when that node is not running)."""
        return [n.process.pid if n.is_running and n.process else None for n in self.nodes]

    @property
    def processes(self) -> list[ManagedProcess]:
        """Handles of the node processes started so far (for a pid registry)."""
        return [n.process for n in self.nodes if n.process is not None]

    def start(self, timeout: float = 120.0) -> str:
        """Prepare, format and start every node; wait until all brokers are registered.

        Returns :attr:`bootstrap_servers`. On failure nothing is left running.
        Calling it again while every node runs just returns the bootstrap list.
        """
        if self.nodes and any(n.is_running for n in self.nodes):
            if all(n.is_running for n in self.nodes):
                return self.bootstrap_servers
            raise KafkaError("some nodes are down: use restart_broker() or stop() first")
        started = time.monotonic()
        java = find_java()
        libs = self._libs_dir or ensure_kafka_libs()
        self._load_or_create_layout()
        self._write_configs()
        self._format_nodes(java, libs)
        try:
            for node in self.nodes:
                self._spawn(node, java, libs)
            self._wait_ready(self.nodes, timeout)
        except BaseException:
            self.stop(timeout=10.0)
            raise
        self.ready_seconds = time.monotonic() - started
        return self.bootstrap_servers

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node together (SIGTERM: controlled shutdown, SIGKILL after ``timeout``)."""
        stop_all(self.processes, timeout=timeout)

    def kill_broker(self, index: int) -> None:
        """Crash node ``index`` (SIGKILL): no controlled shutdown, like a power cut."""
        process = self._node(index).process
        if process is not None:
            process.kill()

    def stop_broker(self, index: int, timeout: float = 30.0) -> None:
        """Stop node ``index`` gracefully (controlled shutdown)."""
        process = self._node(index).process
        if process is not None:
            process.stop(timeout=timeout)

    def restart_broker(self, index: int, timeout: float = 90.0) -> None:
        """Start node ``index`` again (same data and ports) and wait until all brokers are back.

        The node is killed first if it still runs.
        """
        node = self._node(index)
        if node.is_running and node.process is not None:
            node.process.kill()
        # The ports were released a moment ago; a socket of the old process may
        # linger a little while the kernel tears it down.
        deadline = time.monotonic() + min(timeout, 15.0)
        while not all(port_is_free(p, self.host) for p in (node.broker_port, node.controller_port)):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"kafka-{index}: port {node.broker_port} or {node.controller_port} is still taken; "
                    "cannot restart the broker on its recorded ports"
                )
            time.sleep(0.2)
        self._spawn(node, find_java(), self._libs_dir or ensure_kafka_libs())
        self._wait_ready(self.nodes, timeout)

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Wait until every running node reports all running brokers; return seconds waited."""
        running = [n for n in self.nodes if n.is_running]
        return self._wait_ready(running, timeout)

    # ------------------------------------------------------------------ layout and configs

    def _node(self, index: int) -> KafkaNode:
        if not 0 <= index < len(self.nodes):
            raise IndexError(f"no broker {index} (cluster has {len(self.nodes)})")
        return self.nodes[index]

    def _load_or_create_layout(self) -> None:
        state_file = self.base_dir / "cluster.json"
        ports: list[tuple[int, int]] = []
        proxied: list[tuple[int, int]] = []
        if state_file.is_file():
            state = json.loads(state_file.read_text())
            if len(state["nodes"]) != self.brokers:
                raise KafkaError(
                    f"{self.base_dir} holds a {len(state['nodes'])}-node cluster, "
                    f"not {self.brokers}: delete it or use another directory"
                )
            self.cluster_id = state["cluster_id"]
            ports = [(n["broker_port"], n["controller_port"]) for n in state["nodes"]]
            proxied = [(n["proxied_port"], n["proxy_port"]) for n in state["nodes"] if n.get("proxied_port")]
            # Keep the recorded ports when all are free, so clients and logs stay
            # consistent across restarts; otherwise move every node at once. (The
            # proxy's port is the running proxy's: not free, and not the broker's.)
            own = [p for pair in ports for p in pair] + [p for p, _ in proxied]
            if not all(port_is_free(p, self.host) for p in own):
                ports, proxied = [], []
        else:
            self.cluster_id = new_cluster_id()
        if not ports:
            flat = free_ports(2 * self.brokers, self.host)
            ports = [(flat[2 * i], flat[2 * i + 1]) for i in range(self.brokers)]
        if self.proxied and len(proxied) != self.brokers:
            flat = free_ports(2 * self.brokers, self.host)
            proxied = [(flat[2 * i], flat[2 * i + 1]) for i in range(self.brokers)]
        if not self.proxied:
            proxied = []
        self.nodes = [
            KafkaNode(
                node_id=i,
                broker_port=broker_port,
                controller_port=controller_port,
                node_dir=self.base_dir / f"node-{i}",
                log_path=self.log_dir / f"kafka-{i}.log",
                proxied_port=proxied[i][0] if proxied else None,
                proxy_port=proxied[i][1] if proxied else None,
            )
            for i, (broker_port, controller_port) in enumerate(ports)
        ]
        self.base_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "cluster_id": self.cluster_id,
            "nodes": [
                {
                    "node_id": n.node_id,
                    "broker_port": n.broker_port,
                    "controller_port": n.controller_port,
                    **({"proxied_port": n.proxied_port, "proxy_port": n.proxy_port} if n.proxied_port else {}),
                }
                for n in self.nodes
            ],
        }
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(state_file)

    def _node_config(self, node: KafkaNode) -> dict[str, str]:
        replication = min(3, self.brokers)
        min_isr = 2 if self.brokers >= 3 else 1
        voters = ",".join(f"{n.node_id}@{self.host}:{n.controller_port}" for n in self.nodes)
        config = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://{self.host}:{node.broker_port},CONTROLLER://{self.host}:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{node.broker_port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(node.data_dir),
            # Topics are created explicitly by the services, with their partition count (docs/architecture.md).
            "auto.create.topics.enable": "false",
            # Consumers join at once instead of after 3 s: tests and `make run` start faster.
            "group.initial.rebalance.delay.ms": "0",
            "default.replication.factor": str(replication),
            "min.insync.replicas": str(min_isr),
            "offsets.topic.replication.factor": str(replication),
            "transaction.state.log.replication.factor": str(replication),
            "transaction.state.log.min.isr": str(min_isr),
            "share.coordinator.state.topic.replication.factor": str(replication),
            "share.coordinator.state.topic.min.isr": str(min_isr),
        }
        if self.sasl_users:
            config.update(self._sasl_config(node))
        if node.proxied_port and node.proxy_port:
            config["listeners"] += f",PROXIED://{self.host}:{node.proxied_port}"
            config["advertised.listeners"] += f",PROXIED://{self.host}:{node.proxy_port}"
            config["listener.security.protocol.map"] += ",PROXIED:PLAINTEXT"
        config.update(_FAILOVER_TUNING)
        config.update(self.extra_config)
        return config

    def _sasl_config(self, node: KafkaNode) -> dict[str, str]:
        """The client (and inter-broker) listener as SASL_PLAINTEXT; CONTROLLER stays PLAINTEXT."""
        broker_user, broker_password = next(iter(self.sasl_users.items()))
        users = " ".join(f'user_{name}="{password}"' for name, password in self.sasl_users.items())
        prefix = f"listener.name.{_SASL_LISTENER.lower()}"
        config = {
            "listeners": f"{_SASL_LISTENER}://{self.host}:{node.broker_port},CONTROLLER://{self.host}:{node.controller_port}",
            "advertised.listeners": f"{_SASL_LISTENER}://{self.host}:{node.broker_port}",
            "listener.security.protocol.map": f"{_SASL_LISTENER}:{_SASL_LISTENER},CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": _SASL_LISTENER,
            "sasl.enabled.mechanisms": ",".join(SASL_MECHANISMS),
            "sasl.mechanism.inter.broker.protocol": "PLAIN",
            # PLAIN checks the user_<name> options; the broker logs in to the others as the first user.
            f"{prefix}.plain.sasl.jaas.config": (
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'username="{broker_user}" password="{broker_password}" {users};'
            ),
        }
        for mechanism in _SCRAM_MECHANISMS:
            # SCRAM credentials live in the cluster metadata (``format --add-scram``).
            config[f"{prefix}.{mechanism.lower()}.sasl.jaas.config"] = (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            )
        return config

    def _write_configs(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / "log4j2.yaml").write_text(LOG4J2_YAML)
        for node in self.nodes:
            node.node_dir.mkdir(parents=True, exist_ok=True)
            lines = [f"{key}={value}" for key, value in self._node_config(node).items()]
            node.properties_path.write_text(
                "# Written by palmares_stack.kafka at each start.\n" + "\n".join(lines) + "\n"
            )
            if self.sasl_users:
                node.properties_path.chmod(0o600)  # it holds the passwords

    # ------------------------------------------------------------------ processes

    def _java_argv(self, java: str, libs: Path, main_class: str) -> list[str]:
        return [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            # Serial GC: smallest footprint and fastest start for a few-core machine
            # running several JVMs; pauses are short with a small heap.
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-UsePerfData",  # no /tmp/hsperfdata_* files left behind
            "-Djava.awt.headless=true",
            *os.environ.get(JVM_OPTS_ENV, "").split(),
            f"-Dlog4j2.configurationFile={self.base_dir / 'log4j2.yaml'}",
            "-cp",
            f"{libs}/*",
            main_class,
        ]

    def _format_nodes(self, java: str, libs: Path) -> None:
        """Format the log dirs of nodes that are not formatted yet, in parallel (one JVM each)."""
        pending = [n for n in self.nodes if not n.is_formatted]

        def format_node(node: KafkaNode) -> None:
            # No --standalone: the quorum is static (controller.quorum.voters).
            argv = [
                *self._java_argv(java, libs, "kafka.tools.StorageTool"),
                *("format", "-t", self.cluster_id, "-c", str(node.properties_path)),
            ]
            for name, password in self.sasl_users.items():
                for mechanism in _SCRAM_MECHANISMS:
                    argv += ["--add-scram", f"{mechanism}=[name={name},password={password}]"]
            result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
            if result.returncode != 0:
                tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
                raise KafkaError(f"formatting Kafka node {node.node_id} failed:\n{tail}")

        with ThreadPoolExecutor(max_workers=max(1, len(pending))) as pool:
            list(pool.map(format_node, pending))

    def _spawn(self, node: KafkaNode, java: str, libs: Path) -> None:
        node.process = start_process(
            f"kafka-{node.node_id}",
            [*self._java_argv(java, libs, "kafka.Kafka"), str(node.properties_path)],
            log_path=node.log_path,
            stop_signal=signal.SIGTERM,
            tie_to_parent=self.tie_to_parent,
        )
        if self._on_spawn is not None:
            self._on_spawn(node.process)

    def _wait_ready(self, nodes: list[KafkaNode], timeout: float) -> float:
        """Ready when each node in ``nodes`` answers and its cluster lists every running node as a live broker.

        Registration goes through the controller quorum, so this also proves a
        quorum leader exists; fenced (dead) brokers are not listed.
        """
        expected = {n.node_id for n in self.nodes if n.is_running}
        sasl_plain = next(iter(self.sasl_users.items())) if self.sasl_users else None
        ports = [n.broker_port for n in nodes]

        def all_registered() -> bool:
            return brokers_registered(self.host, ports, expected, sasl_plain=sasl_plain)

        processes = [n.process for n in nodes if n.process is not None]
        if not processes:
            raise ProcessError("no Kafka node is running")
        return wait_until_ready(processes, all_registered, timeout, "Kafka")
