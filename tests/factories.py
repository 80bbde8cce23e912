"""`settings(**flat)`: a `Settings` from the flat option names tests use (one per serve option).

`settings(pregen_count=16, on_miss="error", replay_timing="scaled:2")` puts each keyword in its
part and parses mode strings as the CLI does (a bad one raises the CLI's `SettingsError`).
"""

from __future__ import annotations

from typing import Any

from sanic_mock.settings import (
    GenerationSettings,
    Http2Engine,
    MissPolicy,
    RecordSettings,
    ReplayMode,
    ReplaySettings,
    ReplayTiming,
    ServerSettings,
    Settings,
    TimingSettings,
    TLSSettings,
)

# flat name -> (part, field of that part)
FIELDS: dict[str, tuple[str, str]] = {
    **{name: ("server", name) for name in ServerSettings.__dataclass_fields__},
    **{name: ("generation", name) for name in GenerationSettings.__dataclass_fields__},
    **{name: ("timing", name) for name in TimingSettings.__dataclass_fields__},
    "replay": ("replay", "mode"),
    "on_miss": ("replay", "on_miss"),
    "match_ignore": ("replay", "match_ignore"),
    "upstream": ("record", "upstream"),
    "upstream_key": ("record", "upstream_key"),
    "record_out": ("record", "out"),
    "record_append": ("record", "append"),
    "tls_cert": ("tls", "cert"),
    "tls_key": ("tls", "key"),
    "http2": ("tls", "http2"),
    "http2_engine": ("tls", "http2_engine"),
    "http3": ("tls", "http3"),
}
PARTS: dict[str, type[Any]] = {
    "server": ServerSettings,
    "generation": GenerationSettings,
    "timing": TimingSettings,
    "replay": ReplaySettings,
    "record": RecordSettings,
    "tls": TLSSettings,
}
PARSERS: dict[str, Any] = {
    "replay": ReplayMode.parse,
    "on_miss": MissPolicy.parse,
    "http2_engine": Http2Engine.parse,
}


def settings(**flat: Any) -> Settings:
    """`Settings(...)` as it took flat keywords before it was split into parts."""
    parts: dict[str, dict[str, Any]] = {name: {} for name in PARTS}
    allow_secrets = bool(flat.pop("allow_secrets", False))
    if "replay_timing" in flat:
        timing, factor = ReplayTiming.parse(flat.pop("replay_timing"))
        parts["replay"].update(timing=timing, factor=factor)
    for name, value in flat.items():
        if name not in FIELDS:
            raise TypeError(f"settings() got an unexpected keyword argument {name!r}")
        part, field = FIELDS[name]
        if name in PARSERS and isinstance(value, str):
            value = PARSERS[name](value)
        parts[part][field] = value
    return Settings(
        **{name: PARTS[name](**fields) for name, fields in parts.items()},
        allow_secrets=allow_secrets,
    )
