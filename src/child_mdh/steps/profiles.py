"""Steps of the profiles stage: tables once, pages per chunk of LAs, then the index page.

The three rules share one folder, ``results/release/profiles/``; each writes its own
partial manifest, merged by the release stage.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from child_mdh.aggregates.profiles.statistics import profile_statistics
from child_mdh.release.profiles.build import (
    build_index_page,
    build_profiles,
    la_chunks,
    profile_la_codes,
    read_profile_tables,
    withheld_from_manifest,
    write_profile_tables,
)
from child_mdh.release.sdc import Manifest, SDCConfig
from child_mdh.steps._runner import SUMMARY, step_logging, step_progress
from child_mdh.validation.folder import read_validated_table

#: where the profiles are in the release folder (and in each staged folder)
PROFILES_DIR = "profiles"
TABLES_DIR = "tables"


def _manifest(smk, step: str):
    """The step's manifest over its staged folder (laid out as ``results/release/``),
    which exists even when the step has nothing to stage (a chunk with no authority)."""
    Path(smk.output.staged).mkdir(parents=True, exist_ok=True)
    return Manifest(
        Path(smk.output.staged),
        step,
        SDCConfig.from_mapping(smk.params.disclosure),
        about=dict(smk.params.about),
    )


def _staged_tables(smk) -> dict:
    """The protected profile tables staged by ``profile_tables``, with the cells
    disclosure control withheld (from that step's manifest part)."""
    staged = Path(smk.input.tables)
    part = Manifest.read(smk.input.tables_manifest, staged)
    tables_dir = staged / PROFILES_DIR / TABLES_DIR
    return read_profile_tables(tables_dir, withheld_from_manifest(part, tables_dir))


#: keys of the derivation report that say when the figures are from (dates, no data)
PERIOD_KEYS = ("reference_date", "extract_date", "census_year")


def _period(smk) -> dict:
    """The reference date, extract date and census year the derivation used (from its
    report), for the pages' 'What these figures cover'; empty without the report."""
    path = getattr(smk.input, "derive_report", None)
    if not path or not Path(path).is_file():
        return {}
    report = json.loads(Path(path).read_text())
    return {k: report[k] for k in PERIOD_KEYS if report.get(k) not in (None, "")}


def _page_options(smk) -> dict:
    settings = smk.params.profiles
    return dict(
        period=_period(smk),
        provenance=json.loads(Path(smk.input.provenance).read_text()),
        caveats=list(settings["caveats"]) + list(smk.params.extra_caveats),
        is_synthetic=bool(smk.params.is_synthetic),
        png=bool(settings["png"]),
        xlsx=bool(settings["xlsx"]),
    )


def profile_tables(smk) -> None:
    """Rule ``profile_tables``: every area's statistics, protected and written once."""
    with step_logging(smk, "profile_tables") as log:
        children = pd.read_parquet(smk.input.children)
        identified = pd.read_parquet(smk.input.child_index, columns=["person_id", "mdh"])
        mdh = children[["person_id"]].merge(
            identified, on="person_id", how="left", validate="one_to_one"
        )["mdh"]
        areas = read_validated_table(Path(smk.input.areas).parent, "areas")
        settings = smk.params.profiles
        statistics = profile_statistics(
            children,
            areas,
            smk.params.index["weights"],
            float(smk.params.index["k"]),
            funnel_rate=(settings["funnel_outcome"], settings["funnel_group"]),
            mdh_flags=mdh,
            interval=smk.params.index.get("interval", "logit"),
        )
        manifest = _manifest(smk, "profile_tables")
        released = write_profile_tables(
            statistics,
            Path(smk.output.staged) / PROFILES_DIR,
            manifest,
            local_indicators=settings["local_indicators"],
            areas=areas,
            xlsx=bool(settings["xlsx"]),
        )
        manifest.write_part(smk.output.manifest)
        log.info(
            "profile tables for %d areas staged for release/profiles/tables/",
            len(released["area_statistics"]),
            extra=SUMMARY,
        )


def profile_pages(smk) -> None:
    """Rule ``profile_pages``: the pages of one chunk of local authorities."""
    with step_logging(smk, "profile_pages") as log:
        item, total = (int(x) for x in str(smk.wildcards.scatteritem).split("-of-"))
        out_dir = Path(smk.output.staged) / PROFILES_DIR
        tables = _staged_tables(smk)
        codes = la_chunks(profile_la_codes(tables), total)[item - 1]
        manifest = _manifest(smk, f"profile_pages_{item}")
        build_profiles(
            tables,
            codes,
            out_dir,
            manifest,
            tables_dir=out_dir / TABLES_DIR,
            local_indicators=smk.params.profiles["local_indicators"],
            progress=step_progress(log, f"chunk {item} of {total}: pages", len(codes)),
            **_page_options(smk),
        )
        manifest.write_part(smk.output.manifest)
        log.info("chunk %d of %d: %d local authority pages", item, total, len(codes), extra=SUMMARY)


def profile_index(smk) -> None:
    """Rule ``profile_index``: England's page and the index of every profile."""
    with step_logging(smk, "profile_index") as log:
        out_dir = Path(smk.output.staged) / PROFILES_DIR
        manifest = _manifest(smk, "profile_index")
        # England's figures are always written as PNG too (four figures, about a second)
        options = {**_page_options(smk), "png": True}
        build_index_page(
            _staged_tables(smk),
            out_dir,
            manifest,
            tables_dir=out_dir / TABLES_DIR,
            **options,
        )
        manifest.write_part(smk.output.manifest)
        log.info("England's page and the index staged for release/profiles/", extra=SUMMARY)
