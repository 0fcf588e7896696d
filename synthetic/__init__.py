"""synthetic: cohorts of site-specific metastatic relapse with known truth."""
