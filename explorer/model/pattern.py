"""Pydantic models of the catalog and pattern files.

Files are validated against these models (``extra="forbid"``, frozen), then
cross-checked by :mod:`explorer.model.loader` (ids, connections, cycles, ranges).
``Pattern.model_json_schema()`` is committed as ``explorer/model/pattern.schema.json`` (see :mod:`explorer.model.schema`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from explorer.model.day import DaySpec
from explorer.model.ml import AnnIndex, GpuServing, MLBlocks, ModelSize, UserTraffic
from explorer.model.quantities import Identifier, Quantity
from explorer.model.selector import ModelSelector

Category = Literal["client", "edge", "service", "retrieval", "ranking", "features", "storage",
                   "stream", "batch", "monitoring"]
Hardware = Literal["cpu", "gpu", "managed", "none"]
Kind = Literal["sync", "async", "batch"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Sourced(BaseModel):
    """A default number and where it comes from."""

    model_config = _STRICT
    value: float = Field(ge=0)
    """The number, in the unit the field name says."""
    source: str = Field(min_length=3)
    """Book chapter, paper, benchmark, or ``assumption: …`` said plainly."""


class Availability(BaseModel):
    """How often a component type answers, and over how many zones its replicas are spread.

    Numbers come from the provider's published SLA for the matching managed service (monthly uptime) or say
    ``assumption: …``. A component counts ``min(replicas, zones)`` independent units; see
    :mod:`explorer.engine.availability`.
    """

    model_config = _STRICT
    multi_zone: float = Field(gt=0, le=1)
    """Share of time the service answers when its replicas span two or more zones (the SLA's multi-zone or
    region-level figure); also the ceiling of a redundant deployment, since it covers what fails together."""
    single: float = Field(gt=0, le=1)
    """Share of time one replica (one instance, one zone) answers."""
    zones: int = Field(default=3, ge=1)
    """Zones the replicas are spread over unless a pattern says otherwise."""
    source: str = Field(min_length=3)
    """Where the numbers come from (SLA page, or ``assumption: …``)."""


class SourcedQuantity(BaseModel):
    """An override in a pattern: a quantity (number or expression) and its source."""

    model_config = _STRICT
    value: Quantity
    """Number or expression over the pattern's parameters."""
    source: str = Field(min_length=3)
    """Where the number comes from."""


# --------------------------------------------------------------------------- catalog

class ComponentType(BaseModel):
    """One kind of component in the catalog (an archetype that patterns instantiate)."""

    model_config = _STRICT
    id: Identifier
    """Catalog id that patterns name in ``type``."""
    category: Category
    """Group for styling and navigation."""
    label: str = Field(min_length=1, max_length=80)
    """Human name, e.g. "GPU model server"."""
    description: str = ""
    """One or two sentences on what it does."""
    hardware: Hardware = "cpu"
    """What a replica runs on: counted in the CPU or GPU totals; ``managed`` for hosted services."""
    service_ms: Sourced
    """Mean service time of one call, excluding per-item work, in milliseconds."""
    per_item_ms: Sourced | None = None
    """Extra service time per item in a call (batching), in milliseconds."""
    concurrency: Sourced
    """Calls one replica serves at once (servers per replica in the M/M/c model)."""
    service_cv: Sourced | None = None
    """Coefficient of variation of the service time (1 = exponential, the default)."""
    memory_gb: Sourced
    """Memory per node available for data (drives shards), in GB."""
    cost_usd_per_hour: Sourced
    """Price of one replica per hour, in US dollars."""
    storage_usd_per_gb_month: Sourced | None = None
    """Price of stored data per GB-month (disk/blob storage types)."""
    data_in: Literal["memory", "disk"] = "memory"
    """Where the component keeps its data: memory drives shards; disk is priced per GB-month."""
    shard_access: Literal["all", "one"] = "one"
    """``all``: a call scatters to every shard and gathers (ANN, search); ``one``: a call hits one shard (key lookup)."""
    availability: Availability | None = None
    """Published or assumed availability and default zone spread (None: not counted, e.g. the user's client)."""


class Catalog(BaseModel):
    """A catalog file: a list of component types."""

    model_config = _STRICT
    types: list[ComponentType] = Field(min_length=1)
    """Component types declared in this file."""


# --------------------------------------------------------------------------- pattern

class Parameter(BaseModel):
    """A scale parameter: becomes a slider, a URL query parameter and a CLI ``--set``."""

    model_config = _STRICT
    name: Identifier
    """Name used in expressions, URLs and ``--set NAME=VALUE``."""
    label: str = Field(min_length=1, max_length=80)
    """Slider label."""
    unit: str = Field(default="", max_length=20)
    """Unit shown next to the value (``req/s``, ``ms``, ``items``)."""
    default: float
    """Value at the pattern's default scenario."""
    min: float
    """Smallest value the slider offers."""
    max: float
    """Largest value the slider offers."""
    scale: Literal["linear", "log"] = "linear"
    """Slider scale; ``log`` for quantities spanning orders of magnitude (requires min > 0)."""
    integer: bool = False
    """Round values to whole numbers."""
    role: Literal["traffic", "latency", "utilization", "data", "model", "other"] = "other"
    """What the parameter moves, for grouping sliders."""
    help: str = ""
    """One sentence for the slider's tooltip."""
    source: str = Field(min_length=3)
    """Where the default comes from (book requirement, paper, or ``assumption``)."""


