"""Stage 4, writing: numbers, sentences, tables and figures from the statistics' tidy frames."""
