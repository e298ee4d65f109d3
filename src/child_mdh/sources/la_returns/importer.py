"""Import a local authority's own returns into the data contract's tables.

:func:`import_la` reads the SSDA903, CIN census and school census files named in
``sources``, links the children across them by UPN under one pseudonymised ``pupil_id``
(:mod:`.linkage`), and writes into ``out_dir``:

- the contract tables ``pupil_census``, ``cin_referrals``, ``child_protection_plans``,
  ``looked_after_episodes`` and ``areas`` (the one local authority), as Parquet, typed by
  :func:`child_mdh.contract.tables.conform`; a return not given yields an empty table;
- ``pupil_characteristics.parquet``: one row per child (``pupil_id``, ``date_of_birth``,
  ``sex``, ``dob_source``), for the local-authority cohort's ages (the contract's
  ``pupil_census`` has no date of birth): from the child's latest school census row,
  else the latest CIN census, else the latest SSDA903 header that gives them;
- ``child_domains.parquet`` when household domain flags are given (local route a), and
  ``child_area_domains.parquet`` when a child -> LSOA lookup and LSOA census counts are
  given (area-level route b, which carries :data:`AREA_LEVEL_CAVEAT`);
- the import report: ``import_report.json`` (everything), ``import_accounting.csv`` (per
  file and table: rows read, used, quarantined, duplicate, not needed) and
  ``import_problems.csv`` (every problem: file, row, child, field, value, what is wrong,
  what was done).

Nothing is lost silently: for every file and table, rows read = used + quarantined +
duplicate + not needed, and each quarantined row is listed with its reason. Raw UPNs
and the salt are never written; the report names children by their id in the return
(CHILD, LAchildID, pupilonrolltableid) so the analyst can fix the source, which is why
the report belongs with the other secure files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from child_mdh import files as io
from child_mdh.contract import tables as contract
from child_mdh.contract.loss import MAX_LOSS_SHARE, check_share, is_systematic_loss
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.sources.la_returns.cin_census import read_cin_census
from child_mdh.sources.la_returns.errors import (
    FILE_SKIPPED,
    KEPT,
    NOTED,
    QUARANTINED,
    LAReturnError,
    ProblemLog,
)
from child_mdh.sources.la_returns.files import collection_year_of
from child_mdh.sources.la_returns.linkage import assign_pupil_ids, check_salt, pseudonymise
from child_mdh.sources.la_returns.local_domains import (
    AREA_LEVEL_CAVEAT,
    area_level_domains,
    count_deprived,
    read_child_lsoa,
    read_household_domains,
    read_lsoa_counts,
)
from child_mdh.sources.la_returns.records import (
    DUPLICATE,
    QUARANTINED_STATUS,
    USED,
    ReturnData,
    keep_latest,
    quarantine,
)
from child_mdh.sources.la_returns.school_census import read_school_census
from child_mdh.sources.la_returns.ssda903 import read_ssda903, without_header
from child_mdh.sources.la_returns.values import is_in

#: The entries ``sources`` may have, and what each holds.
SOURCE_KEYS = {
    "ssda903": "SSDA903 return: CSV tables and/or XML (file, folder or list)",
    "ssda903_previous": "last year's SSDA903 return (optional)",
    "cin_census": "CIN census XML, one file per collection year",
    "school_census": "school census pupils-on-roll and FSM periods CSVs, one pair per census",
    "household_domains": "CSV of household domain flags per child (local route a)",
    "child_lsoa": "CSV child -> LSOA (upn, lsoa_code) for the area-level route b",
    "lsoa_counts": "ONS TS011/QS119EW LSOA counts of households by deprived dimensions",
}
RETURN_SOURCES = ("ssda903", "cin_census", "school_census")
#: England's upper-tier local authorities: unitary (E06), metropolitan districts (E08),
#: London boroughs (E09), counties (E10).
LA_CODE_PATTERN = r"^E(06|08|09|10)\d{6}$"

CONTRACT_OUTPUTS = (
    "areas",
    "pupil_census",
    "cin_referrals",
    "child_protection_plans",
    "looked_after_episodes",
)
#: The side table of dates of birth and sex written beside the contract tables.
CHARACTERISTICS = "pupil_characteristics"
CHARACTERISTICS_COLUMNS = ("pupil_id", "date_of_birth", "sex", "dob_source")
#: Where a child's date of birth and sex are taken from, in order of preference.
CHARACTERISTICS_PRIORITY = ("school_census", "cin_census", "ssda903")

#: The record tables of each return whose children get a pupil id (besides the return's
#: child lookup).
_LINKED_TABLES = {
    "ssda903": ("episodes",),
    "cin_census": ("referrals", "plans"),
    "school_census": ("pupils",),
}

# which record table of a return corresponds to which table in the file accounting
_RECORD_TABLES = {
    ("ssda903", "episodes"): "episodes",
    ("ssda903", "children"): "header",
    ("cin_census", "referrals"): "CINdetails",
    ("cin_census", "plans"): "ChildProtectionPlans",
    ("cin_census", "children"): "ChildIdentifiers",
    ("school_census", "pupils"): "pupils",
    ("school_census", "fsm_periods"): "fsm_periods",
    ("household_domains", "household_domains"): "household_domains",
    ("child_lsoa", "child_lsoa"): "child_lsoa",
}


@dataclass
class ImportReport:
    """What an import read, used, left out and wrote (see the module docstring)."""

    la_code: str
    out_dir: Path
    accounting: pd.DataFrame
    problems: pd.DataFrame
    tables: dict[str, int] = field(default_factory=dict)
    linkage: dict = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)
    files_written: list[str] = field(default_factory=list)

    @property
    def skipped_files(self) -> pd.DataFrame:
        """Problems that made a whole file unusable."""
        return self.problems[self.problems["action"] == FILE_SKIPPED]

    @property
    def rows_quarantined(self) -> int:
        return int(self.accounting["rows_quarantined"].sum()) if len(self.accounting) else 0

    def to_dict(self) -> dict:
        """The report as plain JSON-able values."""
        return {
            "la_code": self.la_code,
            "out_dir": str(self.out_dir),
            "tables": self.tables,
            "linkage": self.linkage,
            "caveats": self.caveats,
            "files_written": self.files_written,
            "accounting": self.accounting.to_dict(orient="records"),
            "problems_summary": _problem_summary(self.problems).to_dict(orient="records"),
            "problems_n": len(self.problems),
        }

    def summary_text(self) -> str:
        """A plain-English summary for the terminal and the log."""
        acc = self.accounting
        lines = [f"Local authority {self.la_code}: returns imported into {self.out_dir}."]
        lines.append("Files (rows read -> used / quarantined / duplicate / not needed):")
        for r in acc.itertuples(index=False):
            lines.append(
                f"  {r.return_name:<17} {Path(r.file).name} [{r.table or '-'}]: {r.rows_read} -> "
                f"{r.rows_used} / {r.rows_quarantined} / {r.rows_duplicate} / "
                f"{r.rows_not_needed}" + (f"  ({r.note})" if r.note else "")
            )
        if self.tables:
            lines.append(
                "Tables written: " + ", ".join(f"{k} {v:,} rows" for k, v in self.tables.items())
            )
        lk = self.linkage
        if lk:
            lines.append(
                f"Children: {lk.get('children_n', 0):,}; linked by UPN {lk.get('with_upn_n', 0):,}; "
                f"without a UPN (not linkable across returns) {lk.get('without_upn_n', 0):,}; "
                f"in more than one return {lk.get('in_several_returns_n', 0):,}."
            )
            if lk.get("looked_after_without_header_n"):
                lines.append(
                    f"  {lk['looked_after_without_header_n']:,} looked-after children have "
                    "episodes but no SSDA903 header row: not linked (see import_problems.csv "
                    "for each child, the likely cause and the fix)."
                )
            for t, n in lk.get("not_in_pupil_census_n", {}).items():
                if n:
                    lines.append(
                        f"  {t}: {n:,} children are not in pupil_census (not on a school "
                        "roll in the censuses given, or no UPN)."
                    )
        skipped = self.skipped_files
        if len(skipped):
            lines.append(f"Files not used ({len(skipped)}):")
            for r in skipped.itertuples(index=False):
                lines.append(f"  {r.file}: {r.problem.removeprefix(r.file + ': ')}")
        summary = _problem_summary(self.problems)
        if len(summary):
            lines.append("Problems (see import_problems.csv for every row):")
            for r in summary.head(15).itertuples(index=False):
                n = int(r.rows_affected)
                lines.append(
                    f"  [{r.severity}] {r.return_name} {r.field}: {r.problem} "
                    f"({n:,} row{'' if n == 1 else 's'}; {r.action})"
                )
        for c in self.caveats:
            lines.append("Caveat: " + c)
        return "\n".join(lines)


def _problem_summary(problems: pd.DataFrame) -> pd.DataFrame:
    if problems.empty:
        return pd.DataFrame(
            columns=["severity", "return_name", "field", "problem", "action", "rows_affected"]
        )
    rank = {"error": 0, "warning": 1, "info": 2}
    out = (
        problems.groupby(["severity", "return_name", "field", "problem", "action"], sort=False)[
            "rows_affected"
        ]
        .sum()
        .reset_index()
    )
    out["_rank"] = out["severity"].map(rank)
    return (
        out.sort_values(["_rank", "rows_affected"], ascending=[True, False])
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _check_arguments(sources, la_code, salt, on_bad_file) -> None:
    if not isinstance(sources, dict):
        raise LAReturnError(
            "sources must be a mapping such as {'ssda903': 'returns/903/', "
            "'cin_census': 'returns/cin/', 'school_census': 'returns/census/'}."
        )
    unknown = sorted(set(sources) - set(SOURCE_KEYS))
    if unknown:
        raise LAReturnError(
            f"sources: unknown entr{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}. "
            "The entries are: " + "; ".join(f"{k} ({v})" for k, v in SOURCE_KEYS.items())
        )
    if not any(sources.get(k) for k in RETURN_SOURCES):
        raise LAReturnError("sources: give at least one of ssda903, cin_census, school_census.")
    if not isinstance(la_code, str) or not re.match(LA_CODE_PATTERN, la_code.strip()):
        raise LAReturnError(
            f"la_code {la_code!r} is not the ONS code of an English upper-tier local authority "
            "(E06, E08, E09 or E10 followed by 6 digits, e.g. E08000004 for Oldham)."
        )
    check_salt(salt)
    if on_bad_file not in ("stop", "skip"):
        raise LAReturnError("on_bad_file must be 'stop' or 'skip'.")
    if bool(sources.get("child_lsoa")) != bool(sources.get("lsoa_counts")):
        raise LAReturnError(
            "the area-level route needs both sources['child_lsoa'] (upn, "
            "lsoa_code per child) and sources['lsoa_counts'] (ONS LSOA counts)."
        )


def import_la(  # noqa: C901  (the import's stages in order, each row-accounted)
    sources: dict,
    la_code: str,
    out_dir: Path,
    salt: str,
    *,
    la_name: str | None = None,
    region_code: str | None = None,
    region_name: str | None = None,
    collection_year: int | None = None,
    census_dates: dict | None = None,
    school_id_column: str | None = None,
    on_bad_file: str = "stop",
    synthetic: bool = False,
    max_loss_share: float = MAX_LOSS_SHARE,
) -> ImportReport:
    """Import a local authority's returns into contract tables in ``out_dir``.

    ``sources``: {entry: file, folder or list} with the entries in :data:`SOURCE_KEYS`.
    ``la_code``: ONS code of the authority (``E08000004``); ``la_name``, ``region_code``,
    ``region_name`` fill the ``areas`` row (if not given: the code, and "not given").
    ``salt``: secret of at least 16 characters for the pseudonymised ids (never written).
    ``collection_year``: SSDA903 collection year for files whose name has none.
    ``census_dates``: {school census file name: census day} overriding the name rule.
    ``school_id_column``: the school census column holding the school identifier.
    ``on_bad_file``: ``stop`` (default) writes the import report and raises
    :class:`LAReturnError` when a file could not be used at all; ``skip`` carries on.
    ``max_loss_share``: the systematic-loss rule (:func:`systematic_losses`): when a table
    loses more than this share of its rows to the row checks (or SSDA903 episodes lose
    their link to a header row), with at least ``MIN_LOST_ROWS`` rows, nothing is
    written and :class:`LAReturnError` names the table, the main causes and the fix.
    ``synthetic``: the returns are synthetic (written by
    :func:`child_mdh.sources.synthetic.la_formats.write_la_formats`); every table written says so in
    its metadata (``synthetic: true``) and the report carries the label.

    Method: read each return (:func:`read_ssda903`, :func:`read_cin_census`,
    :func:`read_school_census`), link children by normalised UPN with a keyed SHA-256
    pseudonym (:func:`assign_pupil_ids`), de-duplicate each table on its contract key
    keeping the latest return, and account for every row. Returns the
    :class:`ImportReport`.
    """
    _check_arguments(sources, la_code, salt, on_bad_file)
    try:
        max_loss_share = check_share(max_loss_share)
    except ValueError as err:
        raise LAReturnError(str(err)) from None
    collection_year = collection_year_of(collection_year)
    la_code = la_code.strip()
    out_dir = Path(out_dir)
    returns: list[ReturnData] = []
    if sources.get("ssda903") or sources.get("ssda903_previous"):
        returns.append(
            read_ssda903(
                sources.get("ssda903"),
                previous_paths=sources.get("ssda903_previous"),
                collection_year=collection_year,
            )
        )
    if sources.get("cin_census"):
        returns.append(read_cin_census(sources["cin_census"]))
    if sources.get("school_census"):
        returns.append(
            read_school_census(
                sources["school_census"],
                census_dates=census_dates,
                school_id_column=school_id_column,
            )
        )
    log = ProblemLog()
    for r in returns:
        log.extend(r.problems)

    ids = _link(returns, salt, log)
    by_name = {r.name: r for r in returns}
    tables = _contract_tables(by_name, ids, la_code, log)
    characteristics = pupil_characteristics(by_name, ids)
    tables["areas"] = pd.DataFrame(
        {
            "la_code": [la_code],
            "la_name": [la_name or la_code],
            "region_code": [region_code or "not given"],
            "region_name": [region_name or "not given"],
        }
    )
    if not la_name or not region_code or not region_name:
        log.add(
            return_name="import",
            file="",
            table="areas",
            field="la_name, region",
            problem="la_name/region_code/region_name not given: the areas row uses the LA "
            "code as its name and 'not given' for the region",
            action=NOTED,
            rows_affected=0,
        )

    extra_outputs, caveats, extra_returns = {}, [], []
    if sources.get("household_domains"):
        hd = read_household_domains(sources["household_domains"])
        log.extend(hd.problems)
        extra_returns.append(hd)
        extra_outputs["child_domains"] = _child_domains(hd, salt)
    if sources.get("child_lsoa"):
        lsoa_data = ReturnData("child_lsoa")
        rec = read_child_lsoa(sources["child_lsoa"], lsoa_data.problems)
        lsoa_data.add_file(sources["child_lsoa"], "child_lsoa", len(rec))
        lsoa_data.tables["child_lsoa"] = rec
        log.extend(lsoa_data.problems)
        extra_returns.append(lsoa_data)
        counts = read_lsoa_counts(sources["lsoa_counts"])
        used = rec[rec["status"] == USED]
        kids = pd.DataFrame(
            {
                "pupil_id": pseudonymise(used["upn"], salt, "upn").to_numpy(),
                "lsoa_code": used["lsoa_code"].to_numpy(),
            }
        )
        area = area_level_domains(kids, counts)
        unmatched = int((~area["area_matched"]).sum())
        if unmatched:
            log.add(
                return_name="child_lsoa",
                file=str(sources["child_lsoa"]),
                table="child_lsoa",
                field="lsoa_code",
                problem=f"{unmatched} children's LSOA is not in the LSOA counts (or has no "
                "households): their area shares are empty. Check that both use the "
                "same census's LSOA boundaries (2011 or 2021).",
                action=KEPT,
                rows_affected=unmatched,
            )
        extra_outputs["child_area_domains"] = area
        caveats.append(AREA_LEVEL_CAVEAT)

    accounting = _accounting(returns + extra_returns)
    linkage = _linkage_summary(ids, tables)
    if "ssda903" in by_name:
        ssda = by_name["ssda903"]
        no_header = ssda.tables["episodes"].loc[without_header(ssda), "child_ref"]
        linkage["looked_after_without_header_n"] = int(no_header.nunique())
        linkage["looked_after_without_header_rows_n"] = len(no_header)
    for name, df in extra_outputs.items():
        linkage[f"{name}_children_n"] = len(df)
        linkage[f"{name}_in_returns_n"] = (
            int(is_in(df["pupil_id"], ids["pupil_id"]).sum()) if len(ids) else 0
        )
    linkage["date_of_birth_known_n"] = int(characteristics["date_of_birth"].notna().sum())
    linkage["date_of_birth_unknown_n"] = int(characteristics["date_of_birth"].isna().sum())
    if synthetic:
        caveats.insert(
            0,
            "SYNTHETIC DATA: these returns were written from a synthetic "
            "dataset; no row describes a real child.",
        )
    report = ImportReport(
        la_code=la_code,
        out_dir=out_dir,
        accounting=accounting,
        problems=log.frame(),
        linkage=linkage,
        caveats=caveats,
    )
    bad_files = report.skipped_files
    losses = systematic_losses(accounting, report.problems, linkage, max_loss_share)
    stop = (on_bad_file == "stop" and len(bad_files) > 0) or bool(losses)
    if not stop:
        meta = {
            "source": "local authority returns",
            "la_code": la_code,
            "synthetic": bool(synthetic),
            "contract_version": contract.CONTRACT_VERSION,
            "pseudonymisation": "pupil_id = HMAC-SHA-256(salt, UPN), 16 hex characters",
        }
        for name in CONTRACT_OUTPUTS:
            df = contract.conform(tables[name], name)
            path = io.write_parquet(df, out_dir / f"{name}.parquet", metadata=meta)
            report.tables[name] = len(df)
            report.files_written.append(str(path))
        path = io.write_parquet(
            characteristics,
            out_dir / f"{CHARACTERISTICS}.parquet",
            metadata={
                **meta,
                "description": "date of birth and sex per "
                "child, for ages in the local-authority cohort",
            },
        )
        report.tables[CHARACTERISTICS] = len(characteristics)
        report.files_written.append(str(path))
        for name, df in extra_outputs.items():
            m = dict(meta)
            if name == "child_area_domains":
                m.update({"area_level": True, "caveat": AREA_LEVEL_CAVEAT})
            path = io.write_parquet(df, out_dir / f"{name}.parquet", metadata=m)
            report.tables[name] = len(df)
            report.files_written.append(str(path))
    if stop:
        # outputs of an earlier import in the same folder would not match this report
        for name in (*CONTRACT_OUTPUTS, CHARACTERISTICS, "child_domains", "child_area_domains"):
            (out_dir / f"{name}.parquet").unlink(missing_ok=True)
    _write_report(report, out_dir)
    if losses:
        raise LAReturnError(
            "the import stopped, so no tables were written (and the tables of any earlier "
            f"import in {out_dir} were removed): "
            + "\n".join(f"  - {loss}" for loss in losses)
            + f"\nSo many lost rows point at a whole file or column (a wrong date format, "
            "ids a spreadsheet changed, a missing file), not at single rows. Fix the cause "
            "shown, using the rows listed in import_problems.csv, and run again; if the loss "
            f"is expected, raise max_loss_share (now {max_loss_share:g}). The import report "
            f"is in {out_dir / 'import_report.json'}."
        )
    if stop:
        listed = "\n".join(
            f"  - {f}: {p.removeprefix(f + ': ')}"
            for f, p in zip(bad_files["file"], bad_files["problem"])
        )
        raise LAReturnError(
            f"{len(bad_files)} file(s) could not be used, so no tables were written (and the "
            f"tables of any earlier import in {out_dir} were removed):\n{listed}\n"
            f"Fix them and run again, or import without them (on_bad_file='skip'). The import "
            f"report is in {out_dir / 'import_report.json'}."
        )
    return report


def systematic_losses(
    accounting: pd.DataFrame, problems: pd.DataFrame, linkage: dict, max_share: float
) -> list[str]:
    """The tables (and links) that lost more than ``max_share`` of their rows, in words.

    A table loses the rows the row checks quarantine, summed over its files (rows not
    needed are not counted); the SSDA903 episodes also lose the rows whose child has no
    header row (they cannot be linked). The rule is :func:`child_mdh.contract.loss.is_systematic_loss`.
    """
    out = []
    considered = accounting.assign(rows=accounting["rows_read"] - accounting["rows_not_needed"])
    sums = considered.groupby(["return_name", "table"], sort=False)[
        ["rows", "rows_quarantined"]
    ].sum()
    for (name, table), row in sums.iterrows():
        n, lost = int(row["rows"]), int(row["rows_quarantined"])
        if not is_systematic_loss(lost, n, max_share):
            continue
        mine = problems[
            (problems["return_name"] == name)
            & (problems["table"] == table)
            & (problems["action"] == QUARANTINED)
        ]
        causes = mine.groupby("problem")["rows_affected"].sum().sort_values(ascending=False)
        shown = "; ".join(f"{p} ({int(k):,} rows)" for p, k in causes.head(3).items())
        out.append(
            f"{name} {table}: {lost:,} of {n:,} rows ({lost / n:.0%}) quarantined, above "
            f"the allowed {max_share:.0%}. Main causes: {shown or 'see import_problems.csv'}"
        )
    unlinked = int(linkage.get("looked_after_without_header_rows_n", 0))
    episodes = int(sums["rows"].get(("ssda903", "episodes"), 0))
    if is_systematic_loss(unlinked, episodes, max_share):
        out.append(
            f"ssda903 episodes: {unlinked:,} of {episodes:,} rows ({unlinked / episodes:.0%}) "
            "belong to children with no header row, so they cannot be linked to other "
            "returns (see the CHILD problems in import_problems.csv: a missing header file, "
            "or leading zeros a spreadsheet dropped from CHILD in one file)"
        )
    return out


def _link(returns: list[ReturnData], salt: str, log: ProblemLog) -> pd.DataFrame:
    """Pupil ids for every (return, link_ref) seen in a lookup or an event table."""
    parts = []
    for r in returns:
        frames = [r.tables.get(t) for t in _LINKED_TABLES.get(r.name, ())]
        if r.name != "school_census":
            frames.append(r.children)
        for f in frames:
            if f is None or f.empty:
                continue
            ok = f["status"].isin([USED, DUPLICATE]) & f["child_ref"].notna()
            sub = f.loc[ok]
            upn = sub["upn"] if "upn" in sub else pd.Series(pd.NA, index=sub.index, dtype="str")
            dob = sub["dob"] if "dob" in sub else pd.Series(pd.NaT, index=sub.index)
            parts.append(
                pd.DataFrame(
                    {
                        "return_name": r.name,
                        "child_ref": _link_ref(r.name, sub),
                        "upn": upn.to_numpy(),
                        "order": sub["order"].to_numpy(),
                        "dob": pd.to_datetime(dob).to_numpy(),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(
            columns=["return_name", "child_ref", "upn", "pupil_id", "linked_by", "n_upns"]
        )
    children = pd.concat(parts, ignore_index=True)
    ids = assign_pupil_ids(children, salt)
    _check_birth_dates(children, ids, log)
    for name, part in ids.groupby("return_name"):
        conflict = part[part["n_upns"] > 1]
        if len(conflict):
            log.add(
                return_name=name,
                file="",
                table="children",
                field="UPN",
                child=", ".join(conflict["child_ref"].head(5)),
                problem=f"{len(conflict)} children have different UPNs in different "
                "files or years; the UPN of the latest return is used",
                action=KEPT,
                rows_affected=len(conflict),
            )
        no_upn = int((part["linked_by"] == "return id").sum())
        if no_upn:
            log.add(
                return_name=name,
                file="",
                table="children",
                field="UPN",
                problem=f"{no_upn} children have no UPN: they get an id from their own id "
                "in this return and cannot be linked to other returns",
                action=NOTED,
                rows_affected=no_upn,
            )
        shared = (
            part[part["upn"].notna()].drop_duplicates(["upn", "child_ref"]).groupby("upn").size()
        )
        n_shared = int((shared > 1).sum())
        if n_shared and name != "school_census":
            log.add(
                return_name=name,
                file="",
                table="children",
                field="UPN",
                problem=f"{n_shared} UPNs are held by more than one child id in this return; "
                "those children are treated as one child",
                action=KEPT,
                rows_affected=n_shared,
            )
    return ids


def _check_birth_dates(children: pd.DataFrame, ids: pd.DataFrame, log: ProblemLog) -> None:
    """Report children linked by UPN whose returns give different dates of birth: a sign
    that a UPN was recorded against the wrong child."""
    known = children.dropna(subset=["dob"]).drop_duplicates(["return_name", "child_ref", "dob"])
    if known.empty:
        return
    known = known.merge(
        ids[["return_name", "child_ref", "pupil_id", "linked_by"]],
        on=["return_name", "child_ref"],
        how="inner",
    )
    known = known[known["linked_by"] == "upn"]
    n_dob = known.drop_duplicates(["pupil_id", "dob"]).groupby("pupil_id").size()
    clash = n_dob.index[n_dob > 1]
    if len(clash):
        ex = known[known["pupil_id"].isin(clash[:5])]
        refs = ", ".join(f"{r} {c}" for r, c in zip(ex["return_name"], ex["child_ref"]))
        log.add(
            return_name="import",
            file="",
            table="children",
            field="date of birth",
            child=refs,
            problem=f"{len(clash)} children linked by UPN have different dates of birth in "
            "different returns or years: check that the UPN belongs to the child",
            action=KEPT,
            rows_affected=len(clash),
        )


def _link_ref(return_name: str, records: pd.DataFrame) -> pd.Series:
    """The id that identifies a child within a return: the school census id is per census."""
    if return_name == "school_census" and "census_date" in records:
        return (
            pd.to_datetime(records["census_date"]).dt.strftime("%Y-%m-%d")
            + "/"
            + records["child_ref"].astype("str")
        )
    return records["child_ref"].astype("str")


def _with_pupil_id(r: ReturnData, name: str, ids: pd.DataFrame) -> pd.DataFrame:
    rec = r.tables[name]
    key = _link_ref(r.name, rec)
    lookup = ids[ids["return_name"] == r.name].set_index("child_ref")["pupil_id"]
    rec["pupil_id"] = key.map(lookup).to_numpy()
    return rec


def _contract_tables(by_name: dict, ids: pd.DataFrame, la_code: str, log: ProblemLog) -> dict:
    """Build the four event tables from used records, de-duplicated on the contract key."""
    out = {name: contract.empty_frame(name) for name in CONTRACT_OUTPUTS}
    spec = [
        (
            "ssda903",
            "episodes",
            "looked_after_episodes",
            ["episode_start", "episode_end", "legal_status", "reason_new_episode"],
            "episode of the same child (linked by UPN) and DECOM",
        ),
        (
            "cin_census",
            "referrals",
            "cin_referrals",
            ["referral_date", "primary_need_code", "cin_closure_date", "referral_nfa"],
            "referral of the same child (linked by UPN) and CINreferralDate",
        ),
        (
            "cin_census",
            "plans",
            "child_protection_plans",
            ["cpp_start_date", "cpp_end_date"],
            "child protection plan of the same child (linked by UPN) and CPPstartDate",
        ),
        (
            "school_census",
            "pupils",
            "pupil_census",
            ["census_date", "school_id", "fsm_eligible"],
            "pupil (same UPN) in the same census",
        ),
    ]
    for ret, rec_name, table, cols, what in spec:
        r = by_name.get(ret)
        if r is None or rec_name not in r.tables:
            continue
        rec = _with_pupil_id(r, rec_name, ids)
        quarantine(
            rec,
            (rec["status"] == USED) & rec["pupil_id"].isna(),
            "no pupil id could be given to this row (its child is not in the child lookup)",
            log,
            return_name=ret,
            table=rec_name,
            field="child",
        )
        key = list(contract.table(table).primary_key)
        keep_latest(rec, key, log, return_name=ret, table=rec_name, what=what)
        used = rec[rec["status"] == USED]
        df = used[["pupil_id", *cols]].copy()
        df.insert(1, "la_code", la_code)
        out[table] = df.reset_index(drop=True)
    return out


def pupil_characteristics(by_name: dict, ids: pd.DataFrame) -> pd.DataFrame:
    """Date of birth and sex of every child with a pupil id, one row per child.

    Sources, in order of preference (:data:`CHARACTERISTICS_PRIORITY`): the child's
    latest school census row (``dob``, ``sex`` of the pupils-on-roll table), then the
    latest CIN census return (PersonBirthDate, GenderCurrent/Sex), then the latest
    SSDA903 header (DOB, SEX). Each value is taken from the first source that has it
    (a child may have the date of birth from one return and the sex from another);
    ``dob_source`` names where the date of birth came from. Children whose returns give
    different dates of birth are reported by the linkage checks. Returns the columns
    :data:`CHARACTERISTICS_COLUMNS` sorted by ``pupil_id``; values not given are empty.
    """
    parts = []
    for prio, name in enumerate(CHARACTERISTICS_PRIORITY):
        r = by_name.get(name)
        if r is None:
            continue
        if name == "school_census":
            rec = r.tables.get("pupils")
            if rec is None or rec.empty or "pupil_id" not in rec:
                continue
            rec = rec[rec["status"] == USED]
            part = pd.DataFrame(
                {
                    "pupil_id": rec["pupil_id"].to_numpy(),
                    "date_of_birth": pd.to_datetime(rec["dob"]).to_numpy(),
                    "sex": rec["sex"].astype("str").to_numpy(),
                    "_when": pd.to_datetime(rec["census_date"])
                    .astype("datetime64[ns]")
                    .astype("int64")
                    .to_numpy(),
                }
            )
        else:
            rec = r.children
            if rec is None or rec.empty:
                continue
            rec = rec[(rec["status"] == USED) & rec["child_ref"].notna()]
            lookup = ids[ids["return_name"] == name].set_index("child_ref")["pupil_id"]
            part = pd.DataFrame(
                {
                    "pupil_id": _link_ref(name, rec).map(lookup).to_numpy(),
                    "date_of_birth": pd.to_datetime(rec["dob"]).to_numpy(),
                    "sex": rec["sex"].astype("str").to_numpy(),
                    "_when": rec["order"].astype("int64").to_numpy(),
                }
            )
        part["dob_source"] = name
        part["_prio"] = prio
        parts.append(part)
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(
            {
                "pupil_id": pd.Series(dtype="str"),
                "date_of_birth": pd.Series(dtype="datetime64[ns]"),
                "sex": pd.Series(dtype="str"),
                "dob_source": pd.Series(dtype="str"),
            }
        )
    allp = pd.concat(parts, ignore_index=True)
    allp = allp[allp["pupil_id"].notna()]
    allp["sex"] = allp["sex"].where(allp["sex"].isin(contract.SEX_CODES))
    allp["dob_source"] = allp["dob_source"].where(allp["date_of_birth"].notna())
    allp = allp.sort_values(
        ["pupil_id", "_prio", "_when"], ascending=[True, True, False], kind="stable"
    )
    out = allp.groupby("pupil_id", sort=True)[["date_of_birth", "sex", "dob_source"]].first()
    out = out.reset_index()
    out["pupil_id"] = out["pupil_id"].astype("str")
    out["date_of_birth"] = pd.to_datetime(out["date_of_birth"]).astype("datetime64[ns]")
    out["sex"] = out["sex"].astype("str")
    out["dob_source"] = out["dob_source"].astype("str")
    return out[list(CHARACTERISTICS_COLUMNS)]


def _child_domains(hd: ReturnData, salt: str) -> pd.DataFrame:
    rec = hd.tables["household_domains"]
    used = rec[rec["status"] == USED]
    out = pd.DataFrame(
        {
            "pupil_id": pseudonymise(used["upn"], salt, "upn").to_numpy(),
            "household_id": (
                "household-" + pseudonymise(used["household_ref"], salt, "household")
            ).to_numpy(),
        }
    )
    for d in DOMAINS:
        out[d] = used[d].astype("boolean").to_numpy()
    out["n_domains"] = count_deprived(out)
    return out


def _accounting(returns: list[ReturnData]) -> pd.DataFrame:
    """Per file and table: rows read, used, quarantined, duplicate, not needed."""
    files = pd.DataFrame(
        [f for r in returns for f in r.files],
        columns=["return_name", "file", "table", "rows_read", "rows_not_needed", "year", "note"],
    )
    files = files.groupby(["return_name", "file", "table"], as_index=False, sort=False).agg(
        rows_read=("rows_read", "sum"),
        rows_not_needed=("rows_not_needed", "sum"),
        year=("year", "first"),
        note=("note", "first"),
    )
    counts = []
    for r in returns:
        frames = dict(r.tables)
        if r.children is not None and r.name != "school_census":
            frames["children"] = r.children
        for name, rec in frames.items():
            table = _RECORD_TABLES.get((r.name, name))
            if table is None or rec is None or rec.empty:
                continue
            c = rec.groupby(["source_file", "status"]).size().unstack(fill_value=0)
            c = c.reindex(columns=[USED, QUARANTINED_STATUS, DUPLICATE], fill_value=0)
            c = c.reset_index().rename(
                columns={
                    "source_file": "file",
                    USED: "rows_used",
                    QUARANTINED_STATUS: "rows_quarantined",
                    DUPLICATE: "rows_duplicate",
                }
            )
            c["return_name"], c["table"] = r.name, table
            counts.append(c)
    cols = ["rows_used", "rows_quarantined", "rows_duplicate"]
    if counts:
        acc = files.merge(
            pd.concat(counts, ignore_index=True), on=["return_name", "file", "table"], how="left"
        )
    else:
        acc = files.assign(**dict.fromkeys(cols, 0))
    acc[cols] = acc[cols].fillna(0).astype("int64")
    acc["rows_unaccounted"] = (
        acc["rows_read"]
        - acc["rows_used"]
        - acc["rows_quarantined"]
        - acc["rows_duplicate"]
        - acc["rows_not_needed"]
    )
    order = [
        "return_name",
        "file",
        "table",
        "year",
        "rows_read",
        "rows_used",
        "rows_quarantined",
        "rows_duplicate",
        "rows_not_needed",
        "rows_unaccounted",
        "note",
    ]
    return acc[order]


def _linkage_summary(ids: pd.DataFrame, tables: dict) -> dict:
    """Counts of children, linked and not, and social care children not in pupil_census."""
    if ids.empty:
        return {}
    per_child = ids.drop_duplicates(["pupil_id", "return_name"]).groupby("pupil_id").size()
    summary = {
        "children_n": int(ids["pupil_id"].nunique()),
        "with_upn_n": int(ids.loc[ids["linked_by"] == "upn", "pupil_id"].nunique()),
        "without_upn_n": int(ids.loc[ids["linked_by"] != "upn", "pupil_id"].nunique()),
        "in_several_returns_n": int((per_child > 1).sum()),
        "by_return": {
            name: {
                "children_n": int(part["pupil_id"].nunique()),
                "with_upn_n": int(part.loc[part["linked_by"] == "upn", "pupil_id"].nunique()),
            }
            for name, part in ids.groupby("return_name")
        },
    }
    pupils = tables["pupil_census"]["pupil_id"]
    summary["not_in_pupil_census_n"] = {
        t: int((~is_in(tables[t]["pupil_id"].drop_duplicates(), pupils)).sum())
        for t in ("cin_referrals", "child_protection_plans", "looked_after_episodes")
    }
    return summary


def _write_report(report: ImportReport, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    report.files_written.extend(
        str(out_dir / n)
        for n in ("import_accounting.csv", "import_problems.csv", "import_report.json")
    )
    report.accounting.to_csv(out_dir / "import_accounting.csv", index=False)
    report.problems.to_csv(out_dir / "import_problems.csv", index=False)
    io.write_json(report.to_dict(), out_dir / "import_report.json")