class DataHeld(BaseModel):
    """Data a component holds: count × bytes each × replication."""

    model_config = _STRICT
    items: Quantity
    """How many records/vectors/rows."""
    bytes_per_item: Quantity
    """Bytes per record, e.g. ``embedding_dim * 4`` for float32 vectors."""
    replication: Quantity = 1
    """Copies kept for durability; replicas per shard never go below it."""


class Overrides(BaseModel):
    """Per-instance overrides of catalog defaults; each carries its source."""

    model_config = _STRICT
    service_ms: SourcedQuantity | None = None
    """Mean service time per call (ms)."""
    per_item_ms: SourcedQuantity | None = None
    """Extra service time per item (ms)."""
    concurrency: SourcedQuantity | None = None
    """Calls one replica serves at once."""
    service_cv: SourcedQuantity | None = None
    """Coefficient of variation of the service time."""
    memory_gb: SourcedQuantity | None = None
    """Memory per node for data (GB)."""
    cost_usd_per_hour: SourcedQuantity | None = None
    """Price per replica-hour (USD)."""


class Component(BaseModel):
    """An instance of a catalog type inside a pattern."""

    model_config = _STRICT
    id: Identifier
    """Node id, used by connections, views and URLs."""
    type: Identifier
    """Catalog type id."""
    label: str | None = Field(default=None, max_length=80)
    """Name shown in diagrams (defaults to the type's label)."""
    description: str = ""
    """What this component does in this design."""
    replicas: Quantity = 1
    """Provisioned replicas (per shard when the data is sharded)."""
    overrides: Overrides = Overrides()
    """Changes to the catalog defaults, each with a source."""
    data: DataHeld | None = None
    """Data held, which drives memory, shards and storage cost."""
    latency_budget_ms: Quantity | None = None
    """This component's share of the end-to-end target when auto-sizing (default: in proportion to its service time on the critical path)."""
    tier: Literal["online", "nearline", "offline"] | None = None
    """Diagram cluster; derived from the connections when omitted."""
    gpu: GpuServing | None = None
    """How a GPU component serves (GPU kind and price, dynamic batching, instances per GPU); GPU types only."""
    model: ModelSize | None = None
    """The served model's size: weights and activations against the node's (or GPU's) memory."""
    index: AnnIndex | None = None
    """An embedding index: its memory by type drives shards, its query cost the service time (replaces ``data``)."""
    zones: int | None = Field(default=None, ge=1)
    """Zones this instance's replicas are spread over (default: the catalog type's); 1 makes a zone a single point of failure."""
    hit_rate: Identifier | None = None
    """For a cache: the parameter holding its hit rate; a cold-cache what-if sets it to 0 so every miss goes on."""
    families: ModelSelector | None = None
    """Model families a reader may choose for this component (catalog ``components/models/families.yaml``) and
    the default the component's own numbers describe."""


