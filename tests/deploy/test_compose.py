"""Static checks of the deployment files: docker-compose.yml against the settings classes, Dockerfile, init.sql.

Compose cannot run on the build machines, so these file checks are what keeps it in step with the code.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.disbursement.settings import DisbursementSettings
from services.gateway.settings import GatewaySettings
from services.registry.settings import RegistrySettings
from services.verification.settings import VerificationSettings
from shared.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
CADDYFILE = REPO / "deploy" / "caddy" / "Caddyfile"
INIT_SQL = REPO / "deploy" / "postgres" / "init.sql"
KAFKA_POM = REPO / "deploy" / "kafka" / "pom.xml"
KAFKA_CLUSTER_ENV = REPO / "deploy" / "kafka" / "cluster.env"

DB_SERVICES: dict[str, type[ServiceSettings]] = {
    "registry": RegistrySettings,
    "verification": VerificationSettings,
    "disbursement": DisbursementSettings,
}
APP_SERVICES: dict[str, type[BaseSettings]] = {**DB_SERVICES, "gateway": GatewaySettings}
ONE_SHOTS = ("kafka-init", "migrate")

# What the distributed deployment must set explicitly: the defaults describe the embedded mode.
REQUIRED_SERVICE_FIELDS = {
    "database_url",
    "db_schema",
    "bus",
    "kafka_bootstrap",
    "log_json",
    "auth_issuer",
    "auth_audience",
}
REQUIRED_GATEWAY_FIELDS = {
    "mode",
    "registry_url",
    "verification_url",
    "disbursement_url",
    "host",
    "port",
    "log_json",
    "auth_issuer",
    "auth_audience",
}
AUTH_KEY_FIELDS = {"auth_public_key_file", "auth_jwks_url"}

_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
# Variables that hold secrets: Compose must require them (${VAR:?message}), never ship a working default.
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE", re.I)


def required_value(name: str) -> str:
    """What a required variable stands for in these checks (the operator's value is unknown here)."""
    return f"required-{name}"


def _interpolate(value: str, given: dict[str, str] | None = None) -> str:
    """Resolve Compose's ``${VAR:-default}`` the way `docker compose config` does with only the ``given`` variables
    (an env file); a required ``${VAR:?message}`` becomes `required_value(VAR)`."""

    def resolve(match: re.Match[str]) -> str:
        if given and match.group("name") in given:
            return given[match.group("name")]
        op = match.group("op") or ""
        if op.endswith("?"):
            return required_value(match.group("name"))
        if not op:
            raise AssertionError(f"{match.group(0)} has no default: Compose would substitute an empty string")
        return match.group("arg")

    return _INTERPOLATION.sub(resolve, value.replace("$$", "\0")).replace("\0", "$")


def _environment(service: dict[str, Any], given: dict[str, str] | None = None) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) for item in raw)
        raw = {key: (rest[0] if rest else None) for key, *rest in pairs}
    env: dict[str, str] = {}
    for key, value in raw.items():
        assert value is not None, f"{key} is passed through from the host: give it a value in the compose file"
        env[str(key)] = _interpolate(str(value).lower() if isinstance(value, bool) else str(value), given)
    return env


def _env_prefix(cls: type[BaseSettings]) -> str:
    prefix = cls.model_config.get("env_prefix")
    assert isinstance(prefix, str), f"{cls.__name__} has no env_prefix"
    assert prefix, f"{cls.__name__} has an empty env_prefix"
    return prefix


def _fields_set(env: dict[str, str], cls: type[BaseSettings]) -> dict[str, str]:
    """The environment entries of ``cls``, keyed by field name (prefix stripped, case-insensitive)."""
    prefix = _env_prefix(cls).upper()
    return {key[len(prefix) :].lower(): value for key, value in env.items() if key.upper().startswith(prefix)}


