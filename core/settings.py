"""Paths and settings, from one place.

Defaults suit a checkout of the repository; each can be overridden by an
environment variable ``NEWSLAB_<NAME>`` (e.g. ``NEWSLAB_DATA_DIR``). Secrets are
never settings: they are read from the environment by the code that needs them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSLAB_", extra="ignore")

    project_dir: Path = PROJECT_DIR
    data_dir: Path = PROJECT_DIR / "data"
    #: A local copy of the external data; assets are copied from here when present.
    mirror_dir: Path | None = PROJECT_DIR.parent / "shared"
    #: Downloads go to this address instead of each upstream URL's scheme and host (the path is
    #: kept): a proxy or an internal copy of raw.githubusercontent.com. Empty: the URLs as listed.
    upstream_base_url: str = ""
    schema_path: Path = PROJECT_DIR / "core" / "labels.yaml"
    assets_manifest: Path = PROJECT_DIR / "assets.yaml"
    configs_dir: Path = PROJECT_DIR / "configs"
    #: MLflow tracking URI. Empty: ``MLFLOW_TRACKING_URI`` if set, else the
    #: embedded SQLite store under data_dir.
    tracking_uri: str = ""

    #: Label Studio: the URL of a running server; empty means the local one `newslab annotate serve` starts
    ls_url: str = ""
    ls_port: int = 8080
    #: prefix of the Label Studio project titles newslab manages
    ls_project_prefix: str = "newslab"

    @property
    def ls_dir(self) -> Path:
        return self.data_dir / "labelstudio"

    @property
    def annotations_dir(self) -> Path:
        return self.data_dir / "annotations"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def corpus_dir(self) -> Path:
        return self.data_dir / "corpus"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def mlflow_db(self) -> Path:
        return self.data_dir / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.data_dir / "mlartifacts"

    @property
    def resolved_tracking_uri(self) -> str:
        return (
            self.tracking_uri
            or os.environ.get("MLFLOW_TRACKING_URI", "")
            or f"sqlite:///{self.mlflow_db.resolve()}"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
