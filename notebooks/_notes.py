"""Helpers shared by the research-note notebooks: provenance of the data actually loaded.

Captions and source lines are never typed in the notebooks: they are read from the README of the
folder the files came from (every bundled folder has one, whose title states what the data are,
e.g. "SYNTHETIC", "PARTLY SYNTHETIC", "real download"), or, for a user's own folder without a
README, from the folder name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path


def _paths(files: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(files, (str, Path)):
        return [Path(files)]
    return [Path(f) for f in files]


def readme_title(folder: Path) -> str | None:
    """The first Markdown heading of ``folder/README.md`` (None when there is no README)."""
    readme = folder / "README.md"
    if not readme.exists():
        return None
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return None


def provenance(files: str | Path | Iterable[str | Path], *, publisher: str = "") -> dict[str, str]:
    """What the loaded files are: ``title`` (README title or folder name), ``status``
    (``"synthetic"``, ``"partly synthetic"``, ``"real"`` or ``"user files"``, read from the
    README title or the file names) and ``source`` (a one-line source note for charts and
    tables). ``publisher`` names the data family for a user's folder without a README."""
    paths = _paths(files)
    if not paths:
        raise ValueError("provenance: no files given")
    folder = paths[0] if paths[0].is_dir() else paths[0].parent
    title = readme_title(folder)
    names = [q.name for p in paths for q in (sorted(p.iterdir()) if p.is_dir() else [p])]
    text = " ".join([title or "", *names]).lower()
    if re.search(r"partly synthetic", text):
        status = "partly synthetic"
    elif "synthetic" in text:
        status = "synthetic"
    else:
        status = "real"
    if title is None:
        status = "synthetic" if status == "synthetic" else "user files"
        title = f"{publisher or 'data'}, files in {folder.name}/"
        source = f"{title} (SYNTHETIC by their file names)" if status == "synthetic" else title
        return {"title": title, "status": status, "source": source, "folder": folder.name}
    short = re.split(r"\s[—-]\s|:\s", title, maxsplit=1)[0].strip()
    tag = {"synthetic": "SYNTHETIC", "partly synthetic": "PARTLY SYNTHETIC", "real": ""}[status]
    source = short if (not tag or tag.lower() in short.lower()) else f"{short} ({tag})"
    return {"title": title, "status": status, "source": source, "folder": folder.name}


def sample_line(frame, *, aggregation: str = "") -> str:  # noqa: ANN001
    """'N economies, years a–b, <aggregation>' from an averaged frame (``n_countries``,
    ``year_min``/``year_max``) or a firm/estimate frame (``country``, ``year``)."""
    if "n_countries" in frame.columns:
        n = int(frame["n_countries"].max())
        y0, y1 = int(frame["year_min"].min()), int(frame["year_max"].max())
    else:
        n = frame["country"].nunique()
        y0, y1 = int(frame["year"].min()), int(frame["year"].max())
    years = f"{y0}" if y0 == y1 else f"{y0}–{y1}"
    text = f"{n} economies, {years}"
    return f"{text}, {aggregation}" if aggregation else text


def published_sample(ref_id: str, reference_values) -> str:  # noqa: ANN001
    """The sample the publication states for a published value (geo, breakdown, notes of
    ``data/published_reference_values/reference_values.csv``)."""
    row = reference_values.set_index("ref_id").loc[ref_id]
    parts = [str(row["geo"]), str(row["breakdown"])]
    if isinstance(row.get("notes"), str) and row["notes"].strip():
        parts.append(row["notes"].strip().rstrip("."))
    return "; ".join(parts)


def plain_warnings() -> None:
    """Show warnings as 'Category: message' (no temporary file paths), so that the rendered
    notes are identical from one run to the next while every warning stays visible."""
    import warnings

    warnings.formatwarning = lambda message, category, *args, **kwargs: f"{category.__name__}: {message}\n"
