"""Operator tokens (R50) and log masking (R52) at the service edge."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from fastapi import HTTPException

from xueji_contracts.auth import OperatorClaims, Role, SubscriberClaims
from xueji_kit.logs import configure_logging
from xueji_kit.security import (
    TokenVerifier,
    found_in_jurisdiction,
    message_operator,
    mint_token,
    require_jurisdiction,
)

COUNTY = OperatorClaims(sub="op-1", role=Role.COUNTY, code="350602")


def test_r50_verified_token_yields_its_claims(signing_keys):
    private, public = signing_keys
    assert TokenVerifier(public, "xueji", "xueji").verify(mint_token(private, COUNTY)) == COUNTY


def test_r50_expired_token_is_refused(signing_keys):
    private, public = signing_keys
    old = mint_token(private, COUNTY, now=datetime.now(UTC) - timedelta(days=2), ttl=timedelta(hours=1))
    with pytest.raises(HTTPException) as refused:
        TokenVerifier(public, "xueji", "xueji").verify(old)
    assert refused.value.status_code == 401
    assert "expired" in refused.value.detail


def test_r50_token_signed_by_another_key_is_refused(signing_keys, tmp_path):
    from keys import ensure_keys

    other_private, _ = ensure_keys(tmp_path)
    with pytest.raises(HTTPException) as refused:
        TokenVerifier(signing_keys[1], "xueji", "xueji").verify(mint_token(other_private.read_text(), COUNTY))
    assert refused.value.status_code == 401


def test_r50_a_message_names_its_operator_by_a_verified_token_header(signing_keys):
    private, public = signing_keys
    verifier = TokenVerifier(public, "xueji", "xueji")
    signed = f"Bearer {mint_token(private, COUNTY)}"
    assert message_operator(verifier, {"authorization": signed}) == COUNTY
    assert message_operator(verifier, {"authorization": signed.encode()}) == COUNTY
    with pytest.raises(ValueError, match="^authorization: a decision message carries"):
        message_operator(verifier, {})
    with pytest.raises(ValueError, match="^authorization: invalid token"):
        message_operator(verifier, {"authorization": "Bearer not-a-token"})


def test_r50_outside_jurisdiction_is_forbidden_with_reason():
    with pytest.raises(HTTPException) as refused:
        require_jurisdiction(COUNTY, "3501020001")
    assert refused.value.status_code == 403
    assert "3501020001" in refused.value.detail
    with pytest.raises(HTTPException, match="needs city"):
        require_jurisdiction(COUNTY, "3506020001", at_least=Role.CITY)


def test_r50_a_record_outside_the_jurisdiction_answers_as_a_missing_one():
    county = OperatorClaims(sub="c", role=Role.COUNTY, code="350602")
    school = OperatorClaims(sub="s", role=Role.SCHOOL, code="3506020001")
    case = {"county_code": "350602"}
    assert found_in_jurisdiction(county, case, "county_code", "no case 1", at_least=Role.COUNTY) is case
    for operator, doc in ((county, None), (OperatorClaims(sub="o", role=Role.COUNTY, code="350203"), case)):
        with pytest.raises(HTTPException) as missing:
            found_in_jurisdiction(operator, doc, "county_code", "no case 1", at_least=Role.COUNTY)
        assert (missing.value.status_code, missing.value.detail) == (404, "no case 1")
    with pytest.raises(HTTPException) as below:  # a school inside the county, but not a county bureau
        found_in_jurisdiction(school, {"county_code": "3506020001"}, "county_code", "no case 1", at_least=Role.COUNTY)
    assert below.value.status_code == 403


def test_r52_logs_never_carry_a_raw_id_number(capsys):
    configure_logging("test", "json", "INFO")
    structlog.get_logger("t").info(
        "enrolled",
        id_number="11010519491231002X",
        note="G11010519491231002X moved",
        nested={"id": "11010519491231002X"},
    )
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "11010519491231002X" not in line
    assert json.loads(line)["id_number"] == "110105********002X"
    _ = io


def test_a_logger_used_under_one_configuration_follows_the_next_one(capsys):
    """A module-level logger first used under the tests' console format (or before a service configured logging)
    kept that format, level and stream once structlog had cached it: a service configured for JSON afterwards
    printed no JSON line from it."""
    log = structlog.get_logger("t.reconfigured")  # as a module's `log = structlog.get_logger(...)`
    elsewhere = io.StringIO()
    configure_logging("first", "console", "WARNING", stream=elsewhere)
    log.info("filtered_out")
    log.warning("under_console")
    assert "under_console" in elsewhere.getvalue()
    assert "filtered_out" not in elsewhere.getvalue()
    capsys.readouterr()

    configure_logging("second", "json", "INFO")
    log.info("under_json", n=1)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(line) | {"timestamp": None} == {
        "event": "under_json",
        "n": 1,
        "level": "info",
        "service": "second",
        "timestamp": None,
    }
    assert "under_json" not in elsewhere.getvalue()


def test_libraries_log_warnings_only_even_when_one_configured_debug_logging_at_import():
    """hanzipy (dedupe's glyph layouts) calls logging.basicConfig(level=DEBUG) when imported; the service's own
    configuration then added nothing, and every pymongo command and Kafka request was logged (a bulk import's
    dedupe process wrote thousands of debug lines a second)."""
    import logging

    root = logging.getLogger()
    before = root.level
    # The libraries' loggers as a fresh process has them (an earlier test in the run may have set their own levels
    # or disabled them): their level comes from the root's.
    libraries = [logging.getLogger(n) for n in ("pymongo", "pymongo.command", "aiokafka", "aiokafka.producer")]
    kept = [(lib.level, lib.disabled) for lib in libraries]
    for lib in libraries:
        lib.setLevel(logging.NOTSET)
        lib.disabled = False
    root.setLevel(logging.DEBUG)  # what the library's basicConfig left
    try:
        configure_logging("test", "json", "INFO")
        assert not logging.getLogger("pymongo.command").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("aiokafka.producer").isEnabledFor(logging.INFO)
        assert logging.getLogger("aiokafka.producer").isEnabledFor(logging.WARNING)
    finally:
        root.setLevel(before)
        for lib, (level, disabled) in zip(libraries, kept, strict=True):
            lib.setLevel(level)
            lib.disabled = disabled


def test_a_librarys_own_stderr_handler_on_the_root_is_replaced_so_library_lines_are_not_printed_twice():
    """hanzipy's basicConfig on import leaves a StreamHandler on stderr at the root: library warnings went there in
    its format (and beside ours, twice). configure_logging removes it; other handlers (pytest's capture) stay."""
    import logging
    import sys

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    theirs = logging.StreamHandler(sys.stderr)
    root.addHandler(theirs)
    try:
        configure_logging("test", "json", "INFO")
        assert theirs not in root.handlers
        assert [h for h in handlers if h in root.handlers] == handlers
    finally:
        root.setLevel(level)
        for h in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(h)


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({"sub": "op-2", "role": "county"}, "code: Field required"),  # an operator issued with no jurisdiction
        ({"sub": "op-2", "role": "county", "code": ""}, "code: a bureau operator's code is a 6-digit division code"),
        ({"sub": "op-2", "role": "teacher", "code": "350602"}, "role: Input should be"),
        ({"sub": "", "role": "county", "code": "350602"}, "sub: String should have at least 1 character"),
    ],
)
def test_r50_a_token_with_a_missing_or_wrong_claim_is_refused_naming_the_claim(signing_keys, claims, named):
    import jwt

    private, public = signing_keys
    now = datetime.now(UTC)
    body = claims | {"iss": "xueji", "aud": "xueji", "iat": now, "exp": now + timedelta(hours=1)}
    token = jwt.encode(body, private, algorithm="EdDSA")
    with pytest.raises(HTTPException) as refused:
        TokenVerifier(public, "xueji", "xueji").verify(token)
    assert refused.value.status_code == 401
    assert refused.value.detail.startswith(f"invalid claims: {named}"), refused.value.detail


