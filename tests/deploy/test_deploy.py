"""deploy/: the scaled-out topology, read as configuration (no Docker, no cluster, no server).

nginx in front of N Rasa servers (REST balanced over all of them; socket.io sticky per client,
its sessions living in one replica), M action servers, an atomic Redis lock store
(addons/lock_store.py: Rasa 3.6's own can issue one ticket twice) and a PostgreSQL tracker
store shared by all replicas; every secret from the environment. Rasa's own loaders read
deploy/endpoints.yml, without connecting to anything.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from tests.helpers import ROOT, leaves

DEPLOY = ROOT / "deploy"
HELM = DEPLOY / "helm"
SECRET_NAME = re.compile(r"password|token|secret", re.IGNORECASE)
# A compose reference that needs no literal: required (${VAR:?msg}) or empty by default.
COMPOSE_SECRET_REF = re.compile(r"^\$\{\w+(:\?[^}]*|:-)?\}$")
RASA_ENV_REF = re.compile(r"^\$\{\w+\}$")
ENDPOINT_ENV = {
    "DB_HOST": "tracker-db.internal",
    "DB_PORT": "5433",
    "DB_DATABASE": "rasa",
    "DB_USER": "rasa",
    "DB_PASSWORD": "pw-from-env",
    "REDIS_HOST": "redis.internal",
    "REDIS_PORT": "6380",
    "REDIS_DB": "1",
    "REDIS_PASSWORD": "redis-pw-from-env",
}


def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


COMPOSE = _yaml(DEPLOY / "docker-compose.yml")
SERVICES = COMPOSE["services"]
RASA_VALUES = _yaml(HELM / "rasa-values.yml")
ACTION_VALUES = _yaml(HELM / "rasa-action-server-values.yml")
MAKEFILE_MODEL = re.search(r"^MODEL\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)[1]


def _command(service: dict) -> list[str]:
    command = service.get("command") or []
    return [str(part) for part in (command.split() if isinstance(command, str) else command)]


def _option(args: list[str], name: str) -> str:
    """The value of `name` given as `name value` or `name=value`."""
    for index, arg in enumerate(args):
        if arg == name:
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{name} missing from {args}")


RASA = sorted(
    name for name, s in SERVICES.items() if "run" in _command(s) and "rasa" in " ".join(_command(s))
)
ACTIONS = sorted(
    name
    for name, s in SERVICES.items()
    if {"scripts/action_server.py", "rasa_sdk"} & set(_command(s))
)


def _replicas(service: dict) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


def _nginx() -> str:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    return re.sub(r"#[^\n]*", "", text)


def _block(text: str, header: str) -> str:
    """The body of the first `header { ... }` block (nested blocks included)."""
    match = re.search(re.escape(header) + r"\s*\{", text)
    assert match, f"no `{header}` block in nginx.conf"
    depth, i = 1, match.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[match.end() : i - 1]


def _directives(block: str, name: str) -> list[str]:
    return [m.strip() for m in re.findall(rf"(?:^|[;{{}}\s]){name}\s+([^;]*);", block)]


def _location(name: str) -> str:
    return _block(_block(_nginx(), "server"), f"location {name}")


def _upstream_of(location: str) -> tuple[str, str]:
    """(name, body) of the upstream a location proxies to."""
    (target,) = _directives(location, "proxy_pass")
    assert target.startswith("http://"), target
    name = target.removeprefix("http://")
    return name, _block(_nginx(), f"upstream {name}")


def _servers(upstream: str) -> set[str]:
    return {s.split()[0] for s in _directives(upstream, "server")}


def _rasa_servers() -> set[str]:
    ports = {_option(_command(SERVICES[name]), "--port") for name in RASA}
    return {f"{name}:{port}" for name in RASA for port in ports}


def _sticky(upstream: str) -> bool:
    """Hashed on the client's address (ip_hash, or hash $remote_addr)."""
    hashed = any("$remote_addr" in h for h in _directives(upstream, "hash"))
    return bool(re.search(r"(^|[;{\s])ip_hash\s*;", upstream)) or hashed


