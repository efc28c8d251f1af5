"""Tally what each check finds: a count, the first rows (capped), and the finding a user reads."""

from __future__ import annotations

from ftspec.data.findings import Finding, RowRef

MAX_ROWS = 20  # rows listed per finding; `ftspec data audit --out` lists them all

# check -> (what the count means, how to mend it)
TEXT = {
    "parse_error": ("rows that cannot be parsed", "fix or remove these lines; a JSONL file holds one JSON object "
                                                  "a line"),
    "schema_error": ("rows that do not fit the {format} format ({fields})",
                     "give each row the format's fields (map other column names with data.fields); chat turns "
                     "use the roles system, user, assistant, tool, in order, with an assistant turn"),
    "empty_field": ("rows with an empty required field", "fill these fields in or drop the rows (`ftspec data "
                                                         "clean` drops them)"),
    "placeholder": ("rows with a placeholder instead of content (N/A, <no input>, lone punctuation, a bare URL or "
                    "attachment the model never sees, several instructions merged into one)",
                    "write the real content or drop the rows (`ftspec data clean` drops them)"),
    "exact_duplicate": ("rows that repeat an earlier row (ignoring case and whitespace)",
                        "duplicates over-weight a few examples; `ftspec data clean` keeps the first copy"),
    "near_duplicate": ("rows that nearly repeat an earlier row (MinHash Jaccard >= {near})",
                       "review the pairs and drop the copies, or raise data.quality.near_duplicate_threshold"),
    "conflicting_label": ("rows whose prompt has a different target elsewhere", "the same prompt teaches two "
                          "answers; keep the right one and drop the other"),
    "leakage": ("rows whose prompt is both in train and in an eval, adversarial or regression set",
                "drop the flagged rows (`ftspec data clean` does; with separate eval files it drops the train side): "
                "an eval set seen in training makes every gate meaningless"),
    "too_long": ("rows longer than {max_tokens} tokens for a candidate model's tokenizer",
                 "these rows are truncated in training: shorten or drop them, or raise training.max_seq_length"),
    "format_mismatch": ("targets that break a gated metric", "the model learns its targets: make them satisfy "
                                                             "the metrics you gate on, or drop the rows"),
    "encoding": ("rows with mojibake (UTF-8 text decoded as Latin-1 or Windows-1252, such as `Â°` for `°`)",
                 "the model learns the garbled characters: `ftspec data clean --fix-encoding` repairs them with ftfy "
                 "(or fix the export that garbled them)"),
    "size": ("problems with the amount of data", "add clean examples; an eval set needs enough rows for its "
                                                 "threshold to be measurable"),
}


class Tally:
    def __init__(self, check: str, severity: str):
        self.check, self.severity = check, severity
        self.count = 0
        self.rows: list[RowRef] = []

    def add(self, file: str, line: int, note: str | None = None) -> None:
        self.count += 1
        if len(self.rows) < MAX_ROWS:
            self.rows.append(RowRef(file=file, line=line, note=note))

    def finding(self, context: dict, details: dict | None = None) -> Finding:
        what, hint = TEXT[self.check]
        what = what.format(**context)
        message = f"{self.count} {what}" if self.count else f"no {what}"
        return Finding(check=self.check, severity=self.severity, count=self.count, message=message, hint=hint,
                       rows=self.rows, details=details or {})
