"""Stage 2, statistics: tests, effect sizes, the testing rule, adjusted models, responders, attrition, pooling of centres."""
