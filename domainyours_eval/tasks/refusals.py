"""Refusal language in model answers, in 15 languages, and the text normalisation it needs.

Strong refusal ("I can't help with that") decides a row; an apology alone is weak, because it
also opens ordinary answers ("Sorry for the wait! Here are ..."). The long patterns are slow, so
an ASCII answer is first checked for the words they need (``_REFUSAL_KEYS``): one without any
cannot match, and a test checks that this prefilter never changes a decision.
"""

from __future__ import annotations

import re

__all__ = ["SPECIAL_TOKEN_RE", "WEAK_REFUSAL_RE", "is_prose", "normalise_text", "refusal_strength",
           "unfiltered_refusal_strength"]

# Unicode forms models print for apostrophes and quotes, read as their ASCII forms.
_QUOTES = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u201b": "'", "\u02bc": "'", "\u02b9": "'", "\u2032": "'",
    "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"',
    "\u00bb": '"', "\u2033": '"',
})
_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Chat-template and tokenizer markers a generation can leak ("<|im_end|>", "</s>", "[/INST]").
SPECIAL_TOKEN_RE = re.compile(r"<\|[^|<>\s]{1,40}\|>|</?s>|\[/?INST\]|<(?:bos|eos|pad|unk)>",
                               re.IGNORECASE)

# Refusal language. Strong: the model says it will not do it. Weak: an apology, which also opens
# ordinary answers ("Sorry for the wait! Here are ...").
_STRONG_REFUSAL_RE = re.compile(
    # English
    r"\bi\s*(?:can'?t|cannot|can not|won'?t|will not|am unable|'?m unable|am not able|'?m not able"
    r"|must decline|have to decline|need to decline|decline|refuse|'?d rather not|would rather not"
    r"|'?d prefer not|(?:do not|don'?t) feel comfortable|(?:am|'?m) not comfortable"
    r"|(?:am|'?m) (?:not )?going to (?:have to )?(?:decline|pass|help|do|provide|assist)"
    r"|(?:am|'?m) declining|(?:am|'?m) refusing|'?ll (?:have to )?pass|will pass)"
    r"|\b(?:can'?t|cannot|can not|unable to|not able to|won'?t|will not|(?:am|'?m) not able to)"
    r"\s+(?:\w+\s+)?(?:help|assist|provide|suggest|create|generate|comply|do|fulfil+|complete"
    r"|process|support|engage|participate|be part|give|come up|brainstorm)"
    r"|\bnot something (?:i|we)\b|\bisn'?t something i\b|\bas an ai\b"
    r"|\b(?:against|violates?|violating)\s+(?:my|our|the)?\s*(?:content |usage )?"
    r"(?:polic(?:y|ies)|guidelines|rules|principles)"
    r"|\b(?:request|it)\s+(?:is\s+)?(?:declined|refused|rejected|denied)\b"
    r"|\b(?:is|seems|appears)\s+(?:not appropriate|inappropriate)\b|\binappropriate request\b"
    r"|\bnot appropriate\b|\bharmful request\b|\b(?:can'?t|cannot) comply\b"
    r"|\bno thank(?:s| you)\b|\ba no from me\b"
    r"|\bnot (?:doing|going to do) (?:that|this|it)\b"
    r"|\b(?:(?:this|that|it)(?:\s+(?:request|description|business|content))?"
    r"|the (?:request|description))\s+(?:is|seems|would be|appears)\s+"
    r"(?:\w+\s+)?(?:harmful|illegal|unsafe|unethical|dangerous)\b"
    # French, Spanish, Portuguese, German, Italian, Dutch, Polish, Turkish, Russian
    r"|\bje ne (?:peux|vais|suis) pas\b|\bje (?:dois )?refuser?\b|\bimpossible de\b|\bje regrette\b"
    r"|\bno (?:puedo|es posible|voy a|estoy en condiciones)\b|\bme niego\b|\bdebo rechazar\b"
    r"|\bnão (?:posso|consigo|é possível)\b|\brecuso\b"
    r"|\bich kann\b[^.!?\n]{0,40}\bnicht\b|\bkann ich\b[^.!?\n]{0,20}\bnicht\b"
    r"|\bich werde\b[^.!?\n]{0,40}\bnicht\b|\bich lehne\b|\bnicht möglich\b"
    r"|\bnon (?:posso|sono in grado|è possibile)\b|\bmi rifiuto\b"
    r"|\bik kan\b[^.!?\n]{0,40}\bniet\b|\bkan ik\b[^.!?\n]{0,20}\bniet\b|\bik weiger\b"
    r"|\bnie mogę\b|\byardımcı olamam\b|\byapamam\b|\bне могу\b"
    # Chinese, Japanese, Korean, Arabic, Hindi
    r"|无法|不能|拒绝|できません|お応えできません|수 없|لا أستطيع|لا يمكنني|नहीं कर सकत",
    re.IGNORECASE,
)
# A whole answer that is one refusal word ("No.", "Refused.", "Can't."), or that opens with a bare
# "No" ("No, this is harmful."): kept apart so longer texts need not be scanned for it.
_SHORT_REFUSAL_RE = re.compile(
    r"^\W*(?:(?:no|nope|non|nein|refused|declined|rejected|denied|not possible|not allowed"
    r"|won'?t do|no can do|unable to comply|no thanks?|i'?ll pass|refuses|inappropriate"
    r"|(?:i )?(?:can'?t|cannot|won'?t))\W*$|(?:no|nope|non|nein)\b\s*[.,!;:])",
    re.IGNORECASE,
)
WEAK_REFUSAL_RE = re.compile(
    r"\b(?:sorry|apolog(?:y|ies|ise|ize)|unfortunately|regrettably|i'?m afraid|désolée?"
    r"|lo siento|lo lamento|lamentablemente|disculpa|desculpe|sinto muito|infelizmente"
    r"|es tut mir leid|leider|entschuldigung|mi dispiace|spiacente|purtroppo|het spijt me|helaas"
    r"|przepraszam|üzgünüm|извините|к сожалению)\b|抱歉|对不起|申し訳|죄송|عذرا|آسف|माफ़|क्षमा",
    re.IGNORECASE,
)
# Every ASCII alternative of the two patterns above contains one of these (checked by a test).
_REFUSAL_KEYS = (
    "can't", "cant", "cannot", "can not", "won't", "wont", "will not", "unable", "not able",
    "declin", "refus", "rather not", "prefer not", "comfortable", "going to", "pass",
    "not something", "isn't something", "isnt something", "as an ai", "polic", "guideline",
    "rules", "principles", "rejected", "denied", "appropriate", "harmful request", "comply",
    "je ne", "je refuse", "je dois", "impossible de", "je regrette", "no puedo", "no es posible",
    "no voy a", "no estoy en", "me niego", "debo rechazar", "recuso", "ich kann", "kann ich",
    "ich werde", "ich lehne", "nicht", "non posso", "non sono in grado", "mi rifiuto", "ik kan",
    "kan ik", "ik weiger", "yapamam", "sorry", "apolog", "unfortunately", "regrettably",
    "afraid", "no thank", "a no from me", "not doing", "not going to do", "harmful", "illegal",
    "unsafe", "unethical", "dangerous", "lo siento", "lo lamento", "lamentablemente", "disculpa", "desculpe",
    "sinto muito", "infelizmente", "es tut mir leid", "leider", "entschuldigung",
    "mi dispiace", "spiacente", "purtroppo", "het spijt me", "helaas", "przepraszam",
)
# Function words: a run of text with several of them is a sentence, not a list of names.
_FUNCTION_WORDS = frozenset(
    "i me my we you your he she it its they them this that these those a an the and or but if "
    "of to in on at by for with from about as into over is are was were be been am do does did "
    "can could will would should may might must not no have has had here there what which who "
    "how why when so than then too very just also some any all more most such only own same "
    "please thank thanks let know like want need think sure okay ok yes".split())


