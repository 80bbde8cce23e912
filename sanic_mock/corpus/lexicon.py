"""The words and sentence patterns pre-generated articles are written from.

Written for this project (MIT, like the rest of it): a small grammar for technical prose, not a
copy of any text. Each topic has a title, section headings and its own nouns; sentences come from
`PATTERNS`, whose slots `pregen.py` fills with agreeing words: `{n}` a singular noun phrase ("the
cache", "a small buffer"; `{N}` the same starting a sentence), `{p}` a plural one, `{o}` either
(an object), `{s}` / `{P}` a bare singular / plural noun, `{v}` / `{vs}` a verb agreeing with a
plural / singular subject, `{a}` an adjective, `{adv}` an adverb, `{pp}` a prepositional phrase,
`{C}` a connective. Non-ASCII words are ones whose tokens never split a character in either
encoding (the generator checks every text unit).
"""

from __future__ import annotations

# (title, headings, nouns as "singular/plural").
TOPICS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Caching Strategies That Hold Up Under Load",
        ("Why caches fail", "Choosing an eviction policy", "Measuring the hit rate"),
        (
            "cache/caches",
            "cache key/cache keys",
            "eviction policy/eviction policies",
            "hit rate/hit rates",
            "entry/entries",
            "expiry/expiries",
            "read path/read paths",
        ),
    ),
    (
        "Designing Reliable Services",
        ("Failure is normal", "Retries and timeouts", "Graceful degradation"),
        (
            "service/services",
            "timeout/timeouts",
            "retry/retries",
            "dependency/dependencies",
            "health check/health checks",
            "fallback/fallbacks",
            "outage/outages",
        ),
    ),
    (
        "A Short History of Compilers",
        ("From assembly to languages", "Optimisation passes", "What changed with JIT"),
        (
            "compiler/compilers",
            "parser/parsers",
            "optimisation/optimisations",
            "instruction/instructions",
            "register/registers",
            "syntax tree/syntax trees",
        ),
    ),
    (
        "Why Latency Matters More Than Throughput",
        ("Tail latency", "Queues everywhere", "What users notice"),
        (
            "request/requests",
            "queue/queues",
            "percentile/percentiles",
            "round trip/round trips",
            "user/users",
            "delay/delays",
            "response time/response times",
        ),
    ),
    (
        "Understanding Backpressure",
        ("Where pressure builds", "Signalling upstream", "Bounded buffers"),
        (
            "buffer/buffers",
            "producer/producers",
            "consumer/consumers",
            "stream/streams",
            "signal/signals",
            "window/windows",
            "message/messages",
        ),
    ),
    (
        "Testing Distributed Systems",
        ("What unit tests miss", "Injecting faults", "Reproducing a failure"),
        (
            "test/tests",
            "node/nodes",
            "network partition/network partitions",
            "fault/faults",
            "clock/clocks",
            "replica/replicas",
            "log/logs",
        ),
    ),
    (
        "Choosing a Data Format",
        ("Text or binary", "Schema evolution", "Reading old files"),
        (
            "format/formats",
            "schema/schemas",
            "field/fields",
            "file/files",
            "reader/readers",
            "version/versions",
            "record/records",
        ),
    ),
    (
        "Working with Time Zones",
        ("Store UTC", "Displaying local time", "Daylight saving surprises"),
        (
            "time zone/time zones",
            "timestamp/timestamps",
            "offset/offsets",
            "calendar/calendars",
            "meeting/meetings",
            "deadline/deadlines",
            "region/regions",
        ),
    ),
    (
        "Memory Layout and Speed",
        ("Caches and cache lines", "Arrays of structures", "Measuring before changing"),
        (
            "array/arrays",
            "cache line/cache lines",
            "pointer/pointers",
            "allocation/allocations",
            "structure/structures",
            "loop/loops",
            "page/pages",
        ),
    ),
    (
        "Writing Clear Documentation",
        ("Know the reader", "Examples first", "Keeping docs current"),
        (
            "reader/readers",
            "example/examples",
            "section/sections",
            "sentence/sentences",
            "guide/guides",
            "change log/change logs",
            "résumé/résumés",
        ),
    ),
    (
        "Evaluating Language Models",
        ("Picking a benchmark", "Tokens and cost", "Beyond accuracy"),
        (
            "model/models",
            "benchmark/benchmarks",
            "prompt/prompts",
            "token/tokens",
            "answer/answers",
            "evaluation/evaluations",
            "tokenizer/tokenizers",
        ),
    ),
    (
        "Running a Small Café on Good Software",
        ("Orders and receipts", "The naïve spreadsheet", "Scaling to a second shop"),
        (
            "café/cafés",
            "order/orders",
            "receipt/receipts",
            "menu/menus",
            "supplier/suppliers",
            "spreadsheet/spreadsheets",
            "customer/customers",
        ),
    ),
)

