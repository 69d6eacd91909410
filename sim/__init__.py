"""patrolsim: a discrete-event simulator of police patrol deployment.

Data flows one way (see docs/architecture.md):
scenario -> network -> demand -> force -> engine -> metrics -> experiment -> report.
"""

__version__ = "0.1.0"
