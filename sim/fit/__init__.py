"""Fitting demand from real call data (``patrolsim fit``).

The calls are read by ``sim.calls`` (shared with replay). One module per job here:
``calltypes`` (incident types and on-scene times from the typed calls),
``temporal``, ``dispersion``, ``spatial``, ``holdout``, ``simcheck``, ``model``
(assembling and writing), ``network`` (the ``--network`` option) and
``diagnostics`` (figures; the only module importing matplotlib).
"""