def _load_settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], cls: type[BaseSettings]) -> BaseSettings:
    """Instantiate ``cls`` from exactly ``env``, as the container would."""
    for key in list(os.environ):
        if key.upper().startswith("TEPAT_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return cls()


def _command(service: dict[str, Any], given: dict[str, str] | None = None) -> list[str]:
    command = service.get("command") or []
    parts = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    return [_interpolate(part, given) for part in parts]


def _healthcheck_text(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict)
    return found


def test_compose_declares_every_service(services: dict[str, dict[str, Any]]) -> None:
    expected = {"postgres", "kafka", *ONE_SHOTS, *APP_SERVICES}
    assert expected <= set(services), f"missing: {sorted(expected - set(services))}"


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_environment_only_uses_own_settings_fields(services: dict[str, dict[str, Any]], name: str) -> None:
    cls = APP_SERVICES[name]
    prefix = _env_prefix(cls)
    assert prefix.upper() == f"TEPAT_{name.upper()}_"
    env = _environment(services[name])
    assert env.get("TEPAT_SERVICE") == name, "TEPAT_SERVICE picks the app the container runs"
    for key in env:
        if key == "TEPAT_SERVICE" or not key.upper().startswith("TEPAT_"):
            continue
        assert key.upper().startswith(prefix.upper()), f"{name}: {key} belongs to another service"
    unknown = set(_fields_set(env, cls)) - set(cls.model_fields)
    assert not unknown, f"{name}: {sorted(unknown)} are not fields of {cls.__name__}"


def test_migrate_environment_uses_settings_fields(services: dict[str, dict[str, Any]]) -> None:
    env = _environment(services["migrate"])
    claimed: set[str] = set()
    for name, cls in DB_SERVICES.items():
        fields = _fields_set(env, cls)
        unknown = set(fields) - set(cls.model_fields)
        assert not unknown, f"migrate: {sorted(unknown)} are not fields of {cls.__name__}"
        assert {"database_url", "db_schema"} <= set(fields), f"migrate lacks the database settings of {name}"
        claimed |= {k for k in env if k.upper().startswith(_env_prefix(cls).upper())}
    stray = {k for k in env if k.upper().startswith("TEPAT_")} - claimed
    assert not stray, f"migrate: {sorted(stray)} match no service's settings"


@pytest.mark.parametrize("name", sorted(DB_SERVICES))
def test_migrate_targets_the_services_databases(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    cls = DB_SERVICES[name]
    migrated = _load_settings(monkeypatch, _environment(services["migrate"]), cls)
    served = _load_settings(monkeypatch, _environment(services[name]), cls)
    assert isinstance(migrated, ServiceSettings)
    assert isinstance(served, ServiceSettings)
    # Migrations run as the service's role so the tables belong to it, in the schema the service reads.
    assert migrated.resolved_database_url == served.resolved_database_url
    assert migrated.schema_name == served.schema_name == name


@pytest.mark.parametrize("name", sorted(DB_SERVICES))
def test_service_environment_is_complete_and_valid(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    cls = DB_SERVICES[name]
    env = _environment(services[name])
    fields = _fields_set(env, cls)
    missing = REQUIRED_SERVICE_FIELDS - set(fields)
    assert not missing, f"{name}: missing {sorted(missing)}"
    assert AUTH_KEY_FIELDS & set(fields), f"{name}: needs auth_public_key_file or auth_jwks_url"
    required = {f for f, info in cls.model_fields.items() if info.is_required()}
    assert required <= set(fields), f"{name}: required fields missing: {sorted(required - set(fields))}"

    settings = _load_settings(monkeypatch, env, cls)
    assert isinstance(settings, ServiceSettings)
    assert settings.bus == "kafka"
    assert settings.is_postgres
    assert settings.schema_name == name
    url = urlsplit(settings.resolved_database_url)
    assert url.scheme == "postgresql+asyncpg"
    assert (url.hostname, url.port) == ("postgres", 5432)
    # Each service connects as its own role (created by init.sql), never as the superuser, with the password the
    # operator must give (the same variable sets it in PostgreSQL on the first start).
    variable = f"TEPAT_{name.upper()}_DB_PASSWORD"
    assert (url.username, url.password) == (name, required_value(variable))
    postgres_env = _environment(services["postgres"])
    assert postgres_env[variable] == required_value(variable)
    assert url.path.lstrip("/") == postgres_env["POSTGRES_DB"]
    assert settings.kafka_bootstrap == "kafka:9092"
    if settings.auth_public_key_file is not None:
        _assert_secret_file(services[name], str(settings.auth_public_key_file))


def test_registry_and_verification_share_one_required_nik_digest_key(services: dict[str, dict[str, Any]]) -> None:
    # The four-eyes rule matches the digests registry events carry against the officer's: one secret, no default.
    keys = {n: _fields_set(_environment(services[n]), DB_SERVICES[n]).get("nik_digest_key") for n in DB_SERVICES}
    variable = required_value("TEPAT_NIK_DIGEST_KEY")
    assert {n: keys[n] for n in ("registry", "verification")} == {"registry": variable, "verification": variable}


def test_gateway_environment_is_complete_and_valid(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _environment(services["gateway"])
    fields = _fields_set(env, GatewaySettings)
    missing = REQUIRED_GATEWAY_FIELDS - set(fields)
    assert not missing, f"gateway: missing {sorted(missing)}"
    assert AUTH_KEY_FIELDS & set(fields), "gateway: needs auth_public_key_file or auth_jwks_url"

    settings = _load_settings(monkeypatch, env, GatewaySettings)
    assert isinstance(settings, GatewaySettings)
    assert settings.mode == "distributed"
    assert settings.host == "0.0.0.0"
    upstreams = {
        "registry": settings.registry_url,
        "verification": settings.verification_url,
        "disbursement": settings.disbursement_url,
    }
    for name, url in upstreams.items():
        parts = urlsplit(url)
        assert name in services, f"gateway points at {url}, but there is no {name} service"
        assert (parts.hostname, parts.port) == (name, 8000), f"gateway reaches {name} at {url}"
    # The proxy forwards to the port the gateway listens on (deploy/caddy/Caddyfile).
    assert f"reverse_proxy gateway:{settings.port}" in CADDYFILE.read_text(encoding="utf-8")
    if settings.auth_public_key_file is not None:
        _assert_secret_file(services["gateway"], str(settings.auth_public_key_file))


def _assert_secret_file(service: dict[str, Any], path: str) -> None:
    prefix = "/run/secrets/"
    assert path.startswith(prefix), f"the public key {path} should be a mounted secret"
    names = {s if isinstance(s, str) else s.get("target", s.get("source")) for s in service.get("secrets", [])}
    assert path[len(prefix) :] in names, f"{path} is not mounted: secrets are {sorted(names)}"


def test_auth_settings_agree_across_services(services: dict[str, dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    for name, cls in APP_SERVICES.items():
        fields = _fields_set(_environment(services[name]), cls)
        seen.add((fields["auth_issuer"], fields["auth_audience"]))
    assert len(seen) == 1, f"issuer/audience differ between services: {seen}"


def test_secrets_are_declared(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set((compose.get("secrets") or {}).keys())
    for name, service in services.items():
        for secret in service.get("secrets", []):
            source = secret if isinstance(secret, str) else secret.get("source")
            assert source in declared, f"{name} uses undeclared secret {source}"


def test_only_the_tls_proxy_publishes_ports(services: dict[str, dict[str, Any]]) -> None:
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"proxy"}
    assert sorted(str(p) for p in services["proxy"]["ports"]) == ["443:443", "80:80"]
    mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in services["proxy"]["volumes"]}
    assert (REPO / mounts["/etc/caddy/Caddyfile"]).resolve() == CADDYFILE.resolve()
    assert services["proxy"]["depends_on"]["gateway"]["condition"] == "service_healthy"


def test_tls_is_self_signed_by_default_and_configurable() -> None:
    text = CADDYFILE.read_text(encoding="utf-8")
    site = re.search(r"^\{\$TEPAT_DOMAIN:(?P<default>[^}]+)\} \{", text, re.MULTILINE)
    assert site, "the site address comes from TEPAT_DOMAIN"
    assert site.group("default") == "localhost"
    assert "tls {$TEPAT_TLS:internal}" in text, "Caddy's local CA by default, ACME or own certificates by variable"
    # The gateway limits per client address: the proxy passes the caller's on, and the gateway believes it.
    assert "header_up X-Forwarded-For {remote_host}" in text


def test_gateway_sees_the_callers_address_behind_the_proxy(services: dict[str, dict[str, Any]]) -> None:
    gateway = services["gateway"]
    assert not gateway.get("ports"), "the gateway is reached only through the proxy"
    assert _environment(gateway)["FORWARDED_ALLOW_IPS"] == "*"


def _named_mounts(service: dict[str, Any], compose: dict[str, Any]) -> dict[str, str]:
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source in (compose.get("volumes") or {}):
            mounts[target] = source
    return mounts


def test_uploads_and_evidence_live_in_named_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from services.registry.imports.service import import_dir

    registry = _load_settings(monkeypatch, _environment(services["registry"]), RegistrySettings)
    assert isinstance(registry, RegistrySettings)
    workdir = Path(re.findall(r"^WORKDIR (\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)[-1])
    # import_dir(data_dir) creates the folder: call it under a scratch cwd, then place its answer in the image.
    monkeypatch.chdir(tmp_path)
    uploads = workdir / import_dir(registry.data_dir)  # a relative data_dir resolves against the WORKDIR
    assert _named_mounts(services["registry"], compose).get(str(uploads)) == "uploads"
    verification = _load_settings(monkeypatch, _environment(services["verification"]), VerificationSettings)
    assert isinstance(verification, VerificationSettings)
    assert _named_mounts(services["verification"], compose).get(str(verification.evidence_path)) == "evidence"


def test_every_app_volume_path_exists_in_the_image_for_the_service_user(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    """A named volume on a path the image lacks comes up owned by root: the service user could not write it."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    created = re.search(r"install -d -o tepat -g tepat (?P<paths>[^\n#]+)", text)
    assert created, "the Dockerfile creates the service user's folders"
    paths = set(created.group("paths").split())
    for name in APP_SERVICES:
        for target in _named_mounts(services[name], compose):
            assert target in paths, f"{name}: {target} is not created for the service user in the Dockerfile"


def test_the_image_holds_what_the_cli_offers() -> None:
    """`tepat scenario` and `tepat generate-city` import demo/: the image copies it with the services."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) \./", text, re.MULTILINE))
    cli = (REPO / "services" / "cli.py").read_text(encoding="utf-8")
    packages = {m.split(".")[0] for m in re.findall(r"^\s*(?:from|import) ((?:demo|services|shared)[.\w]*)", cli, re.M)}
    assert packages <= copied, f"the CLI imports {sorted(packages - copied)} but the image lacks them"


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_services_have_healthchecks(services: dict[str, dict[str, Any]], name: str) -> None:
    healthcheck = services[name].get("healthcheck") or {}
    assert not healthcheck.get("disable"), f"{name}: healthcheck disabled"
    text = _healthcheck_text(services[name])
    # Readiness (database, bus, and for the gateway every service behind it), not mere liveness.
    assert "/readyz" in text, f"{name}: healthcheck should hit /readyz: {text}"
    assert ":8000" in text, f"{name}: healthcheck should hit the app port 8000: {text}"


def test_infrastructure_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    assert "pg_isready" in _healthcheck_text(services["postgres"])
    assert "kafka-broker-api-versions.sh" in _healthcheck_text(services["kafka"])


def test_postgres_runs_init_sql(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert str(postgres.get("image", "")).startswith("postgres:")
    mounted = []
    for volume in postgres.get("volumes", []):
        source, target = (
            (volume.split(":")[0], volume.split(":")[1])
            if isinstance(volume, str)
            else (volume.get("source", ""), volume.get("target", ""))
        )
        if target.startswith("/docker-entrypoint-initdb.d/"):
            mounted.append((REPO / source).resolve())
    assert INIT_SQL.resolve() in mounted, f"init.sql is not mounted into /docker-entrypoint-initdb.d: {mounted}"


@pytest.mark.parametrize("name", sorted(DB_SERVICES))
def test_services_wait_for_migrations_and_infrastructure(services: dict[str, dict[str, Any]], name: str) -> None:
    depends = services[name].get("depends_on")
    assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
    assert depends.get("migrate", {}).get("condition") == "service_completed_successfully"
    assert depends.get("kafka-init", {}).get("condition") == "service_completed_successfully"
    assert depends.get("postgres", {}).get("condition") == "service_healthy"
    assert depends.get("kafka", {}).get("condition") == "service_healthy"


def test_gateway_waits_for_healthy_services(services: dict[str, dict[str, Any]]) -> None:
    depends = services["gateway"].get("depends_on")
    assert isinstance(depends, dict)
    for name in DB_SERVICES:
        assert depends.get(name, {}).get("condition") == "service_healthy", name


def test_one_shots(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert _command(migrate)[:3] == ["tepat", "migrate", "--all"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    kafka_init = services["kafka-init"]
    command = _command(kafka_init)
    assert command[:4] == ["python", "-m", "shared.bus.admin", "topics"]
    assert command[command.index("--bootstrap") + 1] == "kafka:9092"
    assert kafka_init["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ONE_SHOTS:
        assert services[name].get("restart", "no") == "no", f"{name} is one-shot: it must not restart"


def test_kafka_matches_the_local_setup(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]
    env = _environment(kafka)
    pom_version = re.search(r"<kafka.version>([^<]+)</kafka.version>", KAFKA_POM.read_text(encoding="utf-8"))
    assert pom_version is not None
    assert kafka["image"] == f"apache/kafka:{pom_version.group(1)}", "same Kafka version in Compose and pom.xml"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]


def test_kafka_is_one_broker_without_the_cluster_profile(services: dict[str, dict[str, Any]]) -> None:
    env = _environment(services["kafka"])
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == env["KAFKA_MIN_INSYNC_REPLICAS"] == "1"
    command = _command(services["kafka-init"])
    assert command[command.index("--replication-factor") + 1] == "1"
    for name in ("kafka-2", "kafka-3"):
        assert services[name]["profiles"] == ["cluster"], f"{name} runs only in the cluster profile"


def _env_file(path: Path) -> dict[str, str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_kafka_cluster_profile_is_three_brokers_with_replication_three(
    monkeypatch: pytest.MonkeyPatch, services: dict[str, dict[str, Any]]
) -> None:
    given = _env_file(KAFKA_CLUSTER_ENV)
    assert given["COMPOSE_PROFILES"] == "cluster"
    brokers = ("kafka", "kafka-2", "kafka-3")
    envs = {name: _environment(services[name], given) for name in brokers}
    assert sorted(env["KAFKA_NODE_ID"] for env in envs.values()) == ["1", "2", "3"]
    voters = {f"{env['KAFKA_NODE_ID']}@{name}:9093" for name, env in envs.items()}
    volumes = set()
    for name, env in envs.items():
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["CLUSTER_ID"] == envs["kafka"]["CLUSTER_ID"]
        for key in ("DEFAULT_REPLICATION_FACTOR", "OFFSETS_TOPIC_REPLICATION_FACTOR"):
            assert env[f"KAFKA_{key}"] == "3", key
        for key in ("MIN_INSYNC_REPLICAS", "TRANSACTION_STATE_LOG_MIN_ISR"):
            assert env[f"KAFKA_{key}"] == "2", key
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        volumes |= {str(v).split(":")[0] for v in services[name]["volumes"]}
    assert len(volumes) == 3, "each broker keeps its own log dir"
    bootstrap = {f"{name}:9092" for name in brokers}
    command = _command(services["kafka-init"], given)
    assert set(command[command.index("--bootstrap") + 1].split(",")) == bootstrap
    assert command[command.index("--replication-factor") + 1] == "3"
    for name in ("kafka-2", "kafka-3"):
        assert services["kafka-init"]["depends_on"][name] == {"condition": "service_healthy", "required": False}
    for name, cls in DB_SERVICES.items():
        settings = _load_settings(monkeypatch, _environment(services[name], given), cls)
        assert isinstance(settings, ServiceSettings)
        assert set(settings.kafka_bootstrap.split(",")) == bootstrap


def test_app_containers_share_one_image(services: dict[str, dict[str, Any]]) -> None:
    builds = {name: (services[name].get("build"), services[name].get("image")) for name in [*APP_SERVICES, *ONE_SHOTS]}
    assert len(set(builds.values())) == 1, f"all app containers come from one Dockerfile: {builds}"
    build = next(iter(builds.values()))[0]
    context = build if isinstance(build, str) else (build or {}).get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else (build or {}).get("dockerfile", "Dockerfile")
    assert (REPO / context / dockerfile).resolve() == DOCKERFILE.resolve()


def test_dockerfile_runs_the_selected_service() -> None:
    assert DOCKERFILE.is_file()
    text = DOCKERFILE.read_text(encoding="utf-8")
    # Join continuation lines so each instruction is one line.
    instructions = [line.strip() for line in text.replace("\\\n", " ").splitlines()]
    instructions = [line for line in instructions if line and not line.startswith("#")]
    assert any(re.match(r"FROM\s+python:3\.11-slim\b", line) for line in instructions)
    users = [line.split(None, 1)[1].strip() for line in instructions if line.upper().startswith("USER ")]
    assert users, "the image must switch to a non-root user"
    assert users[-1].split(":")[0] not in {"root", "0"}, "the image must run as a non-root user"
    assert any(line.upper().startswith("EXPOSE") and "8000" in line for line in instructions)
    start = [line for line in instructions if line.upper().startswith(("CMD", "ENTRYPOINT"))]
    assert start, "no CMD/ENTRYPOINT"
    command = " ".join(start)
    assert "uvicorn" in command
    assert "--factory" in command, "create_app is a factory"
    assert re.search(r"services\.\$\{?TEPAT_SERVICE\b[^.]*\.app:create_app", command), command


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_factories_exist(name: str) -> None:
    module = REPO / "services" / name / "app.py"
    assert module.is_file(), f"the Dockerfile runs services.{name}.app:create_app, but {module} is missing"
    assert re.search(r"^def create_app\(", module.read_text(encoding="utf-8"), re.MULTILINE)


@pytest.mark.parametrize("name", sorted(DB_SERVICES))
def test_init_sql_creates_role_and_schema(name: str) -> None:
    sql = " ".join(INIT_SQL.read_text(encoding="utf-8").split())
    assert re.search(rf"CREATE ROLE {name} LOGIN;", sql), f"no login role {name}"
    assert f"CREATE SCHEMA IF NOT EXISTS {name} AUTHORIZATION {name};" in sql
    assert f"ALTER ROLE {name} SET search_path = {name};" in sql
    assert re.search(rf"GRANT CONNECT ON DATABASE %I TO {name}\b", sql), f"{name} cannot connect"


def test_init_sql_isolates_schemas() -> None:
    sql = " ".join(INIT_SQL.read_text(encoding="utf-8").split())
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC;" in sql
    assert "REVOKE ALL ON DATABASE %I FROM PUBLIC" in sql
    # No service may be granted anything on another service's schema or tables.
    for grant in re.finditer(r"GRANT\s+[^;']+?\s+ON\s+(?:SCHEMA|ALL TABLES IN SCHEMA)\s+(\w+)\s+TO\s+(\w+)", sql, re.I):
        assert grant.group(1) == grant.group(2), f"cross-schema grant: {grant.group(0)}"


def test_no_secret_has_a_working_default() -> None:
    """The probe found role passwords equal to role names and POSTGRES_PASSWORD defaulting to `postgres`."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    uses = list(_INTERPOLATION.finditer(text))
    secrets = [m for m in uses if _SECRET_NAME.search(m.group("name"))]
    assert {m.group("name") for m in secrets} >= {
        "POSTGRES_PASSWORD",
        "TEPAT_REGISTRY_DB_PASSWORD",
        "TEPAT_VERIFICATION_DB_PASSWORD",
        "TEPAT_DISBURSEMENT_DB_PASSWORD",
    }
    for m in secrets:
        assert (m.group("op") or "").endswith("?"), f"{m.group(0)}: a secret must be required, not defaulted"
    # No password written out anywhere in the file (user:password@ in a URL, or a literal value).
    assert not re.search(r"://[^:/@\s]+:(?!\$\{)[^@\s]+@", text), "a URL carries a literal password"
    for name, service in yaml.safe_load(text)["services"].items():
        raw = service.get("environment") or {}
        pairs = dict(item.split("=", 1) for item in raw) if isinstance(raw, list) else raw
        for key, value in pairs.items():
            if _SECRET_NAME.search(str(key)):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), f"{name}: {key} is not a required variable"


def test_init_sql_holds_no_password() -> None:
    sql = INIT_SQL.read_text(encoding="utf-8")
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    assert "PASSWORD" not in code.upper(), "init.sql runs in production: passwords come from the deployment"


def test_postgres_sets_service_passwords_from_the_required_variables(services: dict[str, dict[str, Any]]) -> None:
    targets = {}
    for volume in services["postgres"].get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if target.startswith("/docker-entrypoint-initdb.d/"):
            targets[Path(target).name] = (REPO / source).resolve()
    ordered = [targets[name] for name in sorted(targets)]
    script = REPO / "deploy" / "postgres" / "service-passwords.sh"
    # The image runs them in name order: roles first, then their passwords.
    assert ordered.index(INIT_SQL.resolve()) < ordered.index(script.resolve())
    text = script.read_text(encoding="utf-8")
    for name in DB_SERVICES:
        variable = f"TEPAT_{name.upper()}_DB_PASSWORD"
        assert f"${{{variable}:?" in text, f"{script.name} must refuse to run without {variable}"
        assert f"ALTER ROLE {name} PASSWORD :'{name}'" in text


def test_servers_bound_the_request_head_like_tepat_serve() -> None:
    from services.gateway.headers import server_limits

    limits = server_limits(GatewaySettings().max_header_bytes)
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert f"--http {limits['http']}" in text
    assert f"--h11-max-incomplete-event-size {limits['h11_max_incomplete_event_size']}" in text


def test_metrics_are_not_public(services: dict[str, dict[str, Any]]) -> None:
    from services.gateway.guard import PUBLIC_SUFFIXES

    # Only the proxy publishes ports, and through it the gateway's /metrics (its own and each service's) needs the
    # system role: nothing else is reachable from outside the Compose network.
    assert {name for name, service in services.items() if service.get("ports") or service.get("expose")} == {"proxy"}
    assert not any(suffix.endswith("/metrics") for suffix in PUBLIC_SUFFIXES)


@pytest.mark.parametrize("name", sorted(DB_SERVICES))
def test_audit_key_and_checkpoints_live_in_a_named_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The checkpoint key and file are outside the database, in a declared volume that survives the container."""
    service = services[name]
    settings = _load_settings(monkeypatch, _environment(service), DB_SERVICES[name])
    assert isinstance(settings, ServiceSettings)
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2] if isinstance(volume, str) else (volume["source"], volume["target"])
        mounts[Path(target)] = source
    for path in (settings.audit_key_path, settings.audit_checkpoint_path, settings.audit_public_key_path):
        owners = [source for target, source in mounts.items() if target in path.parents]
        assert owners, f"{name}: {path} is not on a mounted volume"
        assert owners[0] in (compose.get("volumes") or {}), f"{name}: {owners[0]} is not a named volume"


# --- the OpenID Connect example (deploy/compose.oidc.yml + deploy/keycloak/tepat-realm.json) ---------------------

OIDC_FILE = REPO / "deploy" / "compose.oidc.yml"
REALM_FILE = REPO / "deploy" / "keycloak" / "tepat-realm.json"


def _with_oidc(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The base services with the override merged as Compose merges it (environment maps key by key)."""
    override = yaml.safe_load(OIDC_FILE.read_text(encoding="utf-8"))["services"]
    merged = {name: dict(service) for name, service in services.items()}
    for name, extra in override.items():
        base = merged.setdefault(name, {})
        env = {**_environment(base), **{k: str(v) for k, v in (extra.get("environment") or {}).items()}}
        merged[name] = {**base, **extra, "environment": env}
    return merged


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_oidc_example_points_every_app_at_the_issuers_keys(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import json

    realm = json.loads(REALM_FILE.read_text(encoding="utf-8"))
    merged = _with_oidc(services)
    keycloak = _environment(merged["keycloak"])
    settings = _load_settings(monkeypatch, _environment(merged[name]), APP_SERVICES[name])
    assert isinstance(settings, ServiceSettings | GatewaySettings)
    assert settings.auth_jwks_url is not None
    jwks = urlsplit(settings.auth_jwks_url)
    assert (jwks.hostname, jwks.port) == ("keycloak", 8080)
    # Keycloak's issuer is its public URL (KC_HOSTNAME) + /realms/<realm>; the JWKS path hangs off the same realm.
    assert settings.auth_issuer == f"{keycloak['KC_HOSTNAME']}/realms/{realm['realm']}"
    assert jwks.path == f"{keycloak['KC_HTTP_RELATIVE_PATH']}/realms/{realm['realm']}/protocol/openid-connect/certs"
    scope = next(s for s in realm["clientScopes"] if s["name"] in realm["defaultDefaultClientScopes"])
    audiences = {m["config"].get("included.custom.audience") for m in scope["protocolMappers"]}
    assert settings.auth_audience in audiences


def test_oidc_realm_puts_role_and_wilayah_claims_tepat_accepts() -> None:
    import json

    from shared.auth.principal import Role, scope_level_of

    realm = json.loads(REALM_FILE.read_text(encoding="utf-8"))
    claims = {
        m["config"]["claim.name"]
        for s in realm["clientScopes"]
        for m in s["protocolMappers"]
        if m["protocolMapper"] == "oidc-usermodel-attribute-mapper" and m["config"]["access.token.claim"] == "true"
    }
    assert claims == {"role", "wilayah"}
    for user in realm["users"]:
        Role(user["attributes"]["role"][0])
        scope_level_of(user["attributes"]["wilayah"][0])
    profile = json.loads(
        realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0]["config"]["kc.user.profile.config"][0]
    )
    role_attr = next(a for a in profile["attributes"] if a["name"] == "role")
    assert set(role_attr["validations"]["options"]["options"]) == {r.value for r in Role}
    # Users cannot give themselves another role or wilayah.
    for name in ("role", "wilayah"):
        attr = next(a for a in profile["attributes"] if a["name"] == name)
        assert attr["permissions"]["edit"] == ["admin"]


def test_oidc_example_requires_its_admin_secret() -> None:
    text = OIDC_FILE.read_text(encoding="utf-8")
    assert "${KEYCLOAK_ADMIN_PASSWORD:?" in text
    assert "handle /auth/*" in CADDYFILE.read_text(encoding="utf-8"), "the issuer is served through the TLS proxy"
