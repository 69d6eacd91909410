"""Reports: terminal tables, figures and pages made from a run's outputs."""