# ---- Docker Compose and nginx -------------------------------------------------------------


def test_compose_runs_at_least_two_rasa_servers_and_two_action_servers():
    assert len(RASA) >= 2, RASA
    assert sum(_replicas(SERVICES[name]) for name in ACTIONS) >= 2, ACTIONS
    for name in RASA:
        assert _replicas(SERVICES[name]) == 1, f"{name}: nginx addresses each replica by name"


def test_nginx_balances_rest_over_every_rasa_server_by_load():
    # REST, webhooks and the API: any replica can serve any conversation (the atomic lock
    # store keeps one conversation's messages in order), so the least busy one takes it.
    name, upstream = _upstream_of(_location("/"))
    assert _servers(upstream) == _rasa_servers(), name
    assert re.search(r"(^|[;{\s])least_conn\s*;", upstream), f"{name}: least_conn"
    assert not _sticky(upstream), f"{name}: REST is not pinned to one replica"


def test_socketio_is_sticky_per_client_over_every_rasa_server_with_websocket_upgrade():
    conf = _nginx()
    server = _block(conf, "server")
    socket = _location("/socket.io/")
    # Hash on the client, not round robin: a socket.io session lives in one replica's memory.
    name, upstream = _upstream_of(socket)
    assert _servers(upstream) == _rasa_servers(), name
    assert _sticky(upstream), f"{name} needs ip_hash (or hash $remote_addr)"
    assert name != _upstream_of(_location("/"))[0], "REST has an upstream of its own"
    headers = " ".join(_directives(socket, "proxy_set_header"))
    assert "Upgrade $http_upgrade" in headers
    assert re.search(r"Connection (\$connection_upgrade|\"?upgrade)", headers), headers
    if "$connection_upgrade" in headers:
        assert re.search(r"map \$http_upgrade \$connection_upgrade", conf)
    assert "1.1" in _directives(socket, "proxy_http_version") + _directives(
        server, "proxy_http_version"
    )
    # Held polls and idle websockets: longer than socket.io's ping interval + timeout (45 s).
    read_timeout = _directives(socket, "proxy_read_timeout")
    assert read_timeout and int(read_timeout[0].rstrip("s")) > 45
    assert _directives(server, "client_max_body_size") == ["1m"]


def test_only_nginx_publishes_a_port_and_it_is_the_one_nginx_listens_on():
    published = {name for name, s in SERVICES.items() if s.get("ports")}
    assert published == {"nginx"}
    (mapping,) = SERVICES["nginx"]["ports"]
    listen = _directives(_block(_nginx(), "server"), "listen")
    assert str(mapping).rsplit(":", 1)[1] in listen
    mounts = [str(v) for v in SERVICES["nginx"]["volumes"]]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in mounts


def test_rasa_servers_use_the_shared_stores_and_wait_for_them():
    for store, env in (("postgres", "DB_HOST"), ("redis", "REDIS_HOST")):
        assert store in SERVICES
        assert SERVICES[store].get("healthcheck"), f"{store}: no healthcheck to wait on"
        for name in RASA:
            rasa = SERVICES[name]
            assert rasa["depends_on"][store]["condition"] == "service_healthy", name
            assert rasa["environment"][env] == store, name
    volume = SERVICES["postgres"]["volumes"][0].split(":")[0]
    assert volume in (COMPOSE.get("volumes") or {}), "tracker data in a named volume"


def test_compose_sets_every_variable_that_the_endpoints_need():
    values = [str(v) for _, v in leaves(_yaml(DEPLOY / "endpoints.yml"))]
    needed = {ref for value in values for ref in re.findall(r"\$\{(\w+)\}", value)}
    assert needed == set(ENDPOINT_ENV)
    for name in RASA:
        assert needed <= set(SERVICES[name]["environment"]), name