class Connection(BaseModel):
    """A call from one component to another."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    source: Identifier = Field(alias="from")
    """Calling component id."""
    target: Identifier = Field(alias="to")
    """Called component id."""
    kind: Kind = "sync"
    """``sync``: on the request path; ``async``: events/logging; ``batch``: scheduled pipelines."""
    calls: Quantity = 1
    """Calls made per upstream call (fan-out)."""
    items: Quantity = 1
    """Items carried per call (e.g. candidates to score)."""
    step: int | None = Field(default=None, ge=0)
    """Sync calls from one component with the same step run in parallel; steps run in order. Default: each call its own step, in file order."""
    fanout: Literal["parallel", "sequential"] = "parallel"
    """How the ``calls`` copies of this call run."""
    payload_bytes: Quantity = 1000
    """Envelope bytes per call (request + response headers, ids), for network MB/s. Assumption: ~1 KB."""
    bytes_per_item: Quantity | None = None
    """Bytes per item carried (e.g. ``features * 4``); a call then sends envelope + items × bytes per item."""
    label: str | None = Field(default=None, max_length=80)
    """Edge label in diagrams (e.g. "top 500 candidates")."""
    retries: int = Field(default=0, ge=0, le=10)
    """Times the caller retries a call that misses its deadline (the callee's latency budget); each retry is
    another call on the callee, so a slow callee gets more load (what-if only)."""


class Fallback(BaseModel):
    """Another route for requests when a request-path component is down or misses its deadline."""

    model_config = _STRICT
    component: Identifier
    """The component that fails."""
    to: Identifier | None = None
    """The component its callers call instead (e.g. precomputed popular items); omit when the caller answers
    by itself (default feature values, the last good model)."""
    items: Quantity = 1
    """Items per call on the fallback route."""
    when: list[Literal["down", "timeout"]] = Field(default=["down", "timeout"], min_length=1)
    """What triggers it: the component down, or a call past its deadline."""
    quality: str = Field(min_length=3, max_length=300)
    """What the user loses on this route, in words (e.g. "popular videos, not personalised")."""
    label: str | None = Field(default=None, max_length=80)
    """Edge label of the fallback route in diagrams."""


class BatchJob(BaseModel):
    """A scheduled pipeline run that pushes items through batch connections."""

    model_config = _STRICT
    id: Identifier
    """Job id."""
    entry: Identifier
    """Component where the job starts."""
    items: Quantity
    """Items processed per run."""
    batch_items: Quantity = 1000
    """Items per call to the entry component."""
    every_hours: Quantity = 24
    """Schedule: one run every N hours."""
    window_hours: Quantity = 4
    """Hours a run may take; sets the items/s the pipeline must sustain."""
    label: str | None = None
    """Name shown in tables."""


class TrafficStream(BaseModel):
    """A second source of online traffic besides the request path (writes, uploads, events)."""

    model_config = _STRICT
    id: Identifier
    """Stream id."""
    entry: Identifier
    """Component the stream's calls arrive at."""
    rate_per_s: Quantity
    """Calls per second at peak (e.g. ``posts_per_day / 86400 * 3``)."""
    items: Quantity = 1
    """Items per call."""
    label: str | None = None
    """Name shown in tables and traces."""


class View(BaseModel):
    """A named subset of components (Structurizr-style views over one model)."""

    model_config = _STRICT
    id: Identifier
    """View id (``overview``, ``serving``, ``offline``…)."""
    title: str
    """Shown in the view picker."""
    components: list[Identifier] | Literal["all"] = "all"
    """Component ids shown; edges between them are drawn."""


class Request(BaseModel):
    """The synchronous request path: its entry, traffic and targets."""

    model_config = _STRICT
    entry: Identifier
    """First component a request reaches (the top of the request path)."""
    peak_qps: Quantity | None = None
    """Peak requests per second at the entry (declare this or ``users``, not both)."""
    users: UserTraffic | None = None
    """Peak requests per second from daily active users (declare this or ``peak_qps``, not both)."""
    latency_target_ms: Quantity
    """End-to-end latency target at ``percentile``."""
    percentile: float = Field(default=99.0, gt=50, lt=100)
    """Which percentile the target is for."""
    target_utilization: Quantity = 0.6
    """Utilisation auto-size aims for, and the line between ok and hot."""
    network_rtt_ms: Sourced = Sourced(value=0.5, source="Dean, 'Latency numbers every programmer should know': datacenter round trip 500 µs")
    """Network round trip added to every sync call."""


class Notes(BaseModel):
    """Study notes in the 7 steps of the framework (Markdown allowed)."""

    model_config = _STRICT
    requirements: str = ""
    """Business goal, features, scale and constraints; clarifying questions."""
    framing: str = ""
    """ML objective, input and output, ML category."""
    data: str = ""
    """Data sources, labels and features."""
    model: str = ""
    """Model choices and their trade-offs; training."""
    evaluation: str = ""
    """Offline and online metrics and how they connect."""
    serving: str = ""
    """Batch vs online, caching, precomputation, rollout."""
    monitoring: str = ""
    """Drift, feedback loops, retraining, alerts."""
    talking_points: list[str] = []
    """What an interviewer would expect to hear."""


class Pattern(BaseModel):
    """An architecture pattern file (``architectures/*.yaml``)."""

    model_config = _STRICT
    id: Identifier
    """Equal to the file name without ``.yaml``."""
    title: str = Field(min_length=1, max_length=120)
    """Human title."""
    summary: str = ""
    """One paragraph on what the pattern is and when to use it."""
    kind: Literal["case_study", "building_block"] = "building_block"
    """Case study of the book, or a reusable building block."""
    chapter: int | None = None
    """Book chapter, for case studies."""
    tags: list[str] = []
    """Free tags for search."""
    parameters: list[Parameter] = []
    """Scale parameters (sliders)."""
    request: Request | None = None
    """The synchronous request path; omit for purely offline patterns."""
    components: list[Component] = Field(min_length=1)
    """Components (instances of catalog types)."""
    connections: list[Connection] = []
    """Calls between components."""
    batch_jobs: list[BatchJob] = []
    """Scheduled offline pipelines."""
    streams: list[TrafficStream] = []
    """Other online traffic (writes, uploads) pushed over sync and async connections; no latency target."""
    fallbacks: list[Fallback] = []
    """Other routes for requests when a request-path component is down or slow (see :class:`Fallback`)."""
    views: list[View] = []
    """Named views; overview/serving/offline are derived when omitted."""
    notes: Notes = Notes()
    """Study notes in the framework's 7 steps."""
    ml: MLBlocks | None = None
    """Pattern-level ML quantities: training, precomputed predictions, features, logging, drift."""
    day: DaySpec | None = None
    """A day of traffic: diurnal curve, spikes, batch windows, autoscaling (``simulate``); defaults when absent."""

    @field_validator("tags")
    @classmethod
    def _short_tags(cls, tags: list[str]) -> list[str]:
        for t in tags:
            if not t or len(t) > 40:
                raise ValueError("each tag must be 1 to 40 characters")
        return tags
