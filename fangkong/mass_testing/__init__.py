"""Mass nucleic-acid testing: rounds, sites, pooled tubes, lab results, positive pools, coverage."""
