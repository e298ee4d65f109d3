"""One synthetic England through the pipeline's own path, for the simulation studies.

:func:`child_mdh.sources.synthetic.generate` -> :func:`child_mdh.validation.folder.validate_folder`
(policy 'stop': synthetic tables must be clean) -> :func:`child_mdh.derive.children.derive_children`,
the route every study's draw takes (index coverage, model recovery, linkage bias).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from child_mdh.derive.children import derive_children
from child_mdh.sources.synthetic import generate
from child_mdh.validation.folder import validate_folder


def synthetic_children(
    n_children: int,
    seed: int,
    folder: str | Path,
    *,
    generate_options: dict | None = None,
    validation_date: str | None = None,
    unlinked: str = "exclude",
) -> tuple[pd.DataFrame, dict]:
    """The children table of one synthetic England and its ``truth.json``.

    The generator writes ``n_children`` (aged 0-17, ``seed``, ``generate_options``) to
    ``folder/synth``; validation writes ``folder/contract`` and ``folder/quarantine`` with
    ``validation_date`` as its reference date (default the truth's extract date); the
    children table is derived with its defaults and ``unlinked``. The caller owns
    ``folder`` (and removes it when done).
    """
    folder = Path(folder)
    generate(int(n_children), int(seed), folder / "synth", **(generate_options or {}))
    truth = json.loads((folder / "synth" / "truth.json").read_text())
    validate_folder(
        folder / "synth",
        out_dir=folder / "contract",
        quarantine_dir=folder / "quarantine",
        policy="stop",
        reference_date=validation_date or truth["extract_date"],
    )
    children, *_ = derive_children(folder / "contract", unlinked=unlinked)
    return children, truth
