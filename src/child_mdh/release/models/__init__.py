"""The release of the models: table declarations and writing (:mod:`.outputs`), figures
(:mod:`.figures`) and the plain-English summary (:mod:`.summary`), all drawn from the
tables as released.
"""
