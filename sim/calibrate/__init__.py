"""``patrolsim calibrate``: fit unobserved scenario keys to observed response times.

The keys a planner cannot read off any file (how much of a shift units spend out of service
or on their own work, how long call handling takes, how fast units really drive) are fitted so
that the simulated distribution of response times per priority matches the observed one. One
module per job:

``keys``         which keys may be fitted, their schema bounds and search ranges
``observed``     reading observed response times per priority (SPD "Call Data", plain CSV)
``simulated``    simulated response times per priority from patrolsim runs with the keys set
``objective``    the distance between simulated and observed, and the goodness of fit
``search``       a deterministic optimiser over the keys under common random numbers
``uncertainty``  an interval for each fitted key (bootstrap refits on a surrogate)
``output``       the calibrated scenario file, the fit JSON and the checks of the output paths

Both sides measure from the same start point: the time the call enters the queue (SPD
``Original Time Queued``; a plain file's ``call_time``) to the first unit's arrival. In
patrolsim that is ``response_time_s`` (call to first arrival), which includes call handling,
any wait for a free unit and the drive.
"""
