"""Settings grouped by concern, read from the environment (prefix ``CATCHMENT_``) and passed in.

Nothing reads these globally: ``create_app(settings)`` takes them, and tests build their own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATCHMENT_DATABASE_", extra="ignore")

    url: str = Field(default="sqlite:///var/catchment.db", description="sqlite:///path or postgresql://...")
    pool_max: int = Field(default=10, ge=1, description="PostGIS connection pool size per worker")
    pool_timeout_s: float = Field(default=5.0, gt=0, description="how long a request waits for a connection before a 503")


class LookupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATCHMENT_LOOKUP_", extra="ignore")

    near_boundary_m: float = Field(default=50.0, ge=0)
    nearest_k: int = Field(default=3, ge=0, le=50)
    nearest_max_m: float = Field(default=50_000.0, gt=0,
                                 description="farthest a 'nearest school' is listed when no zone covers the point (m)")
    version_check_s: float = Field(default=0.2, ge=0, description="how often the index checks the stored zone version (s)")
    batch_max_points: int = Field(default=2_000_000, ge=1)
    default_year: int | None = Field(default=None, ge=1900, le=2200,
                                     description="school year answered when a lookup gives none (default: this calendar year)")


class SampleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATCHMENT_SAMPLE_", extra="ignore")

    load: bool = Field(default=False, description="load the bundled sample data on start when the database is empty")
    dir: Path = Field(default=REPO_ROOT / "data" / "boundaries")


class MapSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATCHMENT_", extra="ignore")

    tiles: str = Field(default="osm", description="'osm' (OpenStreetMap), 'none' (offline), or a URL template")
    tiles_attribution: str = Field(default="", description="attribution of a tile URL template (required with one)")
    warm: bool = Field(default=True, alias="CATCHMENT_MAPS_WARM",
                       description="compute the adopted plans' gaps and overlaps for the coverage maps at start-up")
    inline_assets: bool = Field(default=True, alias="CATCHMENT_MAPS_INLINE_ASSETS",
                                description="inline Leaflet and plugins into each page so maps work offline")


class GeocoderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATCHMENT_", extra="ignore")

    geocoder: Literal["gazetteer", "nominatim"] = Field(default="gazetteer", description="'gazetteer' (offline) or 'nominatim'")
    geocoder_url: str = Field(default="https://nominatim.openstreetmap.org", description="base URL of a Nominatim-style server")
    geocoder_timeout_s: float = Field(default=5.0, gt=0)
    geocoder_retries: int = Field(default=2, ge=0, le=10, description="extra attempts on timeouts, connection errors, 429 and 5xx")
    geocoder_backoff_s: float = Field(default=0.5, ge=0, description="sleep before retry k is backoff * 2**k")
    geocoder_cache_size: int = Field(default=4096, ge=0, description="answers kept in memory per worker (0 = no cache)")
    geocoder_cache_ttl_s: float = Field(default=86_400.0, gt=0)
    geocoder_user_agent: str = Field(default="catchment/0.1 (school catchment lookup)",
                                     description="sent to the remote geocoder; Nominatim's policy asks for one naming your deployment")
    geocoder_email: str | None = Field(default=None, description="contact sent to the remote geocoder (public Nominatim asks for it)")
    geocoder_country_codes: str = Field(default="", description="comma-separated ISO country codes to restrict remote answers, e.g. 'au,cn'")
    geocoder_language: str | None = Field(default=None, description="preferred language of remote answers, e.g. 'en' or 'zh-CN'")


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATCHMENT_JOBS_", extra="ignore")

    workers: int = Field(default=1, ge=1, le=16, description="jobs run at once per worker process (each solver uses a core)")
    heartbeat_s: float = Field(default=2.0, gt=0, le=60, description="how often running jobs beat in the jobs table")
    dir: Path = Field(default=Path("var/jobs"), description="where job inputs and results are kept")
    input_dir: Path | None = Field(default=None, description="server-side folder whose files batch jobs may read by name")
    max_upload_mb: int = Field(default=2048, ge=1, description="largest file a batch job may upload")


class DaskSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATCHMENT_DASK_", extra="ignore")

    scheduler: str | None = Field(default=None, description="tcp://host:8786 of an existing Dask scheduler; unset: a LocalCluster")
    workers: int = Field(default=2, ge=1, le=64, description="LocalCluster worker processes (one thread each)")
    memory_limit: str = Field(default="auto", description="per LocalCluster worker, e.g. '4GB'")
    connect_timeout_s: float = Field(default=10.0, gt=0)
MIB = 1 << 20


class LimitSettings(BaseSettings):
    """How much a request may send. Bodies are counted while they stream in and refused (413)
    as soon as they pass the limit, with or without a Content-Length."""

    model_config = SettingsConfigDict(env_prefix="CATCHMENT_LIMIT_", extra="ignore")

    body_bytes: int = Field(default=8 * MIB, ge=0, description="any request body not covered below (edits, plans, JSON writes)")
    batch_bytes: int = Field(default=64 * MIB, ge=0, description="POST /v1/lookup/batch (JSON or CSV, about 30-50 bytes a point)")
    upload_bytes: int = Field(default=512 * MIB, ge=0, description="file uploads under /v1/imports/ and to batch jobs (/v1/jobs/assign)")
    zip_bytes: int = Field(default=2048 * MIB, ge=0, description="total uncompressed size of an uploaded zip archive")
    zip_members: int = Field(default=200, ge=1, description="files in an uploaded zip archive")


class RateLimitSettings(BaseSettings):
    """Per-client rate limits (``limits`` library syntax: "20/minute", "5 per second", several with ';').

    Counters live in memory per worker by default (``async+memory://``): with N workers a
    client gets up to N times the limit. ``async+redis://host:6379`` shares them across workers
    and hosts. An empty limit turns that limit off.
    """

    model_config = SettingsConfigDict(env_prefix="CATCHMENT_RATE_", extra="ignore")

    enabled: bool = Field(default=True)
    storage: str = Field(default="async+memory://", pattern=r"^async\+", description="limits storage URI (async+memory://, async+redis://...)")
    auth_failures_per_client: str = Field(default="20/minute", description="401 answers one client address may get")
    auth_failures_per_key: str = Field(default="60/minute",
                                       description="401 answers for one key prefix (ck_ and the next 8 characters), from any address")
    lookups_per_client: str = Field(default="1200/minute", description="public lookups (single, batch, address suggest, lookup map)")


class HttpSettings(BaseSettings):
    """Response headers: CORS for other apps' origins, who may frame the pages."""

    model_config = SettingsConfigDict(env_prefix="CATCHMENT_HTTP_", extra="ignore")

    cors_origins: list[str] = Field(default_factory=list,
                                    description='origins allowed to call the API from a browser, e.g. ["https://app.example"]; none by default')
    frame_ancestors: str = Field(default="'self'", description="CSP frame-ancestors: who may embed the map pages in a frame")


class Settings(BaseSettings):
    """Every setting, one group per concern."""

    model_config = SettingsConfigDict(env_prefix="CATCHMENT_", extra="ignore")

    profile: str = Field(default_factory=lambda: os.environ.get("CATCHMENT_PROFILE", "generic"),
                         description="standards profile: 'generic' or 'cn' (CATCHMENT_PROFILE)")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    lookup: LookupSettings = Field(default_factory=LookupSettings)
    sample: SampleSettings = Field(default_factory=SampleSettings)
    maps: MapSettings = Field(default_factory=MapSettings)
    geocoder: GeocoderSettings = Field(default_factory=GeocoderSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    dask: DaskSettings = Field(default_factory=DaskSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    rate: RateLimitSettings = Field(default_factory=RateLimitSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        # Each group reads its own variables (CATCHMENT_DATABASE_URL, CATCHMENT_GEOCODER, ...): read here
        # too, CATCHMENT_GEOCODER=nominatim would be taken for the whole geocoder group and fail to parse.
        return (init_settings,)