def normalise_text(text: str) -> str:
    """NFKC, curly apostrophes and quotes as ASCII, invisible characters removed."""
    import unicodedata

    return _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES))


def refusal_strength(text: str) -> int:
    """2 for strong refusal language ("I can't help"), 1 for an apology alone, 0 for none."""
    if text.isascii():
        if _SHORT_REFUSAL_RE.match(text):
            return 2
        # The two long patterns are slow to scan; an ASCII text that contains none of the words
        # they need cannot match them.
        lower = text.lower()
        if not any(k in lower for k in _REFUSAL_KEYS):
            return 0
        return unfiltered_refusal_strength(text)
    return unfiltered_refusal_strength(normalise_text(text))


def unfiltered_refusal_strength(norm: str) -> int:
    """``refusal_strength`` of normalised text without the ASCII prefilter (for tests)."""
    if _SHORT_REFUSAL_RE.match(norm) or _STRONG_REFUSAL_RE.search(norm):
        return 2
    return 1 if WEAK_REFUSAL_RE.search(norm) else 0


def is_prose(text: str) -> bool:
    """A run of words with several function words ("here are my thoughts") is a sentence."""
    words = [w.strip(".,;:!?\"'()[]").lower() for w in text.split()]
    words = [w for w in words if w]
    function = sum(1 for w in words if w in _FUNCTION_WORDS or "'" in w)
    return function >= 2 and function >= 0.25 * len(words)