def test_rasa_servers_run_the_built_model_with_the_deploy_configuration():
    for name in RASA:
        args = _command(SERVICES[name])
        assert "--enable-api" in args
        assert _option(args, "--model") == MAKEFILE_MODEL
        for option in ("--endpoints", "--credentials"):
            assert (ROOT / _option(args, option)).parent == DEPLOY, option
            assert (ROOT / _option(args, option)).exists()


def test_the_action_endpoint_is_the_action_service():
    url = urlsplit(_yaml(DEPLOY / "endpoints.yml")["action_endpoint"]["url"])
    (service,) = [name for name in ACTIONS if name == url.hostname]
    assert str(url.port) == _option(_command(SERVICES[service]), "--port")
    assert url.path == "/webhook"
    assert SERVICES[service]["environment"]["DATABASE_URL"].startswith("${DATABASE_URL")


def _image_pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in ("", "latest")


def test_every_image_is_pinned_to_a_tag():
    for name, service in SERVICES.items():
        assert "image" in service, f"{name}: name the image (and tag) it runs"
        assert _image_pinned(service["image"]), f"{name}: {service['image']}"
    stages = re.findall(
        r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", (DEPLOY / "Dockerfile").read_text(), re.M
    )
    names = {alias for _, alias in stages if alias}
    for image, _ in stages:
        assert image in names or _image_pinned(image), image


def test_compose_holds_no_literal_secret():
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) or key == "DATABASE_URL":
                assert COMPOSE_SECRET_REF.match(str(value)), f"{name}: {key}={value}"
        args = _command(service)
        if any(a.startswith("--auth-token") for a in args):
            assert re.match(r"^\$\{\w+:\?", _option(args, "--auth-token")), name
    for path in [*DEPLOY.glob("*.yml"), DEPLOY / "nginx.conf", DEPLOY / "Dockerfile"]:
        # user:password@host in a connection URL
        assert not re.search(r"://[^/\s:@$]+:[^@\s$]+@", path.read_text()), path


# ---- deploy/endpoints.yml through Rasa's own loaders --------------------------------------


@pytest.fixture
def endpoint_env(monkeypatch):
    for key, value in ENDPOINT_ENV.items():
        monkeypatch.setenv(key, value)
    return ENDPOINT_ENV


ATOMIC_LOCK_STORE = "addons.lock_store.AtomicRedisLockStore"


def test_rasa_reads_the_atomic_redis_lock_store_from_the_environment(endpoint_env):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    from addons.lock_store import AtomicRedisLockStore

    config = read_endpoint_config(str(DEPLOY / "endpoints.yml"), "lock_store")
    assert config.type == ATOMIC_LOCK_STORE, "Rasa's `redis` type can issue a ticket twice"
    store = LockStore.create(config)  # redis-py connects lazily: nothing is contacted here
    assert type(store) is AtomicRedisLockStore
    connection = store.red.connection_pool.connection_kwargs
    assert connection["host"] == endpoint_env["REDIS_HOST"]
    assert connection["port"] == int(endpoint_env["REDIS_PORT"])
    assert connection["db"] == int(endpoint_env["REDIS_DB"])
    assert connection["password"] == endpoint_env["REDIS_PASSWORD"]
    assert store.key_prefix == f"{config.kwargs['key_prefix']}:lock:", "prefix ignored"


def test_rasa_reads_a_postgresql_tracker_store_from_the_environment(endpoint_env):
    import sqlalchemy
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.utils.common import class_from_module_path
    from rasa.utils.endpoints import read_endpoint_config

    config = read_endpoint_config(str(DEPLOY / "endpoints.yml"), "tracker_store")
    # Rasa loads a store named by module path: ours is its SQL store with a cache
    assert issubclass(class_from_module_path(config.type), SQLTrackerStore)
    # The URL SQLTrackerStore.__init__ builds; its constructor would connect, so not called.
    url = SQLTrackerStore.get_db_url(host=config.url, **config.kwargs)
    assert url.drivername == "postgresql"
    assert (url.host, url.port, url.database) == ("tracker-db.internal", 5433, "rasa")
    assert (url.username, url.password) == ("rasa", endpoint_env["DB_PASSWORD"])
    sqlalchemy.create_engine(url).dispose()  # the PostgreSQL driver is installed; no connection


