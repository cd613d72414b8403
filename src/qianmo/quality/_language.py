"""`language`: a Han-character rule first (zh / mul), lingua with few languages for the rest.

lingua with all 75 languages loaded handled about 1,000 short texts/s in 900 MB; with only
the languages a corpus holds it is about 50× faster, and the Han share separates Chinese
from English almost perfectly at a fraction of that cost. Likewise long ASCII-only prose is
English when every other configured language writes with letters beyond ASCII.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import Field

from qianmo.errors import QianmoError
from qianmo.quality._fields import texts
from qianmo.quality._step import Step, StepOptions, Verdict, register_step, set_flag
from qianmo.quality._text import han_share
from qianmo.standard import Record

SAMPLE_CHARS = 2000  # for the Han share: cheap
LINGUA_CHARS = 400  # lingua (trigrams) is reliable past ~120 characters; 2,000 took 5× longer


class LanguageOptions(StepOptions):
    languages: list[str] = Field(
        default_factory=lambda: ["en", "ru", "de", "fr", "es", "pt", "ja", "ko", "vi"],
        description="ISO 639-1 codes lingua may answer with (besides the zh rule).",
    )
    zh_share: float = Field(0.7, ge=0, le=1, description="Han share at or above which text is zh")
    mixed_share: float = Field(0.15, ge=0, le=1, description="Han share at or above which: mul")
    min_confidence: float = Field(0.5, ge=0, le=1, description="below: keep the record's lang")
    min_chars: int = Field(20, ge=0, description="shorter text keeps a lang it already has")
    # lingua's high-accuracy models took 5.4 s to load here and detect 2.5× slower; trigram
    # models alone load in 0.4 s and are reliable on texts over ~120 characters.
    low_accuracy: bool = Field(True, description="lingua's low accuracy mode (trigrams only)")
    ascii_english: int = Field(
        300,
        ge=0,
        description="letters of ASCII-only text that make it en without lingua, when every "
        "other configured language writes with letters beyond ASCII (0: off)",
    )


# Languages whose text of a few hundred letters practically always holds letters beyond
# ASCII (German ä/ö/ü/ß ≈ 1.8 % of letters, so P(none in 300) ≈ e⁻⁵·⁴; French, Spanish and
# Portuguese accents more often still; the others are other scripts). Dutch, Indonesian or
# Swahili are not here: with one of them configured the rule is off.
_BEYOND_ASCII = frozenset(
    {"de", "fr", "es", "pt", "vi", "pl", "cs", "sk", "sl", "hr", "ro", "hu", "tr", "is", "da"}
    | {"no", "nb", "nn", "sv", "fi", "et", "lv", "lt", "ru", "uk", "be", "bg", "sr", "mk", "el"}
    | {"ja", "ko", "zh", "ar", "fa", "ur", "he", "hi", "bn", "ta", "te", "th", "ka", "hy"}
)
_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))


def _ascii_english(sample: str, options: LanguageOptions) -> bool:
    """Plain ASCII prose, long enough, when only English among the languages writes so."""
    if not options.ascii_english or not sample.isascii():
        return False
    others = set(options.languages) - {"en"}
    if "en" not in options.languages or not others <= _BEYOND_ASCII:
        return False
    raw = sample.encode()
    return len(raw) - len(raw.translate(None, _ASCII_LETTERS)) >= options.ascii_english


@cache
def _detector(codes: tuple[str, ...], low_accuracy: bool) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    try:
        isos = [getattr(IsoCode639_1, c.upper()) for c in codes]
    except AttributeError as e:
        raise QianmoError(f"lingua does not know language {e.name!r}", field="languages") from e
    if len(isos) == 1:
        # lingua needs two languages to choose between
        isos.append(IsoCode639_1.EN if isos[0] != IsoCode639_1.EN else IsoCode639_1.DE)
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


def detect(text: str, options: LanguageOptions) -> tuple[str, float, str]:
    """(language, confidence, method) for a text."""
    sample = text[:SAMPLE_CHARS]
    share = han_share(sample)
    if share >= options.zh_share:
        return "zh", round(share, 3), "han-share"
    if share >= options.mixed_share:
        return "mul", round(1 - abs(share - 0.5), 3), "han-share"
    if _ascii_english(sample, options):
        # lingua took ~1 ms per English text here, more than all other steps together
        return "en", 1.0, "ascii-rule"
    detector = _detector(tuple(options.languages), options.low_accuracy)
    values = detector.compute_language_confidence_values(sample[:LINGUA_CHARS])
    if not values:
        return "und", 0.0, "lingua"
    top = values[0]
    return top.language.iso_code_639_1.name.lower(), round(float(top.value), 3), "lingua"


@register_step
class Language(Step):
    name = "language"
    Options = LanguageOptions

    def process(self, record: Record) -> Verdict:
        options = self.options
        assert isinstance(options, LanguageOptions)
        text = "\n".join(texts(record))
        if len(text.strip()) < options.min_chars and record.lang != "und":
            return Verdict()
        lang, confidence, method = detect(text, options)
        if lang == "und" or confidence < options.min_confidence:
            return Verdict()
        if lang == record.lang:
            # agreeing costs no new version: on a clean corpus that is nearly every record
            return Verdict()
        before = record.lang
        record.lang = lang
        info = {"resolved": True, "lang": lang, "confidence": confidence, "method": method}
        set_flag(record, "language", info)
        detail = {"lang": lang, "was": before, "confidence": confidence}
        return Verdict(changed=True, detail=detail)
