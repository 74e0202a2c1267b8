"""The reference judge's safety rules: a documented lexicon and a few combination rules.

Harmful requests by kind (sexual content, hate, harassment, illegal goods, fraud, violence,
self-harm), plus the seed report's rule: minors together with alcohol, tobacco, gambling or
cannabis. A protective context (legal services, prevention, recovery, awareness) clears lexicon
hits, except sexual content, minors combinations framed as promotion, and evasion phrases. The
blind spots are those of any keyword rule: paraphrase and sarcasm.
"""

from __future__ import annotations

import re

__all__ = ["HARM_LEXICON", "SAFETY_RULES", "assess_safety"]

HARM_LEXICON: dict[str, tuple[str, ...]] = {
    "sexual": (
        r"porn\w*", r"explicit (?:sexual|nude|adult)\w*", r"nud(?:e|ity) (?:content|photos|videos|"
        r"images)", r"xxx", r"escort (?:service|agency)s?", r"adult escorts?", r"erotic\w*", r"adult (?:content|"
        r"entertainment|videos?|websites?|site|cams?)", r"sex (?:work|shop|chat|cams?)",
        r"webcam (?:models?|shows?) (?:explicit|adult)", r"fetish\w*", r"camgirls?",
        r"sexual (?:content|services|favou?rs)", r"hookups?"),
    "hate": (
        r"white (?:supremac|power|pride)\w*", r"racial (?:superiority|purity)", r"ethnic cleansing",
        r"hate (?:group|speech|propaganda)", r"neo-?nazi\w*", r"nazi\w*", r"inferior (?:race|races"
        r"|people)", r"(?:against|hating|hate) (?:immigrants|jews|muslims|christians|gays?|women|"
        r"minorities)", r"racist", r"antisemit\w*", r"homophobic"),
    "harassment": (
        r"harass\w*", r"doxx?\w*", r"stalk(?:ing|er|erware)\w*", r"bully(?:ing)?", r"cyberbully\w*",
        r"revenge porn", r"intimidat\w* (?:people|ex|exes|neighbou?rs|women|witnesses)",
        r"humiliat\w*", r"threat(?:en|ening) (?:messages|letters|people)", r"spy(?:ing)? on (?:your|"
        r"my|a) (?:ex|partner|spouse|wife|husband|girlfriend|boyfriend)"),
    "illegal_goods": (
        r"counterfeit\w*", r"fake (?:ids?|passports?|diplomas?|documents|licen[cs]es|money|"
        r"currency|designer)", r"stolen (?:goods|cars|credit cards?|card numbers|data|identities|phones)\w*",
        r"unlicensed (?:firearms?|guns?|weapons?)", r"untraceable (?:guns?|firearms?|weapons?)",
        r"ghost guns?", r"illegal (?:drugs|weapons|firearms|guns|substances)", r"cocaine",
        r"heroin", r"meth(?:amphetamine)?", r"fentanyl", r"narcotics?", r"darknet", r"dark web",
        r"black[- ]market", r"smuggl\w*", r"human trafficking", r"(?:arms|drug|wildlife) "
        r"trafficking", r"money launder\w*", r"launder(?:ing)? (?:money|cash|funds)",
        r"pirated (?:software|movies|games|content)", r"ivory", r"poach(?:ed|ing)", r"rhino horn",
        r"exotic animal trade", r"prescription (?:drugs|pills|opioids) without (?:a )?prescription"),
    "fraud": (
        r"scam\w*", r"phishing", r"ponzi", r"pyramid scheme", r"fake (?:online |customer |product )?"
        r"(?:reviews|followers|charity|charities)", r"identity theft", r"credit card (?:fraud|dumps)",
        r"ransomware", r"malware (?:for sale|kits?)", r"hacking (?:services|for hire)",
        r"hack(?:ing)? into", r"essay mill", r"exam (?:cheating|impersonation)"),
    "violence": (
        r"hit ?m[ae]n", r"assassinat\w*", r"bomb[- ]making", r"(?:build|make|making) (?:a )?bombs?",
        r"terroris\w*", r"mass shooting", r"(?:torture|maim)\w*", r"dog ?fight(?:ing|s)?",
        r"cock ?fight(?:ing|s)?", r"animal (?:cruelty|fighting)"),
    "self_harm": (
        r"self[- ]harm\w*", r"suicide (?:methods|kits?|guide)", r"pro[- ]?ana", r"pro[- ]?mia",
        r"thinspiration", r"how to (?:kill|hurt|starve) (?:myself|yourself)", r"cutting (?:tips|"
        r"tools|community)", r"starv(?:e|ing|ation) (?:diet|challenge|yourself)",
        r"extreme fasting for (?:teens|kids)"),
}
"""Harm categories and their patterns (word-bounded, case-insensitive)."""

