"""The commands layer: each command calls its stages and presents their results (rich view or --json)."""
