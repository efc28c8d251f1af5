from ftspec.stats.bootstrap import margin_ci, metric_ci  # noqa: F401 - moved to ftspec.stats.bootstrap
