"""Humans in the loop (issue 17): review exports for Label Studio and spreadsheets, imported ratings and pairwise
preferences stored with the run, the human metrics' scorers, inter-annotator agreement, and preferences turned
into a `preference` dataset. A stage: it never imports ui or commands."""
