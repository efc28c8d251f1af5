"""Statistics in one place: the bootstrap, paired tests, power and drift statistics (numpy/scipy/statsmodels)."""