GENERAL_NOUNS = (
    "system/systems",
    "team/teams",
    "engineer/engineers",
    "design/designs",
    "change/changes",
    "problem/problems",
    "approach/approaches",
    "result/results",
    "trade-off/trade-offs",
    "measurement/measurements",
    "default/defaults",
    "detail/details",
    "library/libraries",
    "server/servers",
    "client/clients",
    "budget/budgets",
    "decision/decisions",
)
ADJECTIVES = (
    "simple",
    "careful",
    "small",
    "large",
    "reliable",
    "slow",
    "fast",
    "common",
    "modern",
    "hidden",
    "expensive",
    "cheap",
    "useful",
    "fragile",
    "robust",
    "clear",
    "naïve",
    "typical",
    "shared",
    "predictable",
    "noisy",
    "stable",
)
ADVERBS = (
    "quickly",
    "rarely",
    "usually",
    "often",
    "carefully",
    "quietly",
    "almost always",
    "in practice",
    "surprisingly often",
    "sooner or later",
)
# (plural form, third-person singular form)
VERBS = (
    ("reduce", "reduces"),
    ("improve", "improves"),
    ("hide", "hides"),
    ("replace", "replaces"),
    ("protect", "protects"),
    ("slow down", "slows down"),
    ("simplify", "simplifies"),
    ("depend on", "depends on"),
    ("affect", "affects"),
    ("limit", "limits"),
    ("explain", "explains"),
    ("change", "changes"),
    ("shape", "shapes"),
    ("break", "breaks"),
    ("support", "supports"),
    ("expose", "exposes"),
    ("outlive", "outlives"),
)
PREPOSITIONS = (
    "under load",
    "in production",
    "at scale",
    "for every request",
    "over time",
    "in a single pass",
    "across regions",
    "during a deploy",
    "without extra memory",
    "on a busy server",
    "in the common case",
    "after a restart",
    "at the edges",
    "by a wide margin",
    "for a while",
    "in Zürich and São Paulo",
    "on the hot path",
)
CONNECTIVES = (
    "However,",
    "In practice,",
    "For example,",
    "As a result,",
    "In other words,",
    "At first,",
    "Over time,",
    "Fortunately,",
    "Still,",
    "In most teams,",
)
PATTERNS = (
    "{N} {vs} {o} {pp}.",
    "{N} {vs} {o}.",
    "{C} {n} {vs} {o} {pp}.",
    "When {n} {vs} {o}, {n} {adv} {vs} {o}.",
    "Most {P} {v} {o} before they {v} {o}.",
    "This is why {n} should {v} {o} {pp}.",
    "{N} is {adv} {a} {pp}, and that {vs} {o}.",
    "It helps to {v} {o} {pp}.",
    "What happens when {n} {vs} {o} {pp}?",
    "{N} and {n} {v} the same {s} — which is rarely {a}.",
    "{N} {vs} {o}; {n} {vs} {o}.",
    "{C} {P} {adv} {v} {o}.",
    "If {n} {vs} {o}, {p} {v} {o} {pp}.",
    "Few {P} {v} {o} {pp}, but the ones that do {v} {o}.",
    "The “{s}” in this case {vs} {o}.",
    "Nobody {vs} {o} on purpose.",
)
LIST_INTROS = (
    "A few things to keep in mind:",
    "The main steps are:",
    "In short:",
    "A typical setup looks like this:",
    "Three questions are worth asking:",
)
CLOSINGS = (
    "None of this is exotic, but it is easy to forget under pressure.",
    "Start small, measure, and change one thing at a time.",
    "The details matter less than the habit of checking them.",
    "That, in the end, is most of the work…",
)
CODE = (
    '```python\ndef greet(name: str) -> str:\n    return f"Hello, {name}!\\n"\n\n'
    'print(greet("world"))\n```',
    "```javascript\nconst total = items.reduce((sum, x) => sum + x.price, 0);\n"
    "console.log(`Total: ${total} €`);\n```",
    '```bash\ncurl -s http://127.0.0.1:3000/v1/models | jq ".data[].id"\n```',
    '```json\n{"model": "gpt-4o-mini", "stream": true, "max_tokens": 64}\n```',
    '```python\nimport re\n\npattern = re.compile(r"\\d+\\.\\d+")\n'
    'print(pattern.findall("v1.2 and v3.4"))\n```',
    "```sql\nSELECT id, name FROM users WHERE created_at > '2024-01-01' ORDER BY id;\n```",
    "```rust\nfn main() {\n    let v: Vec<u32> = (1..=5).collect();\n"
    '    println!("{:?}", v);\n}\n```',
)
