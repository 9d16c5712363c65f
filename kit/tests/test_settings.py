"""Service settings from the environment: clear errors, Kafka security for Kubernetes."""

from __future__ import annotations

import pytest
from faststream.security import SASLScram512
from pydantic import ValidationError

from xueji_kit.kafka_security import kafka_security
from xueji_kit.settings import ServiceSettings


def test_environment_names_the_servers(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0:9092")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db:27017/?replicaSet=rs0")
    monkeypatch.setenv("XUEJI_PROVINCE", "43")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap_servers == "kafka-0:9092"
    assert settings.mongodb_uri.endswith("rs0")
    assert settings.province == "43"
    assert kafka_security(settings) is None


def test_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("XUEJI_PROVINCE", "350")
    with pytest.raises(ValidationError, match="province"):
        ServiceSettings()


def test_sasl_ssl_builds_scram_with_tls(monkeypatch):
    monkeypatch.setenv("XUEJI_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("XUEJI_KAFKA_SASL_USERNAME", "xueji-registry")
    monkeypatch.setenv("XUEJI_KAFKA_SASL_PASSWORD", "from-a-secret")
    security = kafka_security(ServiceSettings())
    assert isinstance(security, SASLScram512)
    assert security.use_ssl


def test_sasl_without_credentials_is_refused(monkeypatch):
    monkeypatch.setenv("XUEJI_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ValidationError, match="SASL_USERNAME"):
        ServiceSettings()