def test_an_unset_secret_stops_rasa_rather_than_connecting_without_it(endpoint_env, monkeypatch):
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.delenv("DB_PASSWORD")
    with pytest.raises(Exception, match="DB_PASSWORD"):
        read_endpoint_config(str(DEPLOY / "endpoints.yml"), "tracker_store")


def test_deploy_channels_are_rest_and_the_widget_with_its_usual_settings():
    deployed = _yaml(DEPLOY / "credentials.yml")
    webchat = "addons.channels.webchat.WebchatInput"
    widget = _yaml(ROOT / "credentials.yml")[webchat]
    assert set(deployed) == {"rest", webchat}
    assert deployed[webchat] == widget
    helm_channels = RASA_VALUES["applicationSettings"]["credentials"]
    assert helm_channels["enabled"] is True
    assert helm_channels["additionalChannelCredentials"][webchat] == widget


# ---- the image ----------------------------------------------------------------------------


def test_the_image_installs_the_lock_builds_the_model_and_runs_unprivileged():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    text = re.sub(r"\\\n\s*", " ", dockerfile)
    assert re.search(r"pip install --no-deps -r requirements\.lock", text)
    assert re.search(r"pip install --no-deps --no-build-isolation .*-e \.", text)
    assert "make kb model" in text
    final_stage = text.rsplit("\nFROM ", 1)[1]
    assert "RASA_TELEMETRY_ENABLED=false" in final_stage
    users = re.findall(r"^USER\s+(\S+)", final_stage, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_the_build_context_is_an_allowlist_without_local_data():
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "everything out, then the sources back in"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    needed = {"Makefile", "pyproject.toml", "requirements.lock", "project.yml", "config.yml"}
    needed |= {"actions", "addons", "clinic", "scripts", "knowledge", "data", "domain"}
    needed |= {"deploy/endpoints.yml", "deploy/credentials.yml"}
    assert needed <= allowed, needed - allowed
    for private in ("var", ".env", ".venv", "logs", "models", "build", "web", "tests"):
        assert not any(a == private or a.startswith(private + "/") for a in allowed), private


# ---- Helm values --------------------------------------------------------------------------


def test_helm_runs_two_or_more_of_each_from_one_pinned_image():
    for values in (RASA_VALUES, ACTION_VALUES):
        assert values["replicaCount"] >= 2
        image = values["image"]
        assert _image_pinned(f"{image['repository']}:{image['tag']}"), image
    assert RASA_VALUES["image"] == ACTION_VALUES["image"]


def test_helm_uses_the_atomic_redis_lock_store_and_a_postgresql_tracker_store():
    endpoints = RASA_VALUES["applicationSettings"]["endpoints"]
    lock, tracker = endpoints["lockStore"], endpoints["trackerStore"]
    assert lock["enabled"] is True and lock["type"] == ATOMIC_LOCK_STORE
    assert tracker["enabled"] is True and tracker["type"].lower() == "sql"
    assert tracker["dialect"] == "postgresql"
    assert lock.get("key_prefix", "x").isalnum()


def test_helm_chart_endpoints_load_in_rasa(endpoint_env, tmp_path):
    """The chart's ConfigMap writes each store's values as `{{ $key }}: {{ $value }}`
    (templates/config-map.yaml); the same lines, read by Rasa with the chart's variables."""
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    from addons.lock_store import AtomicRedisLockStore

    endpoints = RASA_VALUES["applicationSettings"]["endpoints"]
    lines = []
    for section, key in (("tracker_store", "trackerStore"), ("lock_store", "lockStore")):
        lines.append(f"{section}:")
        lines += [f"  {k}: {v}" for k, v in sorted(endpoints[key].items()) if k != "enabled"]
    path = tmp_path / "endpoints.yml"
    path.write_text("\n".join(lines) + "\n")
    lock = LockStore.create(read_endpoint_config(str(path), "lock_store"))
    assert type(lock) is AtomicRedisLockStore
    connection = lock.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["password"]) == (
        endpoint_env["REDIS_HOST"],
        endpoint_env["REDIS_PASSWORD"],
    )
    tracker = read_endpoint_config(str(path), "tracker_store")
    assert tracker.url == endpoint_env["DB_HOST"]
    assert tracker.kwargs["password"] == endpoint_env["DB_PASSWORD"]


