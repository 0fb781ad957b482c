"""Stage 3, the published source study: its transcribed values, the reproduction audit and the synthetic reconstruction."""
