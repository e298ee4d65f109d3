"""A small release table shared by the disclosure-control tests."""

import pandas as pd

from child_mdh.release.sdc import RowMargin, TableSpec


def la_table():
    # four local authorities and England; children_n adds up: 5000+800+6000+2400 = 14200,
    # cin_n too: 25+4+30+12 = 71 (B's 4 is below the threshold of 10)
    return pd.DataFrame(
        {
            "la_code": ["A", "B", "C", "D", "E92000001"],
            "cin_n": [25, 4, 30, 12, 71],
            "children_n": [5000, 800, 6000, 2400, 14200],
            "rate_per_10000": [50.0, 50.0, 50.0, 50.0, 50.0],
        }
    )


LA_SPEC = TableSpec(
    key_columns=("la_code",),
    derived={"rate_per_10000": ("cin_n", "children_n")},
    margins=(RowMargin("la_code", total="E92000001"),),
)


def audit_structure(
    spec: TableSpec, df: pd.DataFrame, *, rounded: bool, additive: bool = False, base: int = 5
) -> dict:
    """``spec``'s structure of ``df`` as the manifest records it for the audit."""
    s = spec.structure(df)
    s.update({"rounded": rounded, "rounding_base": base, "threshold": 10, "additive": additive})
    return s


def release_listing(tmp_path, tables):
    """Write ``tables`` ({name: (frame, structure)}) and a manifest listing them."""
    results = {}
    for name, (df, structure) in tables.items():
        df.to_csv(tmp_path / name, index=False)
        results[name] = {
            "files": [{"name": name}],
            "structure": structure,
            "status": "pass",
            "type": "table",
        }
    return {"disclosure": {"threshold": 10}, "results": results}