HUNAN_COUNTY = OperatorClaims(sub="op-hn", role=Role.COUNTY, code="430102")
MINISTRY = OperatorClaims(sub="op-moe", role=Role.MINISTRY, code="000000")


def test_r50_a_token_of_another_provinces_operator_is_refused_naming_the_claim(signing_keys):
    """Provinces sharing an identity provider's key: a Hunan operator's token is no token at Fujian's deployment."""
    private, public = signing_keys
    fujian = TokenVerifier(public, "xueji", "xueji", serves="35")
    assert fujian.verify(mint_token(private, COUNTY)) == COUNTY
    hunan_token = mint_token(private, HUNAN_COUNTY)
    with pytest.raises(HTTPException) as refused:
        fujian.verify(hunan_token)
    assert refused.value.status_code == 401
    assert refused.value.detail == "code: token for province 43; this deployment serves 35"
    assert TokenVerifier(public, "xueji", "xueji", serves="43").verify(hunan_token) == HUNAN_COUNTY
    # A decision message it signed is dead-lettered with the same reason.
    with pytest.raises(ValueError, match="^authorization: code: token for province 43; this deployment serves 35$"):
        message_operator(fujian, {"authorization": f"Bearer {hunan_token}"})


def test_r50_the_ministry_acts_in_every_deployment_and_alone_at_the_national_tier(signing_keys):
    """R50: the Ministry handles deletions and inter-provincial coordination, in any province's deployment; the
    national tier serves the nation, where a province's operator has no jurisdiction."""
    private, public = signing_keys
    for serves in ("35", "43", ""):
        assert TokenVerifier(public, "xueji", "xueji", serves=serves).verify(mint_token(private, MINISTRY)) == MINISTRY
    province = OperatorClaims(sub="op-fj", role=Role.PROVINCE, code="350000")
    with pytest.raises(HTTPException) as refused:
        TokenVerifier(public, "xueji", "xueji", serves="").verify(mint_token(private, province))
    assert refused.value.status_code == 401
    assert refused.value.detail == (
        "code: token for province 35; this deployment serves the nation: only the Ministry's operators act here"
    )


def test_r52_a_subscriber_token_naming_another_province_is_refused(signing_keys):
    private, public = signing_keys
    fujian = TokenVerifier(public, "xueji", "xueji", serves="35")
    unnamed = SubscriberClaims(sub="system", subscriber="exam-registration")
    assert fujian.verify_subscriber(mint_token(private, unnamed)) == unnamed  # no province: as before
    ours = unnamed.model_copy(update={"province": "35"})
    assert fujian.verify_subscriber(mint_token(private, ours)) == ours
    with pytest.raises(HTTPException) as refused:
        fujian.verify_subscriber(mint_token(private, unnamed.model_copy(update={"province": "43"})))
    assert refused.value.status_code == 401
    assert refused.value.detail == "province: token for province 43; this deployment serves 35"
