"""Local-area profile statistics: what a profile reports (:mod:`.measures`) and every
area's statistics in one vectorised pass (:mod:`.statistics`).
"""
