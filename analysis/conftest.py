"""pytest: the notebook sources (analysis/notebooks/*.py) are notebooks, not modules; nbval checks their .ipynb pairs."""

collect_ignore_glob = ["notebooks/*"]
