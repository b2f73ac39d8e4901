"""twinapi.toml: the generator's settings for a project, at the project root beside its spec.

`twinapi generate` and `twinapi check` read it (so `make generate` and `make check-generated` do); a project without
one has the defaults. Today it holds one setting:

    [spec]
    # OpenAPI Overlays (OAI Overlay Specification 1.0) applied in this order to the spec as it is read, before it is
    # validated, upgraded or generated from. Paths are relative to this file.
    overlays = ["overlays/corrections.overlay.yaml"]

An unknown table or key is refused rather than ignored: a misspelt `overlay = [...]` would otherwise drop every
correction without a word.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "twinapi.toml"
KNOWN = {"spec": {"overlays"}}


class SettingsError(Exception):
    """twinapi.toml cannot be read or holds what the generator does not know; nothing was written."""


@dataclass(frozen=True)
class Settings:
    overlays: tuple[Path, ...] = ()  # as the project names them, joined to its root


def load(root: Path) -> Settings:
    path = root / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read it: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    for table, value in data.items():
        if table not in KNOWN or not isinstance(value, dict):
            raise SettingsError(f"{path}: unknown setting `{table}`; it has the table [spec] with `overlays`")
        for key in value:
            if key not in KNOWN[table]:
                known = ", ".join(f"`{k}`" for k in sorted(KNOWN[table]))
                raise SettingsError(f"{path}: unknown setting `{table}.{key}`; [{table}] has {known}")
    overlays = data.get("spec", {}).get("overlays", [])
    if not isinstance(overlays, list) or not all(isinstance(o, str) and o for o in overlays):
        raise SettingsError(f"{path}: `spec.overlays` must be a list of overlay file paths, relative to this file")
    if len(set(overlays)) != len(overlays):
        raise SettingsError(f"{path}: `spec.overlays` lists one overlay twice")
    found = tuple(root / name for name in overlays)
    missing = [str(p) for p in found if not p.is_file()]
    if missing:
        raise SettingsError(f"{path}: `spec.overlays` names no such file: {', '.join(missing)}")
    return Settings(found)


def render(overlays: list[str]) -> str:
    """A new project's twinapi.toml, listing its overlays (none, or those it was made with)."""
    listed = "".join(f"\n  {json.dumps(name)}," for name in overlays)
    return (
        "# The generator's settings for this project: `make generate` and `make check-generated` read them.\n"
        "\n"
        "[spec]\n"
        "# OpenAPI Overlays (OAI Overlay Specification 1.0), applied in this order to openapi.yaml as it is read,\n"
        "# before it is validated and generated from: corrections kept beside a spec that stays as its authors\n"
        "# wrote it, each action with its reason in `description`. Paths are relative to this file.\n"
        f"overlays = [{listed}{chr(10) if listed else ''}]\n"
    )
