"""Synthetic data, kept apart from the analysis they serve: the default cohort reconstructed from the published
summary statistics (:mod:`.reconstruction`), a multicentre example (:mod:`.multicentre`) and large cohorts for the
benchmark (:mod:`.scaled`).  None of it is patient data."""
