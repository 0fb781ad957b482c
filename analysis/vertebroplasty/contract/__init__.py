"""Stage 1, the data contract: the data dictionary, reading and validating a cohort and a study file, derived indices."""
