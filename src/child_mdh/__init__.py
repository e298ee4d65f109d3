"""child-mdh: children in multidimensionally disadvantaged households (Child-MDH),
their contacts with children's social care, and local-area profiles safe to release."""

__version__ = "0.1.0"
