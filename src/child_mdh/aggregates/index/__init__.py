"""The Child-MDH index: Alkire-Foster counting measures (:mod:`.alkire_foster`), their
intervals clustered by household (:mod:`.inference`) and the aggregate tables by area and
group (:mod:`.tables`).
"""
