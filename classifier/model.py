"""The trained classifier, loaded from classifier/models/current.skops and its JSON sidecar."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

import numpy as np
import skops.io as sio
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from core.errors import ModelUnavailable
from classifier import Classification
from classifier.rule_features import RuleColumns, with_rules
from classifier.rules import consistent_flags, flags_of, rule_flags
from classifier.text import prepare
from classifier.tiers import tiers
from classifier.vectorize import FastFeatures

MODELS_DIR = Path(__file__).parent / "models"
FORMAT = 2
EXPLAIN_WORDS = 5
_STOP = ENGLISH_STOP_WORDS | {"re", "fw", "fwd", "hi", "hello", "dear", "thanks", "reftok", "emailtok", "phonetok",
                              "urltok", "i'm", "i've", "it's", "don't", "can't"}

# Every type the .skops file may contain: anything else is refused, never executed.
TRUSTED_TYPES = [
    "builtins.slice",
    "numpy.dtype",
    "numpy.float32",
    "numpy.float64",
    "numpy.int32",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.str_",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.svm._classes.LinearSVC",
]


class Classifier:
    """Category, calibrated confidence, flags in two tiers, the named rules that fired, and an explanation.

    The flag models read the words and the rule columns. A safety flag is urgent (``flags``) when its model
    reaches the urgent threshold, a check (``checks``) when it does not but a rule fired or the model
    reaches the check threshold (classifier.tiers.tiers); other flags are raised by model or rules.
    """

    def __init__(self, artifact: dict, sidecar: dict) -> None:
        for (_, vectorizer), terms in zip(artifact["features"].transformer_list, artifact["vocabularies"]):
            vectorizer.vocabulary_ = {str(term): i for i, term in enumerate(terms)}
        self.features = artifact["features"]
        self._fast_features = FastFeatures(self.features)
        self.category_model = artifact["category"]
        self.flag_models: dict = artifact["flags"]
        self.model_version: str = sidecar["model_version"]
        self.threshold: float = float(sidecar["threshold"])
        self.flag_thresholds: dict[str, float] = sidecar.get("flag_thresholds", {})
        self.check_thresholds: dict[str, float] = sidecar.get("check_thresholds", {})
        self._rule_columns = RuleColumns.from_names([str(n) for n in artifact["rule_columns"]])
        self.metadata = sidecar
        self.classes = [str(c) for c in self.category_model.classes_]
        self._word_names = self.features.transformer_list[0][1].get_feature_names_out()
        self._coef = _base_coefficients(self.category_model)[:, : len(self._word_names)]
        self._stop = np.array([all(w in _STOP for w in name.split()) for name in self._word_names], dtype=bool)

    @classmethod
    def load(cls, path: Path | None = None, *, threshold: float | None = None) -> "Classifier":
        """Load and verify a model: a .skops file (sidecar beside it) or a directory holding current.skops."""
        skops_path, json_path = _paths(path)
        sidecar = _read_sidecar(json_path)
        data = _read_verified(skops_path, sidecar["sha256"])
        untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelUnavailable(f"model {skops_path} contains types not on the trusted list: {sorted(untrusted)}")
        try:
            artifact = sio.loads(data, trusted=TRUSTED_TYPES)
        except Exception as exc:  # a corrupt or incompatible artifact, whatever the library raises
            raise ModelUnavailable(f"model {skops_path} cannot be loaded: {exc}") from exc
        if not isinstance(artifact, dict) or artifact.get("format") != FORMAT:
            raise ModelUnavailable(f"model {skops_path} is not format {FORMAT}")
        classifier = cls(artifact, sidecar)
        if threshold is not None:
            classifier.threshold = float(threshold)
        return classifier

    def classify(self, subject: str, new_text: str) -> Classification:
        return self.classify_many([(subject, new_text)])[0]

    def classify_many(self, items: Iterable[tuple[str, str]]) -> list[Classification]:
        texts = [prepare(subject, text) for subject, text in items]
        if not texts:
            return []
        hits = [rule_flags(text) for text in texts]
        X = self._fast_features.transform(texts)
        probabilities = self.category_model.predict_proba(X)
        XF = with_rules(X, self._rule_columns.matrix(hits))
        flag_probabilities = {f: m.predict_proba(XF)[:, 1] for f, m in self.flag_models.items()}
        chosen = probabilities.argmax(axis=1)
        results = []
        for i in range(len(texts)):
            category = self.classes[chosen[i]]
            urgent, checks = tiers({f: float(p[i]) for f, p in flag_probabilities.items()}, flags_of(hits[i]),
                                   self.flag_thresholds, self.check_thresholds)
            results.append(Classification(
                category=category,
                confidence=float(probabilities[i, chosen[i]]),
                flags=frozenset(consistent_flags(category, urgent)),
                model_version=self.model_version,
                explanation=self._explain(X, i, chosen[i]),
                checks=frozenset(consistent_flags(category, checks)),
                rules=hits[i],
            ))
        return results

    def _explain(self, X, row: int, class_index: int) -> tuple[str, ...]:
        """The word n-grams in row `row` of the CSR matrix X that pushed hardest towards the chosen category."""
        start, end = X.indptr[row], X.indptr[row + 1]
        indices, values = X.indices[start:end], X.data[start:end]
        words = indices < len(self._word_names)
        indices, values = indices[words], values[words]
        contributions = values * self._coef[class_index, indices]
        contributions[self._stop[indices]] = 0.0
        order = np.argsort(-contributions)[:EXPLAIN_WORDS]
        return tuple(str(self._word_names[indices[j]]) for j in order if contributions[j] > 0)


def _base_coefficients(calibrated) -> np.ndarray:
    """One row of linear weights per class, from the estimator the calibration wraps."""
    estimator = calibrated.calibrated_classifiers_[0].estimator
    coef = np.asarray(estimator.coef_)
    if coef.shape[0] == 1:  # two classes: one row for the second class
        coef = np.vstack([-coef[0], coef[0]])
    return coef


def _paths(path: Path | None) -> tuple[Path, Path]:
    path = Path(path) if path is not None else MODELS_DIR
    if path.is_dir() or not path.suffix:  # a models directory (perhaps not made yet)
        path = path / "current.skops"
    if path.suffix == ".json":
        path = path.with_suffix(".skops")
    return path, path.with_suffix(".json")


def _read_sidecar(json_path: Path) -> dict:
    try:
        sidecar = json.loads(json_path.read_text())
    except FileNotFoundError:
        raise ModelUnavailable(f"model metadata {json_path} not found: train a model (intake train)") from None
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"model metadata {json_path} is unreadable: {exc}") from exc
    missing = {"format", "model_version", "sha256", "threshold"} - set(sidecar)
    if missing:
        raise ModelUnavailable(f"model metadata {json_path} lacks {sorted(missing)}")
    if sidecar["format"] != FORMAT:
        raise ModelUnavailable(f"model metadata {json_path} is format {sidecar['format']}, expected {FORMAT}")
    return sidecar


def _read_verified(skops_path: Path, expected_sha256: str) -> bytes:
    try:
        data = skops_path.read_bytes()
    except OSError as exc:
        raise ModelUnavailable(f"model file {skops_path} cannot be read: {exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ModelUnavailable(f"model file {skops_path} fails its checksum (sha256 {actual[:12]}…, "
                               f"expected {expected_sha256[:12]}…): it was changed or damaged")
    return data
