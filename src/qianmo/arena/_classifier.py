"""A small input classifier we train ourselves, offline, on the arena's own data.

Positives are the library attacks and converted variants of them; negatives are the benign
security requests (and the same requests through the wrappers a harmless user might also
write). Character n-grams over text folded the way the leak judge folds it (look-alike
letters and zero-width characters undone), so the cheap obfuscations do not hide an attack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from qianmo.arena._converters import apply_chain
from qianmo.arena._leak import fold_text
from qianmo.arena._library import benign_requests, library_attacks
from qianmo.arena._prompt import Prompt
from qianmo.standard import Record

# Variants that keep the attack readable; encodings (base64, hex) are left to the other
# filters, since the classifier would only learn "looks like base64".
POSITIVE_CHAINS = ("none", "roleplay", "hypothetical", "language_switch", "leetspeak", "homoglyph")


def prompt_text(prompt: Prompt) -> str:
    return "\n".join([*prompt.turns, prompt.injected_context or ""])


def training_set(
    attacks: Sequence[Record], benign: Sequence[Record]
) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    for a in attacks:
        base = Prompt.of(a).fill("QM-CANARY")
        for chain in POSITIVE_CHAINS:
            texts.append(prompt_text(apply_chain(base, chain)))
            labels.append(1)
    for b in benign:
        texts.append(prompt_text(Prompt.of(b)))
        labels.append(0)
    return texts, labels


@dataclass(frozen=True)
class InputClassifier:
    """Probability that an input is an attack."""

    pipeline: Any  # a fitted sklearn Pipeline

    def score(self, text: str) -> float:
        return float(self.pipeline.predict_proba([fold_text(text)])[0][1])

    def scores(self, texts: Sequence[str]) -> list[float]:
        return [float(p[1]) for p in self.pipeline.predict_proba([fold_text(t) for t in texts])]


def train_classifier(texts: Sequence[str], labels: Sequence[int], seed: int = 0) -> InputClassifier:
    # Imported here: scikit-learn takes ~3 s to import, paid only by stacks that use it.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    # liblinear: 0.6 s on the ~900 texts against 2.2 s for lbfgs, same accuracy.
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
            (
                "lr",
                LogisticRegression(
                    C=4.0, class_weight="balanced", solver="liblinear", random_state=seed
                ),
            ),
        ]
    )
    pipeline.fit([fold_text(t) for t in texts], list(labels))
    return InputClassifier(pipeline)


@cache
def default_classifier() -> InputClassifier:
    """Trained once per process on the package's library and benign set (well under a second)."""
    return train_classifier(*training_set(library_attacks(), benign_requests()))


def holdout_scores(test_share: float = 0.3, seed: int = 0) -> dict[str, float]:
    """Accuracy figures on attacks and benign requests held out from training (by item)."""
    attacks, benign = library_attacks(), benign_requests()
    held_a = {a.id for i, a in enumerate(attacks) if (i * 7919 + seed) % 10 < test_share * 10}
    held_b = {b.id for i, b in enumerate(benign) if (i * 7919 + seed) % 10 < test_share * 10}
    model = train_classifier(
        *training_set(
            [a for a in attacks if a.id not in held_a], [b for b in benign if b.id not in held_b]
        ),
        seed=seed,
    )
    a_scores = model.scores(
        [prompt_text(Prompt.of(a).fill("QM")) for a in attacks if a.id in held_a]
    )
    b_scores = model.scores([prompt_text(Prompt.of(b)) for b in benign if b.id in held_b])
    return {
        "attack_recall": sum(s >= 0.5 for s in a_scores) / max(1, len(a_scores)),
        "benign_pass_rate": sum(s < 0.5 for s in b_scores) / max(1, len(b_scores)),
        "held_out_attacks": float(len(a_scores)),
        "held_out_benign": float(len(b_scores)),
    }
