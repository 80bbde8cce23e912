"""The request bodies the benchmarks send (run.py and instructions.py send the same ones)."""

from __future__ import annotations

CHAT = {"model": "bench", "messages": [{"role": "user", "content": "Benchmark me."}]}
# A tool and a response format of the size agents send.
WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}
TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": WEATHER, "strict": True},
}
SCHEMA_FORMAT = {"name": "forecast", "schema": WEATHER, "strict": True}
RESPONSE = {"model": "bench", "input": "Benchmark me.", "store": False}
