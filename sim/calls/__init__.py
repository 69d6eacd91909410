"""Reading call files (historical calls for service) into usable, typed, placed calls.

Shared by ``patrolsim fit`` (``sim.fit``) and replay (``sim.replay``), so a call is
read the same way everywhere, and a plain run that replays calls never imports the
fitting code. One module per job: ``columns`` (column map, known formats, parsing
times and coordinates), ``rows`` (counting what is left out), ``calltypes`` (call
type to incident type through the type table), ``delay`` (call times estimated from
arrival-only files), ``places`` (snapping coordinates to the road network) and
``load`` (the reading pipeline: ``load_calls``).
"""
