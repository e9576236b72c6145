"""Kafka administration used by deploy scripts, tests and Compose: readiness and explicit topic creation.

Run as ``python -m shared.bus.admin {wait|topics|list} --bootstrap HOST:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from shared.events.topics import ALL_TOPICS, TopicSpec

log = logging.getLogger(__name__)

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"
_RETRY_PAUSE_S = 0.5
# One attempt must not eat the whole budget when the broker accepts connections but does not answer yet.
_ATTEMPT_TIMEOUT_S = 5.0
_REPLICATION_FACTOR = 1
# Topic metadata reaches the broker asynchronously after the controller creates it (KRaft), so callers wait
# until the topics are listed before they produce to them.
_VISIBLE_TIMEOUT_S = 30.0


def _new_admin(bootstrap: str, request_timeout_s: float) -> Any:
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="tepat-admin",
        request_timeout_ms=max(1000, int(request_timeout_s * 1000)),
    )


async def _probe(bootstrap: str) -> None:
    admin = _new_admin(bootstrap, _ATTEMPT_TIMEOUT_S)
    try:
        await admin.start()
        cluster: dict[str, Any] = await admin.describe_cluster()
        # Metadata that lists no broker means the node is still starting: clients could not produce yet.
        if not cluster.get("brokers"):
            raise KafkaError("the cluster metadata lists no broker yet")
        await admin.list_topics()
    finally:
        await admin.close()


async def wait_ready(bootstrap: str, timeout_s: float) -> None:
    """Wait until a Kafka admin client connects to ``bootstrap`` and the cluster answers metadata requests."""
    deadline = time.monotonic() + timeout_s
    attempts = 0
    last_error: BaseException | None = None
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        try:
            await asyncio.wait_for(_probe(bootstrap), timeout=max(0.1, min(_ATTEMPT_TIMEOUT_S, remaining)))
            return
        except (KafkaError, OSError, TimeoutError) as exc:
            last_error = exc
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        await asyncio.sleep(min(_RETRY_PAUSE_S, remaining))
    raise TimeoutError(
        f"Kafka at {bootstrap} was not ready after {timeout_s:.0f}s ({attempts} attempts); last error: {last_error!r}"
    )


def _topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    # CreateTopicsResponse v0 has no error message; v1+ does.
    errors: list[tuple[str, int, str | None]] = []
    for entry in response.topic_errors:
        topic, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        errors.append((str(topic), int(code), message))
    return errors


async def _wait_visible(admin: Any, names: set[str]) -> None:
    deadline = time.monotonic() + _VISIBLE_TIMEOUT_S
    while True:
        listed = set(await admin.list_topics())
        missing = names - listed
        if not missing:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"topics created but not visible after {_VISIBLE_TIMEOUT_S:.0f}s: {sorted(missing)}")
        await asyncio.sleep(0.2)


async def ensure_topics(
    bootstrap: str, specs: Sequence[TopicSpec], *, replication_factor: int = _REPLICATION_FACTOR
) -> list[str]:
    """Create the missing topics of ``specs`` (fixed partitions); return the names created."""
    admin = _new_admin(bootstrap, 30.0)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        already = [s.name for s in specs if s.name in existing]
        if already:
            _warn_partition_drift(await admin.describe_topics(already), specs)
        missing = [s for s in specs if s.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics([NewTopic(s.name, s.partitions, replication_factor) for s in missing])
        created: list[str] = []
        for topic, code, message in _topic_errors(response):
            if code == 0:
                created.append(topic)
                continue
            error_cls = for_code(code)
            # Another process (a parallel test run, kafka-init) may have won the race: the topic exists, fine.
            if error_cls is TopicAlreadyExistsError:
                continue
            raise error_cls(f"could not create topic {topic}: {message or error_cls.__name__}")
        await _wait_visible(admin, {s.name for s in missing})
        return sorted(created)
    finally:
        await admin.close()


def _warn_partition_drift(described: list[Any], specs: Sequence[TopicSpec]) -> None:
    # Partition counts are never changed automatically: adding partitions would reshuffle key -> partition
    # mapping and break per-household ordering; an operator has to decide.
    wanted = {s.name: s.partitions for s in specs}
    for topic in described:
        name = topic.get("topic")
        partitions = len(topic.get("partitions") or [])
        if name in wanted and partitions != wanted[name]:
            log.warning("topic %s has %d partitions, expected %d", name, partitions, wanted[name])


async def list_topic_names(bootstrap: str) -> list[str]:
    """Return the sorted names of the topics of the cluster."""
    admin = _new_admin(bootstrap, 30.0)
    try:
        await admin.start()
        names: list[str] = await admin.list_topics()
        return sorted(names)
    finally:
        await admin.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shared.bus.admin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("wait", "wait until the broker answers an admin client"),
        ("topics", "wait for the broker, then create the missing Tepat topics"),
        ("list", "print the topics of the cluster"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--bootstrap", default=DEFAULT_BOOTSTRAP, help="bootstrap servers (host:port)")
        cmd.add_argument("--timeout", type=float, default=60.0, help="readiness timeout in seconds")
        if name == "topics":
            cmd.add_argument(
                "--replication-factor", type=int, default=_REPLICATION_FACTOR, help="replicas of each new topic"
            )
        cmd.add_argument("-v", "--verbose", action="store_true", help="show the Kafka client's own logs")
    return parser


async def _run(args: argparse.Namespace) -> int:
    if args.command == "wait":
        started = time.monotonic()
        await wait_ready(args.bootstrap, args.timeout)
        print(f"kafka ready at {args.bootstrap} ({time.monotonic() - started:.1f}s)")
    elif args.command == "topics":
        await wait_ready(args.bootstrap, args.timeout)
        created = await ensure_topics(args.bootstrap, ALL_TOPICS, replication_factor=args.replication_factor)
        print(f"created: {', '.join(created) if created else '(none)'}")
        present = set(await list_topic_names(args.bootstrap))
        for spec in ALL_TOPICS:
            print(f"  {spec.name} partitions={spec.partitions} {'ok' if spec.name in present else 'MISSING'}")
        if not all(spec.name in present for spec in ALL_TOPICS):
            return 1
    else:
        for name in await list_topic_names(args.bootstrap):
            print(name)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        # While the broker starts, every refused connection is logged at ERROR by aiokafka: pure noise here.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(_run(args))
    except (TimeoutError, KafkaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