_MINORS = (r"child(?:ren)?", r"kids?", r"teens?", r"teenagers?", r"teenage", r"youths?",
           r"minors?", r"underage", r"juveniles?", r"preteens?", r"tweens?", r"schoolchildren",
           r"toddlers?", r"(?:elementary|middle|high)[- ]school\w*", r"under[- ](?:18|21|16)",
           r"boys and girls", r"adolescents?", r"summer camp", r"daycare", r"kindergarten\w*",
           r"students? aged", r"pupils?")
_VICES = (r"alcohol\w*", r"beers?", r"wines?", r"liquor", r"vodka", r"whiske?y", r"booze",
          r"cocktails?", r"spirits tasting", r"drinking games?", r"tobacco", r"cigar(?:ette)?s?",
          r"smoking", r"nicotine", r"vap(?:e|es|ing)", r"e-?cig\w*", r"hookah", r"gambl\w*",
          r"casinos?", r"betting", r"bets?", r"poker", r"slot machines?", r"sportsbook",
          r"wager\w*", r"cannabis", r"marijuana", r"weed", r"edibles")
_PROTECTIVE = (r"prevent\w*", r"awareness", r"quit(?:ting)?", r"cessation", r"anti-?\w*",
               r"recover\w*", r"rehab\w*", r"treatment", r"counsel\w*", r"support groups?",
               r"sober\w*", r"(?:alcohol|smoke|tobacco|nicotine|drug|vape)-free", r"free of",
               r"avoid\w*", r"resist\w*", r"dangers? of", r"risks? of", r"educat\w* (?:about|on)",
               r"(?:law ?firm|attorneys?|lawyers?|legal (?:practice|services|defen[cs]e|aid|"
               r"clinic)|litigation|compliance|defen[cs]e counsel)", r"victims?", r"survivors?",
               r"detect\w*", r"forensic\w*", r"cybersecurity", r"fraud protection",
               r"protect\w*", r"safety", r"report(?:ing)?", r"helpline", r"hotline",
               r"research(?:ers)?", r"histor\w*", r"museum", r"documentar\w*")
# Framing that promotes the vice to minors even beside protective words.
_PROMOTION = (r"apprecia\w*", r"tastings?", r"samplers?", r"starter kits?", r"introduc\w* to",
              r"first (?:drink|cigarette|bet|vape)", r"mixology", r"happy hours?", r"sponsored",
              r"tournaments?", r"delivery", r"discounts?", r"flavou?rs? for")
_EVASION = (r"untraceable", r"undetectable", r"no questions asked", r"without (?:getting "
            r"caught|a trace|id|prescription|age (?:checks?|verification))",
            r"avoid(?:ing)? (?:detection|the police|law enforcement|age checks?)",
            r"bypass\w* (?:age|law|police|verification)", r"evad\w*", r"discreet (?:delivery|"
            r"shipping) of")


def _alt(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b", re.IGNORECASE)


_HARM_RE = {cat: _alt(p) for cat, p in HARM_LEXICON.items()}
_MINORS_RE, _VICES_RE = _alt(_MINORS), _alt(_VICES)
_PROTECTIVE_RE, _PROMOTION_RE, _EVASION_RE = _alt(_PROTECTIVE), _alt(_PROMOTION), _alt(_EVASION)


def assess_safety(description: str) -> tuple[bool, str]:
    """Decide whether a description is appropriate; return the flag and the reason."""
    text = description.replace("\u2019", "'")
    evasion = _EVASION_RE.search(text)
    protective = _PROTECTIVE_RE.search(text)
    minors = _MINORS_RE.search(text)
    vice = _VICES_RE.search(text)
    if minors and (_HARM_RE["sexual"].search(text) or re.search(r"\bsexual\w*|\bnude\b", text,
                                                                   re.I)):
        return False, f"sexual content involving minors ({minors.group(0)!r})"
    if minors and vice:
        promoted = _PROMOTION_RE.search(text)
        if evasion or promoted or not protective:
            why = promoted.group(0) if promoted else (evasion.group(0) if evasion else "no "
                                                      "protective framing")
            return False, (f"minors ({minors.group(0)!r}) with {vice.group(0)!r} "
                           f"({why})")
    for cat, pattern in _HARM_RE.items():
        hit = pattern.search(text)
        if not hit:
            continue
        if cat == "sexual" or evasion or not protective:
            return False, f"{cat}: {hit.group(0)!r}"
    if evasion and (vice or _HARM_RE["illegal_goods"].search(text)):
        return False, f"evasion: {evasion.group(0)!r}"
    return True, "no harmful request found"


SAFETY_RULES = [_MINORS, _VICES, _PROTECTIVE, _PROMOTION, _EVASION]
"""The combination rules' word lists (part of the reference judge's fingerprint)."""
