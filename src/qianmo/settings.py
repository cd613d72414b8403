"""All settings in one place: QIANMO_* variables over the workspace's qianmo.toml."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from qianmo.errors import QianmoError

DEFAULT_HOME = Path("qianmo-data")
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev-secret"}


class _WorkspaceToml(PydanticBaseSettingsSource):
    """Reads `qianmo.toml` from the workspace named by QIANMO_HOME (or the default)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:

        home = Path(os.environ.get("QIANMO_HOME", str(DEFAULT_HOME)))
        path = home / "qianmo.toml"
        if not path.is_file():
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise QianmoError(f"invalid TOML: {e}", file=str(path)) from e
        return dict(data.get("qianmo", data))


class Settings(BaseSettings):
    """Runtime settings; build with `get_settings()` or directly in tests."""

    model_config = SettingsConfigDict(env_prefix="QIANMO_", extra="ignore")

    home: Path = DEFAULT_HOME
    database_url: str | None = None
    environment: str = Field(default="development", pattern="^(development|test|production)$")
    secret_key: str = "dev-secret"
    job_heartbeat_seconds: float = 5.0
    job_stale_after_seconds: float = 30.0
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("home", mode="before")
    @classmethod
    def _expand(cls, v: Any) -> Any:
        return Path(v).expanduser() if isinstance(v, str | Path) else v

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key in PLACEHOLDER_SECRETS:
            raise ValueError("QIANMO_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def db_url(self) -> str:
        """The database URL: the configured server, or the workspace's SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'qianmo.db').resolve()}"

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _WorkspaceToml(settings_cls))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once on first use (never at import time)."""
    return Settings()
