"""settings.py: each part's checks (the CLI's one-line messages), the mode parsers, the derived
values (authorization, delays, replay scale, HTTP/2 and HTTP/3 defaults) and the cross-part
checks of `Settings`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sanic_mock.settings import (
    DEFAULT_MODELS,
    FaultSettings,
    GenerationSettings,
    Http2Engine,
    LatencyDistribution,
    LimitSettings,
    MissPolicy,
    RecordSettings,
    ReplayMode,
    ReplaySettings,
    ReplayTiming,
    ServerSettings,
    Settings,
    SettingsError,
    TimingSettings,
    TLSSettings,
    TokenCount,
)
from tests import factories


def test_defaults_serve_as_mock_openai_serve() -> None:
    s = Settings()
    assert (s.server.host, s.server.port, s.server.workers) == ("127.0.0.1", 3000, 1)
    assert s.server.models == DEFAULT_MODELS and s.server.authorization is None
    assert (s.generation.pregen_count, s.generation.token_mean) == (4096, 256.0)
    assert s.generation.token_stddev == 64.0 and s.generation.seed is None
    assert s.generation.article_seed == 0 and s.generation.token_count is TokenCount.EXACT
    assert s.timing.first_delay_s == 0.0 and s.timing.event_delay_s == 0.0
    assert s.replay.mode is ReplayMode.MATCH and s.replay.on_miss is MissPolicy.SAMPLE
    assert s.replay.scale is None
    assert not s.tls.serves_http2 and not s.tls.serves_http3 and not s.allow_secrets


@pytest.mark.parametrize(
    ("part", "fields", "message"),
    [
        (ServerSettings, {"port": -1}, "--port must be between 0 and 65535, got -1"),
        (ServerSettings, {"port": 65536}, "--port must be between 0 and 65535, got 65536"),
        (ServerSettings, {"models": ()}, "--model needs at least one model id"),
        (ServerSettings, {"models": ("a", " ")}, "--model ids must not be empty"),
        (ServerSettings, {"api_key": ""}, "--api-key must not be empty"),
        (ServerSettings, {"workers": 0}, "--workers must be at least 1, got 0"),
        (ServerSettings, {"max_body_bytes": 1023}, "--max-body-bytes must be at least 1024"),
        (GenerationSettings, {"pregen_count": 0}, "--pregen-count must be at least 1, got 0"),
        (GenerationSettings, {"token_mean": 0.5}, "--token-mean must be at least 1, got 0.5"),
        (GenerationSettings, {"token_stddev": -1.0}, "--token-stddev must be >= 0, got -1.0"),
        (
            GenerationSettings,
            {"stream_tokens_min": 0, "stream_tokens_max": 0},
            "--stream-tokens-min must be at least 1, got 0",
        ),
        (
            GenerationSettings,
            {"stream_tokens_min": 3, "stream_tokens_max": 2},
            "--stream-tokens-max (2) must be >= --stream-tokens-min (3)",
        ),
        (GenerationSettings, {"seed": -1}, "--seed must be >= 0, got -1"),
        (
            GenerationSettings,
            {"corpus": Path("/nonexistent/c")},
            "--corpus /nonexistent/c: no such file",
        ),
        (TimingSettings, {"response_delay_ms": -1}, "--response-delay-ms must be >= 0, got -1"),
        (
            TimingSettings,
            {"first_token_delay_ms": -2},
            "--first-token-delay-ms must be >= 0, got -2",
        ),
        (
            TimingSettings,
            {"response_delay_stddev_ms": -1},
            "--response-delay-stddev-ms must be >= 0, got -1",
        ),
        (
            TimingSettings,
            {"prefill_ms_per_token": -0.5},
            "--prefill-ms-per-token must be >= 0, got -0.5",
        ),
        (FaultSettings, {"rate": 1.5}, "--fault-rate must be between 0 and 1, got 1.5"),
        (
            FaultSettings,
            {"types": ("500", "teapot")},
            "--fault-type must be one of 429, 500, 503, stall, reset, truncate, got teapot",
        ),
        (FaultSettings, {"stall_ms": -1}, "--stall-ms must be >= 0, got -1"),
        (LimitSettings, {"rpm": -1}, "--rate-limit-rpm must be >= 0, got -1"),
        (LimitSettings, {"max_concurrency": -1}, "--max-concurrency must be >= 0, got -1"),
        (
            LimitSettings,
            {"load_factor": 2.0},
            "--load-factor needs --max-concurrency N (the load is running / N)",
        ),
        (
            ReplaySettings,
            {"timing": ReplayTiming.SCALED, "factor": 0.0},
            "--replay-timing must be none, recorded or scaled:F (F > 0), got 'scaled:0'",
        ),
        (
            RecordSettings,
            {"upstream": "ftp://x"},
            "--upstream must be an http:// or https:// URL, got 'ftp://x'",
        ),
    ],
)
def test_each_part_names_the_first_bad_option(
    part: type[Any], fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        part(**fields)
    assert str(raised.value) == message


def test_the_first_failing_check_is_the_one_reported() -> None:
    with pytest.raises(SettingsError, match=r"^--port must"):
        ServerSettings(port=-1, workers=0)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (ReplayMode.parse, "all", "--replay must be match or sample, got 'all'"),
        (MissPolicy.parse, "drop", "--on-miss must be sample, error or proxy, got 'drop'"),
        (
            LatencyDistribution.parse,
            "pareto",
            "--latency-distribution must be normal or lognormal, got 'pareto'",
        ),
        (
            Http2Engine.parse,
            "nginx",
            "--http2-engine must be one of hypercorn, granian, got 'nginx'",
        ),
        *(
            (
                ReplayTiming.parse,
                text,
                f"--replay-timing must be none, recorded or scaled:F (F > 0), got {text!r}",
            )
            for text in ("fast", "scaled:", "scaled:0", "scaled:-1", "scaled:x", "scaled:1.2.3")
        ),
    ],
)
def test_mode_parsers_refuse_with_one_line(parse: Any, text: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse(text)
    assert str(raised.value) == message


def test_mode_parsers_accept_their_values() -> None:
    assert ReplayMode.parse("sample") is ReplayMode.SAMPLE
    assert LatencyDistribution.parse("lognormal") is LatencyDistribution.LOGNORMAL
    assert MissPolicy.parse("proxy") is MissPolicy.PROXY
    assert Http2Engine.parse("granian") is Http2Engine.GRANIAN
    assert ReplayTiming.parse("none") == (ReplayTiming.NONE, 1.0)
    assert ReplayTiming.parse("recorded") == (ReplayTiming.RECORDED, 1.0)
    assert ReplayTiming.parse("scaled:2.5") == (ReplayTiming.SCALED, 2.5)
    assert ReplayTiming.parse("scaled:3") == (ReplayTiming.SCALED, 3.0)


def test_derived_values() -> None:
    assert ServerSettings(api_key="sk-1").authorization == "Bearer sk-1"
    timing = TimingSettings(response_delay_ms=20)
    assert (timing.first_delay_s, timing.event_delay_s) == (0.02, 0.02)
    timing = TimingSettings(response_delay_ms=20, first_token_delay_ms=0)
    assert (timing.first_delay_s, timing.event_delay_s) == (0.0, 0.02)
    assert ReplaySettings(timing=ReplayTiming.RECORDED, factor=3.0).scale == 1.0
    assert ReplaySettings(timing=ReplayTiming.SCALED, factor=3.0).scale == 3.0
    assert ReplaySettings(timing=ReplayTiming.NONE, factor=3.0).scale is None


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("c")
    key.write_text("k")
    return cert, key


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cert": "cert"}, "--tls-cert and --tls-key must be given together (missing: --tls-key)"),
        ({"key": "key"}, "--tls-cert and --tls-key must be given together (missing: --tls-cert)"),
        ({"http3": True}, "--http3 needs --tls-cert and --tls-key (QUIC is encrypted)"),
        (
            {"cert": "cert", "key": "key", "http3": True, "http2": False},
            "--http3 is served next to HTTP/2; it cannot be combined with --no-http2",
        ),
        (
            {"cert": "cert", "key": "key", "http3": True, "http2_engine": Http2Engine.GRANIAN},
            "--http3 is served by hypercorn; drop it or use --http2-engine hypercorn",
        ),
    ],
)
def test_tls_checks(tls_files: tuple[Path, Path], fields: dict[str, Any], message: str) -> None:
    files = {"cert": tls_files[0], "key": tls_files[1]}
    args = {name: files.get(value, value) for name, value in fields.items()}
    with pytest.raises(SettingsError) as raised:
        TLSSettings(**args)
    assert str(raised.value) == message


def test_tls_files_must_exist(tmp_path: Path, tls_files: tuple[Path, Path]) -> None:
    with pytest.raises(SettingsError) as raised:
        TLSSettings(cert=tmp_path / "gone.pem", key=tls_files[1])
    assert str(raised.value) == f"--tls-cert {tmp_path / 'gone.pem'}: no such file"


@pytest.mark.parametrize(
    ("flat", "message"),
    [
        ({"on_miss": "proxy"}, "--on-miss proxy needs --upstream URL"),
        ({"upstream": "http://u"}, "--upstream is used by `record` and by --on-miss proxy only"),
        (
            {"upstream": "http://u", "record_out": Path("o"), "workers": 2},
            "recording runs in one worker process (drop --workers)",
        ),
        (
            {"upstream": "http://u", "record_out": Path("o"), "http2": True},
            "recording runs on Sanic's HTTP/1.1 server (drop --http2 and --tls-cert)",
        ),
        (
            {"upstream": "http://u", "on_miss": "proxy"},
            "--on-miss proxy needs --corpus FILE (the recorded corpus it adds to)",
        ),
    ],
)
def test_checks_across_parts(flat: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        factories.settings(**flat)
    assert str(raised.value) == message


def test_recording_and_proxy_settings_that_are_accepted(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.write_bytes(b"")
    factories.settings(upstream="https://u", record_out=tmp_path / "o")
    proxy = factories.settings(upstream="http://u", on_miss="proxy", corpus=corpus)
    assert proxy.replay.on_miss is MissPolicy.PROXY


def test_with_port_changes_only_the_port() -> None:
    s = factories.settings(port=0, api_key="k", seed=4)
    moved = s.with_port(4321)
    assert moved.server.port == 4321 and s.server.port == 0
    assert moved.server.authorization == "Bearer k" and moved.generation == s.generation
    assert moved == factories.settings(port=4321, api_key="k", seed=4)


def test_token_count_is_parsed_once_with_a_one_line_message() -> None:
    assert TokenCount.parse("estimate") is TokenCount.ESTIMATE
    with pytest.raises(SettingsError, match="--token-count must be exact or estimate, got 'x'"):
        TokenCount.parse("x")
    assert GenerationSettings(seed=None).article_seed == 0
    assert GenerationSettings(seed=9).article_seed == 9
