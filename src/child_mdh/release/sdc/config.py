"""Disclosure-control settings: the thresholds and the chosen mitigation, as plain values.

The defaults are those of ACRO (AI-SDC), the output-checking library used by UK trusted
research environments: minimum cell count 10, rounding base 5, nk dominance n = 2,
k = 0.90, p-ratio 10%, residual degrees of freedom at least 10, zeros disclosive unless
structural. Settings come in as a mapping (the workflow's ``disclosure:`` configuration
block); this module never reads a file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

MITIGATIONS = ("suppress", "round", "both")


@dataclass(frozen=True)
class SDCConfig:
    """Statistical disclosure control settings (ACRO defaults).

    - ``threshold``: a released count, or a count behind a rate, percentage or mean,
      must be at least this (cells 1 .. threshold-1 are disclosive).
    - ``rounding_base``: base that counts are rounded to when rounding is a mitigation.
    - ``zeros_disclosive``: a zero count is disclosive unless marked structural.
    - ``dominance_n``, ``dominance_k``: nk rule, the n largest contributors to a
      magnitude cell must not exceed k of its total.
    - ``p_ratio``: p-ratio rule, the total less the two largest contributions must be at
      least p of the largest.
    - ``min_residual_df``: smallest residual degrees of freedom for a released model.
    - ``mitigation``: 'suppress' (primary and secondary suppression), 'round' (primary
      suppression, then every count rounded to ``rounding_base`` instead of secondary
      suppression) or 'both' (primary and secondary suppression, then rounding).
    - ``max_linked_cells``: largest block of linked suppressed cells whose
      recoverability is verified exactly; a larger block is flagged for review.
    """

    threshold: int = 10
    rounding_base: int = 5
    zeros_disclosive: bool = True
    dominance_n: int = 2
    dominance_k: float = 0.90
    p_ratio: float = 0.10
    min_residual_df: int = 10
    mitigation: str = "suppress"
    max_linked_cells: int = 2000

    def __post_init__(self) -> None:
        problems = []
        if not (isinstance(self.threshold, int) and self.threshold >= 1):
            problems.append(f"threshold must be a whole number >= 1, got {self.threshold!r}")
        if not (isinstance(self.rounding_base, int) and self.rounding_base >= 1):
            problems.append(
                f"rounding_base must be a whole number >= 1, got {self.rounding_base!r}"
            )
        if not (isinstance(self.dominance_n, int) and self.dominance_n >= 1):
            problems.append(f"dominance_n must be a whole number >= 1, got {self.dominance_n!r}")
        if not 0 < float(self.dominance_k) <= 1:
            problems.append(f"dominance_k must be in (0, 1], got {self.dominance_k!r}")
        if not 0 <= float(self.p_ratio) <= 1:
            problems.append(f"p_ratio must be in [0, 1], got {self.p_ratio!r}")
        if not (isinstance(self.min_residual_df, int) and self.min_residual_df >= 1):
            problems.append(
                f"min_residual_df must be a whole number >= 1, got {self.min_residual_df!r}"
            )
        if self.mitigation not in MITIGATIONS:
            problems.append(
                f"mitigation must be one of {', '.join(MITIGATIONS)}, got {self.mitigation!r}"
            )
        if problems:
            raise ValueError("disclosure settings: " + "; ".join(problems))

    @property
    def suppresses_secondary(self) -> bool:
        """True when secondary suppression protects margins ('suppress' or 'both')."""
        return self.mitigation in ("suppress", "both")

    @property
    def rounds(self) -> bool:
        """True when released counts are rounded ('round' or 'both')."""
        return self.mitigation in ("round", "both")

    @classmethod
    def from_mapping(cls, mapping: dict | None = None) -> SDCConfig:
        """Settings from a mapping such as the workflow's ``disclosure:`` block.

        Keys left out take the ACRO defaults; an unknown key raises ``ValueError`` naming
        the allowed keys (a misspelt key must not silently fall back to a default).
        """
        if mapping is None:
            return cls()
        if isinstance(mapping, cls):
            return mapping
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - allowed)
        if unknown:
            raise ValueError(
                f"disclosure settings: unknown key(s) {', '.join(unknown)}; "
                f"allowed keys are {', '.join(sorted(allowed))}"
            )
        return cls(**dict(mapping))

    def to_dict(self) -> dict:
        """The settings as a plain dict (written into the output manifest)."""
        return asdict(self)


def resolve_config(config) -> SDCConfig:
    """``config`` as an :class:`SDCConfig` (None gives the defaults; a mapping is converted)."""
    return SDCConfig.from_mapping(config)
