"""Where the bundled data live."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "MSME_STATS_DATA_DIR"


def data_dir() -> Path:
    """The data folder: ``$MSME_STATS_DATA_DIR`` if set, else the repository's ``data/``.

    The repository's ``data/`` holds the bundled sample data (synthetic WBES files, TEC
    specimens, published reference values); it exists in a clone or an editable install.
    """
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env) if env else Path(__file__).resolve().parents[1] / "data"