def test_helm_ingress_is_sticky_per_client_for_socketio():
    # The chart renders one Ingress for one Service, and ingress-nginx hashes per Service:
    # REST is sticky here too (correct, only less evenly spread; deploy/README.md).
    ingress = RASA_VALUES["ingress"]
    assert ingress["enabled"] is True
    annotations = ingress["annotations"]
    assert "$remote_addr" in annotations["nginx.ingress.kubernetes.io/upstream-hash-by"]
    # Cookie affinity would win over the hash, and the widget's cross-origin polling sends
    # no cookies: its requests would be spread over the pods.
    assert "nginx.ingress.kubernetes.io/affinity" not in annotations
    assert RASA_VALUES["nginx"]["enabled"] is False, "ingress-nginx is the proxy"


def test_helm_action_endpoint_is_the_action_server_release():
    action = RASA_VALUES["rasa-action-server"]
    assert action["install"] is False and action["external"]["enabled"] is True
    url = urlsplit(action["external"]["url"])
    assert url.hostname == ACTION_VALUES["fullnameOverride"]
    port = ACTION_VALUES["service"]["port"]
    assert url.port == port == ACTION_VALUES["applicationSettings"]["port"]
    assert _option([str(a) for a in ACTION_VALUES["args"]], "--port") == str(port)
    assert url.path == RASA_VALUES["applicationSettings"]["endpoints"]["action"]["endpointURL"]


def test_helm_rasa_starts_the_image_model_with_the_chart_configuration():
    settings = RASA_VALUES["applicationSettings"]
    assert settings["initialModel"] == "" and settings["trainInitialModel"] is False
    assert settings["telemetry"]["enabled"] is False
    args = [str(a) for a in RASA_VALUES["args"]]
    assert _option(args, "--model") == MAKEFILE_MODEL
    # where the chart mounts its ConfigMap (templates/_containers-volumes.yaml)
    assert _option(args, "--endpoints") == "/app/endpoints.yml"
    assert _option(args, "--credentials") == "/app/credentials.yml"
    assert _option(args, "--port") == str(settings["port"])


def test_helm_values_hold_no_literal_secret():
    for values in (RASA_VALUES, ACTION_VALUES):
        for path, value in leaves(values):
            # existingSecret* and secretName keys hold names of secrets, not secrets.
            key = path.rsplit(".", 1)[-1]
            if re.search(r"password|token", key, re.I) and not key.startswith("existingSecret"):
                assert value in ("", None) or RASA_ENV_REF.match(str(value)), path
        env = {e["name"]: e for e in values.get("extraEnv", [])}
        for name, entry in env.items():
            if SECRET_NAME.search(name) or name.endswith("_URL"):
                assert "secretKeyRef" in entry.get("valueFrom", {}), name
    token = _option([str(a) for a in RASA_VALUES["args"]], "--auth-token")
    variable = re.fullmatch(r"\$\((\w+)\)", token)
    assert variable, "the API token is a Kubernetes $(VAR) reference"
    extra = {e["name"]: e for e in RASA_VALUES["extraEnv"]}
    assert "secretKeyRef" in extra[variable[1]]["valueFrom"]
    assert RASA_VALUES["global"]["postgresql"]["existingSecret"]
    assert RASA_VALUES["redis"]["existingSecret"]
