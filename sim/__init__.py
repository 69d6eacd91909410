"""patrolsim: a discrete-event simulator of police patrol deployment.

Data flows one way (see docs/architecture.md):
scenario -> network -> demand -> force -> engine -> metrics -> experiment -> report.
"""

__version__ = "0.1.0"

# numba's cache of the compiled loops, one folder per version of their sources (sim.numba_cache: a loop
# calling another module's loop would otherwise keep the old callee after that module changed)
from sim.numba_cache import use_versioned_cache as _use_versioned_cache

_use_versioned_cache()
