"""The replicas mode's configuration: nginx in front (checked by nginx itself when it is
installed), Rasa's Redis lock store and PostgreSQL tracker store from URLs, and a plain
message naming what is missing."""

from __future__ import annotations

import subprocess

import pytest

from scripts import scale_out
from tests.servers import ensure_packages


def test_store_endpoints_from_urls():
    assert scale_out.lock_store("redis://:s%40cret@10.0.0.5:6380/2") == {
        "type": "addons.lock_store.AtomicRedisLockStore",
        "url": "10.0.0.5",
        "port": 6380,
        "db": 2,
        "password": "s@cret",
        "key_prefix": "clinic",
    }
    tracker = scale_out.tracker_store("postgresql://rasa:pw@db.internal:5433/tracker")
    assert tracker == {
        "type": "addons.tracker_store.CachedSQLTrackerStore",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "tracker",
        "username": "rasa",
        "password": "pw",
    }


def test_missing_parts_are_named_with_their_package(monkeypatch):
    monkeypatch.setattr(scale_out, "binary", lambda name: None)
    lacking = scale_out.missing({})
    assert any("nginx-light" in item for item in lacking)
    assert any("redis-server" in item for item in lacking)
    assert any("postgresql-15" in item for item in lacking)
    # stores given by URL need no local servers
    lacking = scale_out.missing({"REDIS_URL": "redis://r", "TRACKER_DB_URL": "postgresql://p"})
    assert lacking == [scale_out.WHERE["nginx"]]


def test_nginx_sends_rest_to_any_replica_and_keeps_socketio_on_one(tmp_path):
    """What the generated configuration says (nginx checks its syntax below)."""
    top = scale_out.Topology(5005, 5055, (41001, 41002), (42001, 42002))
    conf = scale_out.nginx_conf(top, "127.0.0.1", tmp_path)
    rest, sticky = conf.split("upstream rasa {")[1], conf.split("upstream rasa_sticky {")[1]
    for port in (41001, 41002):
        assert f"127.0.0.1:{port}" in rest.split("}")[0]
        assert f"127.0.0.1:{port}" in sticky.split("}")[0]
    assert "least_conn" in rest.split("}")[0] and "ip_hash" in sticky.split("}")[0]
    socketio = conf.split("location /socket.io/")[1].split("}")[0]
    assert "rasa_sticky" in socketio and "Upgrade $http_upgrade" in socketio
    assert "listen 127.0.0.1:5055" in conf and "127.0.0.1:42002" in conf
    actions = conf.split("listen 127.0.0.1:5055")[1]
    assert "proxy_request_buffering off" in actions  # the tracker JSON is streamed on


@pytest.mark.scale
def test_nginx_accepts_the_generated_configuration(tmp_path):
    ensure_packages("nginx")
    top = scale_out.Topology(5005, 5055, (41001, 41002), (42001, 42002))
    conf = scale_out.nginx_conf(top, "127.0.0.1", tmp_path)

    (tmp_path / "nginx.conf").write_text(conf)
    cmd = scale_out.nginx_command(tmp_path / "nginx.conf", tmp_path)
    checked = subprocess.run([cmd[0], "-t", *cmd[1:5]], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
