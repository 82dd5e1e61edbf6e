"""What an inbound text asks for: opt out, opt in, help, a person, or nothing special.

Pure functions over the text. Errs towards opting out: since April 2025 the FCC requires an
opt-out made by any reasonable means to be honoured, so an ambiguous "stop" is a stop.
"""

from __future__ import annotations

import re

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"

OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
OPT_IN_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info"})
# "STOP please", "stop!! now": these keywords lead a short message and still mean stop.
# CANCEL, END and QUIT also start ordinary sentences ("cancel my appointment"), so not them.
LEADING_OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "optout", "revoke"})
MAX_WORDS_AFTER_KEYWORD = 4
NOT_A_STOP = re.compile(r"^stop (?:by|in|over|at|on)\b")

PLAIN_OPT_OUT = re.compile(
    r"\bstop (?:texting|messaging|contacting|sending|calling|txting|texts?|messages)\b"
    r"|\b(?:remove|delete|take) (?:me|my number)\b"
    r"|\bunsubscribe me\b|\bopt (?:me )?out\b"
    r"|\bwrong (?:number|person|phone)\b"
    r"|\b(?:dont|do not|never) (?:text|message|contact|txt|sms) me\b"
    r"|\bno more (?:texts|messages|txts)\b"
    r"|\bleave me alone\b|\blose my number\b"
)

# Reasons the AI must hand the conversation to a person at once.
ASKS_FOR_PERSON = "asked_for_person"
ANGRY = "angry"
ASKS_PRICE = "asked_about_price"
_PERSON = re.compile(
    r"\b(?:real|actual|live) (?:person|human)\b|\b(?:talk|speak) (?:to|with) (?:a|an|the|some)"
    r"\w*\b|\bcall me\b|\bhuman\b|\bis this a (?:bot|robot|machine)\b|\bare you a (?:bot|robot)\b"
    r"|\bmanager\b|\bowner\b|\bsomeone (?:call|phone)\b"
)
_ANGRY = re.compile(
    r"\bridiculous\b|\bunacceptable\b|\bfurious\b|\bangry\b|\bpissed\b|\bscam\w*\b"
    r"|\bwtf\b|\bf+u+c+k\w*|\bsh[i1]t\w*|\bdamn\b|\bcomplain\w*|\blawyer\b|\brip(?:ped)? off\b"
)
_PRICE = re.compile(
    r"\bhow much\b|\bprice\w*\b|\bpricing\b|\bcost\w*\b|\bquote\w*\b|\bestimate\w*\b"
    r"|\brates?\b|\bcharge[sd]?\b|\bfees?\b|\$"
)


def normalise_text(body: str) -> str:
    """Lower case, apostrophes dropped, other punctuation to spaces, whitespace collapsed."""
    text = body.lower().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9$ ]+", " ", text).split())


def keyword_of(body: str, *, opted_out: bool) -> str | None:
    """OPT_OUT, OPT_IN, HELP, or None for an ordinary reply.

    YES re-opts-in only someone who is opted out: to everyone else it answers a question.
    """
    text = normalise_text(body)
    words = text.split()
    if not words:
        return None
    if len(words) == 1:
        word = words[0]
        if word in OPT_OUT_WORDS:
            return OPT_OUT
        if word in OPT_IN_WORDS or (word == "yes" and opted_out):
            return OPT_IN
        if word in HELP_WORDS:
            return HELP
    if text in ("stop all", "opt out"):
        return OPT_OUT
    if (
        words[0] in LEADING_OPT_OUT_WORDS
        and len(words) <= 1 + MAX_WORDS_AFTER_KEYWORD
        and not NOT_A_STOP.match(text)
    ):
        return OPT_OUT
    if PLAIN_OPT_OUT.search(text):
        return OPT_OUT
    return None


def hand_off_trigger(body: str) -> str | None:
    """Why a person must answer this text instead of the AI, or None."""
    text = normalise_text(body)
    if _PERSON.search(text):
        return ASKS_FOR_PERSON
    if _ANGRY.search(text) or body.count("!") >= 3 or _shouting(body):
        return ANGRY
    if _PRICE.search(text):
        return ASKS_PRICE
    return None


def _shouting(body: str) -> bool:
    letters = [c for c in body if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.8
