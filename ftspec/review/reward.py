"""Score a trained reward model (the `reward_model` objective) on held-out preference pairs: the share of pairs
whose chosen answer it scores above the rejected one (`pairwise_accuracy`; 0.5 is chance). Imports torch and
transformers when called."""

from __future__ import annotations

from pathlib import Path


def reward_scores(model_dir: Path, texts: list[str], batch_size: int = 8) -> list[float]:
    """The reward model's score of each full text (prompt and answer)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    tokenizer.padding_side = "right"
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    scores: list[float] = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True, truncation=True,
                              max_length=512)
            scores += model(**batch).logits[:, 0].float().tolist()
    return scores


def pairwise_accuracy(model_dir: Path, pairs: list[dict]) -> dict:
    """{accuracy, n, ties} over rows of prompt, chosen, rejected (a tie counts half)."""
    chosen = reward_scores(model_dir, [p["prompt"] + p["chosen"] for p in pairs])
    rejected = reward_scores(model_dir, [p["prompt"] + p["rejected"] for p in pairs])
    wins = [1.0 if c > r else 0.5 if c == r else 0.0 for c, r in zip(chosen, rejected, strict=True)]
    return {"accuracy": sum(wins) / len(wins) if wins else None, "n": len(wins),
            "ties": sum(w == 0.5 for w in wins), "chosen": chosen, "rejected": rejected}
