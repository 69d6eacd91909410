"""Fitting demand from real call data (``patrolsim fit``) and reading calls for replay.

One module per job: ``columns`` (column map, known formats, parsing), ``rows``
(counting what is left out), ``calltypes`` (call type to incident type),
``delay`` (response-delay shift for arrival-only data), ``calls`` (the reading
pipeline), ``temporal``, ``dispersion``, ``spatial``, ``holdout``, ``simcheck``,
``model`` (assembling and writing) and ``diagnostics`` (figures; the only
module importing matplotlib).
"""
