"""Which topic is a message about? A scorer built once from the knowledge base.

Every topic and every out-of-scope class collects *evidence* from a message:

* keywords from the YAML: a single word counts 1 (``weak_keywords`` 0.4), a
  phrase counts more (1.5 for two words, 2 for longer ones); words are compared
  by their light stems, phrases as stemmed word sequences (stop words kept, so
  "what is it" or "does it hurt" can be keywords);
* the vocabulary of the class's example questions, weighted by how specific a
  word is (a word used by one class only counts more than one used by five);
* closeness to the best example question, measured with rapidfuzz's
  token-sort ratio on content words only (never ``WRatio`` over
  whole questions, which scores ~85 for any pair sharing one word);
* for topics only, a small bonus when the message names reflexology or feet
  at all (``domain_words``), so "reflexology" tips a message towards the
  topics and away from the out-of-scope classes.

A few *frames* (the shape of the question rather than its subject) then decide
between topics that share the same subject words; see ``FRAMES``. A condition
plus "can I still have it?" is a safety question whatever the condition, "should I
see someone?" is medical advice whatever hurts, "walk me through ..." asks for a
routine even before bed, and "which part of the foot is ..." asks for the map.

Out-of-scope classes (shoes, weather, recipes, code...) compete with the topics:
when they hold more evidence than the best topic, the message is out of scope.
Greetings win only when no other topic has real evidence ("hi, does it help
sleep?" is about sleep). Evidence becomes a 0-100 score with
``100 * (1 - exp(-evidence / SCALE))``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.core.knowledge import Knowledge
from bot.core.normalize import STOP_WORDS, Normalizer, clean, stem

GREETING = "greeting"
OOS_PREFIX = "oos:"

# Messages are cut to this many characters before matching (keeps it fast).
MAX_CHARS = 600

KEYWORD_WEIGHT = 1.0
WEAK_WEIGHT = 0.4
PHRASE_WEIGHTS = {2: 1.5}  # words in the phrase -> weight; longer phrases get LONG_PHRASE
LONG_PHRASE = 2.0
QUESTION_WORD_WEIGHT = 0.45  # divided by how many classes use the word
DOMAIN_BONUS = 0.45
SIMILARITY_FLOOR = 55.0  # below this, closeness to an example adds nothing
SIMILARITY_WEIGHT = 0.8  # added for an exact match with an example
# Examples and the query are both sorted, space-joined stems, so plain ``ratio`` gives
# exactly ``token_sort_ratio``'s score without re-sorting 300 examples per message.
SIMILARITY_SCORER = fuzz.ratio
SCALE = 1.4

# Bands on the 0-100 score (used by the companion).
ANSWER_AT = 45.0
CLARIFY_AT = 30.0
# A greeting needs no more than this much evidence in any other topic to win.
GREETING_YIELDS_AT = 0.9
# ... and at least this share of the greeting's own evidence.
GREETING_SHARE = 0.5


# --- Frames --------------------------------------------------------------------
# Regular expressions over the message's normalised words (see normalize.clean:
# "it is" -> "its", "i am" -> "im", "can not" -> "cant").

_WHO = (
    r"(?:i|we|he|she|they|you|my \w+|someone|people|anyone|one|"
    r"(?:the|his|her|their|our|my) (?:carers?|nurses?|staff)(?: at (?:the|his|her|their) "
    r"(?:care )?home)?)"
)
# "can I (still) have it", "is it ok/safe", "ok for me", "should I avoid it"
PERMISSION = re.compile(
    rf"\b(?:can|could|may|should|shall) {_WHO} (?:still |safely |even |also |ever )?"
    r"(?:have|get|do|try|book|go for|receive|keep|continue|carry on|use|go|be treated)\b"
    r"|\b(?:is|its|would|will|was) (?:it|this|that|reflexology|foot reflexology|"
    r"(?:a )?(?:firm |deep |gentle |hard |strong |vigorous )?foot massage|a foot rub|"
    r"a session|massage|it still|reflexology still) "
    r"(?:still |even |really |be |actually )?"
    r"(?:ok|okay|safe|alright|fine|wise|advisable|risky|dangerous|harmful|a good idea|"
    r"a bad idea|allowed|a problem|an issue|suitable)\b"
    r"|\bits (?:still )?(?:ok|okay|safe|alright|fine)\b"
    r"|\b(?:ok|okay|safe|alright|fine|suitable|allowed|good) (?:to|for) (?:me|him|her|them|us|"
    r"have|get|do|go|book|try|use|someone|people|anyone|somebody)\b"
    r"|\bshould (?:i|we|he|she|they) (?:avoid|skip|wait|stay away|postpone|cancel|hold off)\b"
    r"|\b(?:any|a|is there a|what) risks?\b|\bsafe (?:with|after|during|while|if|when)\b"
)
# "instead of my tablets": that is medical advice, not safety
REPLACING = re.compile(
    r"\b(?:instead of|rather than|replace|replacing|substitute|alternative to|stop taking|"
    r"come off|coming off|swap\w*|ditch\w*|quit\w*|give up|giving up|drop|dropping|skip\w*|"
    r"stop|stopping|cut out|alongside|on top of|together with|without|id rather|would rather|"
    r"(?:dont|wont|not|no longer|never) (?:need|have to take)|"
    r"(?:cut|reduce|lower|halve|drop) (?:\w+ ){0,2}(?:dose|dosage))\b"
)
# "should I see someone", "time to see a doctor"
PROFESSIONAL = (
    r"(?:doctor|doc|gp|dr|physio|physiotherapist|specialist|professional|expert|consultant|"
    r"physician|nurse|podiatrist|pharmacist|medic|osteopath|chiropractor|someone|somebody|"
    r"anyone|a pro)"
)
SEE_SOMEONE = re.compile(
    rf"\b(?:see|visit|consult|ask|call|check with|talk to|speak to|get (?:it )?checked by) "
    rf"(?:a |an |my |the |your |another |other |some |a real |a proper )?{PROFESSIONAL}\b"
    r"|\b(?:see|try) (?:someone|somebody) else\b"
    r"|\bget (?:it |this |them )?(?:checked|looked at|seen to)\b"
    rf"|\b(?:do|should|would|will) (?:i|we|he|she|they) need (?:a |an |to see a |to see an )?"
    rf"{PROFESSIONAL}\b"
)
NOT_IMPROVING = re.compile(
    r"\b(?:hasnt|havent|isnt|wasnt|arent|not|no|didnt|doesnt|dont|never|still not) "
    r"(?:improv\w*|getting better|got better|get better|gone|going away|gone away|better|"
    r"shifted|budged|eased|helped|helping|changed|working|worked)\b"
    r"|\b(?:getting|got|gotten|still) worse\b|\bno (?:change|difference|improvement)\b"
    r"|\b(?:despite|lasted|keeps coming back|wont go away|not going away|still (?:hurts|hurting|"
    r"sore|aching|painful|there|bad|the same))\b"
)
WHAT_NEXT = re.compile(
    r"\b(?:should i|shall i|what should|what now|what next|what do i do|what can i do|"
    r"do i need|is it time|time to|who should|where should)\b"
)
# "ditch my painkillers for it": replacing a medical treatment is medical advice
MEDICINE = re.compile(
    r"\b(?:meds|medication|medications|medicine|medicines|pills|tablets|painkillers|inhaler|"
    r"insulin|chemo\w*|radiotherapy|treatment|treatments|prescription|antidepressants|"
    r"doctor|doctors|gp|physio\w*|surgery|operation|drugs|antibiotics|steroids|statins|"
    r"vaccine|therapy|specialist|hospital|jabs?|injections?|dentist|metformin|levothyroxine|"
    r"warfarin|blood thinners|beta blockers|ibuprofen|paracetamol|painkiller|sertraline|"
    r"creams?|steroid cream|ointments?)\b"
)
# "what dose of melatonin with it", "how many paracetamol is too many": a dose is a
# question for a doctor or pharmacist (medical advice), asked in a reflexology chat.
DOSE = re.compile(
    r"\b(?:what|which|how much of a|right|safe) (?:dose|dosage)\b"
    r"|\bhow (?:many|much) (?:\w+ ){1,2}is too (?:many|much)\b"
)
# "reflexology or the cream the doctor gave us": choosing it over a treatment
OR_TREATMENT = re.compile(
    r"\b(?:reflexology|foot massage|a foot massage|foot rubs?|it) or (?:the |my |our |his |her |"
    r"their |a )?(?:creams?|meds|medication|medicine|tablets|pills|inhaler|steroids?|"
    r"antibiotics|treatment|prescription)\b"
)
# "so i must have liver trouble": a diagnosis read from the feet
DIAGNOSED = re.compile(
    r"\b(?:so|means|meaning) (?:i|he|she|we|they|my \w+) (?:must|might|may|could) "
    r"(?:have|be getting)\b"
)
# "acupuncture vs reflexology": a comparison of two practices
COMPARING = re.compile(
    r"\b(?:vs|versus|or|compared|compare|difference|differ|different|same|anything like|"
    r"similar)\b"
)
PRACTICE = re.compile(
    r"\b(?:acupuncture|acupressure|shiatsu|reiki|thai massage|swedish massage|sports massage|"
    r"deep tissue|regular massage|normal massage|ordinary massage|massage|dry needling)\b"
)
# "walk me through a routine", "guide me", "something I can do now"
GUIDE_ME = re.compile(
    r"\b(?:lead|walk|talk|take|guide|coach|run|step) (?:me|us|my \w+) through\b"
    r"(?! (?:what|how|why|whether|the (?:science|evidence|research|history|theory|idea|"
    r"map|chart|costs?|prices?|risks?|benefits|studies))\b)"
    r"|\bguide me\b(?! (?:to|on) (?:a|the) (?:practitioner|reflexologist|map|chart)\b)"
    r"|\b(?:do|try) (?:it|one|this|a routine|something) (?:with me|together)\b"
    r"|\b(?:something|anything|stuff) (?:i can |to |we can )?(?:do|try) (?:right )?now\b"
    r"|\bshow me how to (?:do|massage|rub|press|work)\b"
)
# "is that basically what reflexology is", "what is it basically": asks what it is,
# whatever the quoted description names (organs, zones, massage).
IS_THAT_WHAT = re.compile(
    r"\bis (?:that|this) (?:basically |essentially |really |just |kind of |sort of |more or less |"
    r"roughly |pretty much )?what (?:its|(?:reflexology|it|foot reflexology|a reflexologist|"
    r"reflexologists) (?:is|does|do|means))\b(?! (?:for|about)\b)"
    r"|\bwhat(?:s| is) (?:it|reflexology|this|that) (?:basically|essentially|in a nutshell|"
    r"in simple terms|in plain english)\b"
)
# "my practitioner says it 'feeds your cells'. is that actually true?": a reported claim
# put to the test is an evidence question, whatever the claim names.
CLAIM_TRUE = re.compile(
    r"\b(?:says|said|say|claims?|claimed|told (?:me|us|her|him)|reckons|read|heard|wrote|"
    r"leaflet|website)\b.*\b(?:is|are) (?:that|this|any of (?:that|this)|those claims|"
    r"that claim|these claims) (?:actually |really |even |scientifically |at all )?(?:true|"
    r"correct|accurate|legit|right|backed up|proven)\b"
)
# "which part of the foot is the thyroid", "where on the sole is the liver"
_FOOT = r"(?:foot|feet|sole|soles|toe|toes|heel|heels|arch|instep)"
WHICH_PART = re.compile(
    rf"\b(?:which|what|wat) (?:part|spot|point|area|zone|bit|section|region|side|place|reflex|"
    rf"toe|pressure point)s? (?:of|on|in|under) (?:the |my |your |a |each )?{_FOOT}\b"
    rf"|\bwhere (?:on|in|under) (?:the |my |your |a )?{_FOOT}\b"
    r"|\b(?:which|what) (?:part|spot|point|area|zone|bit|toe)s? (?:is|are|matches|match|"
    r"corresponds?|relates?|links?|connects?|goes|is for|are for|for)\b"
)

# "can I still go / still have it" after a condition: a safety question even when
# the condition is other foot care ("got a fungal nail, can I still go").
STILL_GO = re.compile(
    rf"\b(?:can|could|should|may|shall) {_WHO} still (?:go|have|get|book|do|attend|keep)\b"
)
# "what is it good for?", "what good stuff / results": the benefits overview
GOOD_FOR = re.compile(
    r"\b(?:whats|what is|what are|what) (?:it|reflexology|this|that|foot reflexology|they) "
    r"(?:actually |even |really )?(?:good|useful|helpful|for)(?: for)?"
    r"(?: in general| generally| overall| then| exactly| anyway| thank you| thanks| ta)?$"
    r"|\bwhat (?:kind of |sort of |type of )?(?:good stuff|good things|results|positives|upsides)\b"
)
# "how is that meant to work", "how does it even work": the idea behind it
HOW_MEANT = re.compile(
    r"\bhow (?:is|does|do|would|could) (?:that|it|this|reflexology|they) "
    r"(?:(?:meant|supposed) to|even|actually|possibly) work\b"
)
# "what can it do", "what is it meant to help with", "what's in it for me": the
# benefits overview (unless a benefit is named, see NAMED_BENEFITS).
_IT = (
    r"(?:it|this|that|reflexology|foot reflexology|foot massage|a reflexologist|they|"
    r"the treatment|(?:foot )?pressure points|foot points|(?:a )?foot rubs?|"
    r"(?:a )?pressure point (?:foot )?massage)"
)
OVERVIEW = re.compile(
    r"\b(?:whats|what (?:kind of |sort of |type of )?(?:things? |stuff |conditions |problems )?"
    rf"(?:can|could|does|do|would|will|might|is|are)) {_IT} "
    r"(?:actually |really |even |supposedly |claim to |said to |meant to |supposed to |"
    r"claimed to |good at |able to |be able to )*(?:help|helps|treat|fix|achieve|offer|"
    r"do for (?:me|us|you|people|the body|my body|your body)|(?:be )?good for|improve)\b"
    rf"|\bwhat(?:s| is| are)? {_IT} (?:actually |really |even )?(?:supposed|meant) to do\b"
    r"(?! (?:to|with|about|at|during|if|when)\b)"
    r"|\b(?:which|what) (?:conditions|problems|ailments|illnesses|issues|health problems|"
    r"complaints) (?:do|does|can|could|will|would) (?:reflexologists?|practitioners?|"
    r"reflexology|it|they)(?: \w+)?(?: they| it)? (?:can |could )?(?:help|treat)\b"
    rf"|\bwhat (?:does|do|would|will|can|could|might) {_IT} (?:actually |really |even )?do for\b"
    rf"|\bwhat (?:kind of |sort of )?(?:things? |stuff )?(?:can|could|might) {_IT} "
    r"(?:actually |really |even |possibly )?do\b(?! to\b)"
    r"|\bwhat (?:effects?|impact|difference) (?:can|could|does|do|would|will|is|are) "
    rf"{_IT}\b"
    r"|\bwhat (?:are )?(?:the |its )?effects? (?:of (?:it|reflexology) )?on (?:the|my|your) body\b"
    rf"|\bin what ways? (?:can|could|would|might|does|will) {_IT}\b"
    r"|\b(?:rundown|overview|summary|list) of (?:what|the (?:benefits|upsides|pros))\b"
    r"|\b(?:whats|what is|what would be) in it for (?:me|us|you|them)\b"
    r"|\bwhat (?:would|will|do|does|could|can|might) (?:i|we|you|people|he|she|they|one) "
    r"(?:get|gain) (?:out of|from)\b"
    rf"|\bwhat good (?:does|would|will|can|could|is) {_IT}\b|\bwhy (?:bother|would i bother)\b"
    r"|\bwhat (?:kind of |sort of )?(?:it|reflexology|this) is (?:actually |even |really )?"
    r"good for\b"
    r"|\bwhat (?:sort of |kind of |type of )?(?:benefits?|upsides?|positives|improvements?|"
    r"results) (?:could|might|would|can|will|should|do|does) (?:i|we|you|he|she|they|people|"
    r"one|my \w+|it|reflexology|this) (?:expect|get|see|notice|gain|hope for|bring|offer|have)\b"
    r"|\bany (?:upsides?|benefits?|positives|plus points) (?:to|of|from|in) "
)
# "what else is it good for": the overview, whatever was said before it
WHAT_ELSE = re.compile(r"\bwhat else (?:is|can|could|does|might|would) ")
# "can reflexology help", "will it do anything", "is it any good for": a help question,
# which a named symptom or benefit turns into that topic's question.
HELP_ASK = re.compile(
    rf"\b(?:can|could|would|will|might|does|do|is|isnt|may) {_IT} "
    r"(?:actually |really |even |possibly |ever )?(?:help|helps|do anything|do something|"
    r"do any good|make (?:a|any) difference|ease|sort|fix|be good|be any good|any good|"
    r"good|work for|improve|do (?:much|owt|me good|it|the trick)|take the edge off)\b"
    r"|\b(?:help|helps|good|any good|useful|do) for (?:that|this|it)\b"
    r"|\bworth (?:a go|trying|a try)\b"
    r"|\b(?:beneficial|good|helpful|useful) for (?:the |my |your )?(?:circulation|sleep|"
    r"stress|anxiety|pain|headaches?|back|mood|energy)\b"
    r"|\b(?:bring|brings|get|gets) (?:\w+ )?down\b|\bquiet (?:it|them|things) down\b"
)
# "deep relaxation, is that what it is for": a named benefit asked as its purpose
WHAT_FOR = re.compile(r"\bwhat (?:its|(?:it|reflexology|this|that|foot reflexology) is) for\b")
# "circulation benefits of reflexology", "benefits of reflexology for sleep": a benefit
# named next to "benefits" picks that topic (see NAMED_BENEFITS).
BENEFITS_OF = re.compile(r"\b(?:benefits?|effects?|upsides?) (?:of|from|for)\b|\w+ benefits\b")
# A tip, pointer or hint for the user ("got a tip for me?"), not a tip about another
# subject ("a tip for my job interview") or the verb ("how much to tip a waiter").
TIP_ASK = re.compile(r"\b(?:tips?|pointers?|hints?)\b")
TIP_NOT = re.compile(
    r"\b(?:to|should (?:i|we|you)|do (?:i|we|you)|did (?:i|we|you)|i|we|you|much|always|"
    r"never) tip\b"
    r"|\btip (?:the|a|my|your|our|him|her|them) (?:waiter|waitress|driver|barber|"
    r"hairdresser|staff|server|delivery|cab|taxi|courier|bartender|cleaner|porter)\b"
    r"|\btips? of (?:my|the|your|his|her) (?:tongue|iceberg|nose|fingers?|toes?|big toe)\b"
    r"|\btipping\b|\b(?:thanks|thank you|ta) for (?:the|all the|your|those) tips\b"
)
# "share a random tip", "give me a tip": a plain request needs no anchor.
TIP_REQUEST = re.compile(
    r"\b(?:give|send|share|got|have|tell|hit|drop) (?:me |us )?"
    r"(?:a |an |another |one |some |your )?"
    r"(?:random |quick |daily |little |good |new |useful |handy |top )?(?:tip|pointer|hint)s?\b"
    r"(?! (?:for|on|about|with|regarding)\b(?! (?:me|us|today|tonight)\b))(?! (?:of|to) )"
    r"|\b(?:random|daily) tip\b|\btip of the day\b"
)
TIP_ABOUT = re.compile(
    r"\b(?:tips?|pointers?|hints?) (?:for|on|about|with|regarding) "
    r"(?:my |a |an |the |your |our )?(\w+)(?: (\w+))?"
)
# Things a reflexology tip may be for: the user, now, relaxing, sleep, the feet...
TIP_FOR = frozenset(
    stem(w)
    for w in """
    me us you him her them today tonight now morning evening day week beginner beginners
    newbie newbies relax relaxing relaxation calm calming unwind unwinding destress stress
    stressed sleep sleeping bed bedtime anxiety nerves headache headaches pain aches back
    circulation energy feet foot toes heel heels arch soles sole self reflexology massage
    rub rubbing wellbeing mood tired tiredness evenings mornings work desk home quick
    """.split()
)
# "step by step foot rub", "give me an exercise to calm down": a routine request.
ROUTINE_ASK = re.compile(
    r"\bstep by step\b(?! (?:guide to|explanation of|how it works))"
    r"|\b(?:an|a quick|a short|a little|a simple|an easy|quick|short|simple|easy|some|one|"
    r"a breathing|any) (?:exercise|exercises|drill|drills|self massage|routine)\b"
    r"(?! (?:good|better|bad|safe|ok|okay|or|vs|instead)\b)"
)
# "an exercise to calm down", "a routine to wind down before bed": asked for by its aim.
ROUTINE_FOR = re.compile(
    r"\b(?:exercise|exercises|routine|routines|drill|drills|self massage)s? (?:to|for|that) "
    r"(?:help (?:me |us )?)?(?:calm|relax|wind down|unwind|de ?stress|sleep|settle|switch off|"
    r"chill|get to sleep|drop off|soothe|ease|my feet|the feet|tired feet|bedtime|before bed)"
)
# "doctor or reflexologist first?": who to see first is medical advice.
_PRO = (
    r"(?:doctor|doc|gp|dentist|physio|physiotherapist|specialist|consultant|osteopath|"
    r"chiropractor|podiatrist|nurse|pharmacist)"
)
WHO_FIRST = re.compile(
    rf"\b{_PRO} (?:first |1st )?or (?:go |going )?(?:straight )?(?:to )?(?:a |the |my )?"
    r"(?:reflexologist|reflexology|foot massage)\b"
    r"|\b(?:reflexologist|reflexology) (?:first |1st )?or (?:go |going )?(?:straight )?(?:to )?"
    rf"(?:a |the |my )?{_PRO}\b"
)
# Topics a named benefit or symptom picks out of a help or overview question;
# concrete symptoms come before the general ones.
NAMED_BENEFITS = (
    ("sleep", "pain-relief", "circulation", "relaxation"),
    ("energy-flow",),
    ("well-being",),
)
# Specific evidence a named benefit needs; "overall" or "most days" alone is not enough
# to make a well-being question of "what does it do for you overall".
NAMED_AT = {"well-being": 1.6}
NAMED_DEFAULT = 1.0
TIP = "tip"
# "how is pressing my heel supposed to change my kidneys": how it is meant to work
HOW_PRESSING = re.compile(
    r"\bhow (?:is|does|would|could|can|do|is it that) (?:pressing|rubbing|massaging|pushing|"
    r"touching|squeezing|working) .{0,40}\b(?:supposed to|meant to|possibly|even|actually|"
    r"able to|said to)\b"
)
# "apart from it feeling nice", "or does it just feel nice": a pleasant feeling the
# user sets aside names no topic (the question is about the rest).
SET_ASIDE = re.compile(
    r"\b(?:apart from|other than|besides|aside from|except|beyond|"
    r"or (?:does|is|do|will) (?:it|this|that|reflexology|they) (?:just|only|simply|merely)|"
    r"or (?:is it )?(?:just|only|simply|merely)) "
    r"(?:it |that it |the fact (?:that )?it |(?:it )?being |just |a )?"
    r"(?:feel|feels|feeling|relaxing|relaxed|pampering|pleasant|nice|lovely|a nice \w+|a treat)"
    r"(?: (?:nice|good|lovely|pleasant|great|relaxing|relaxed|nice and relaxing|"
    r"good at the time))?\b"
)
# "whats the principle here", "the mechanism reflexologists describe", "the feet are
# like a map of the body? how does that work": the idea behind reflexology.
PRINCIPLE = re.compile(
    r"\b(?:principle|principles|mechanism|mechanisms|rationale|premise|reasoning|logic) "
    r"(?:here|behind|of|reflexologists?|they|is|that|it|at work|involved|in plain)\b"
    r"|\bthe (?:principle|mechanism|rationale|premise)s?$"
    r"|\b(?:idea|theory|thinking|concept|logic) behind\b"
    r"|\bwhat(?:s| is) (?:the )?(?:actual |whole |basic |main |general )?idea\b"
    r"|\bhow (?:does|do|is|would) (?:that|it|this|all that|any of that|it all) "
    r"(?:supposed to |meant to )?work\b(?! (?:for|on|with|out)\b)"
)
# "heel = lower back?", "the ball of my foot is supposed to be my chest": a foot part
# standing for a body part is a question for the map.
EQUALS_SIGN = re.compile(rf"\b({_FOOT})\s*=+", re.IGNORECASE)
FOOT_EQUALS = re.compile(
    rf"\b{_FOOT}s? equals\b|\b(?:ball|side|edge|top|bottom|base|tip) of (?:my |the |your )?"
    rf"{_FOOT} (?:is )?(?:supposed|meant|said) to be\b"
    r"|\bwhat (?:body )?part(?: of (?:the|my|your) body)? (?:is|are) (?:that|it|this|they) "
    r"(?:supposed|meant|said) to (?:be|match|link)\b"
)
# "quick tip before bed?": a message that starts by asking for a tip
TIP_LEAD = re.compile(r"^(?:a |any |one )?(?:quick|random|little|short|small|fast) tips?\b")
# "is the heel connected to the lower back", "what is that linked to": with a foot
# word, a link to a body part is a question for the map.
LINKED = re.compile(
    r"\b(?:connected|linked|connect|connects|link|links|correspond|corresponds|"
    r"corresponding|relate|relates|related|tied|wired|mapped|hooked up)(?: up)? (?:to|with)\b"
)
# ... unless it asks how or why the link is meant to exist (the idea, not the map).
HOW_THEORY = re.compile(
    r"\b(?:how|why|theory|explain|idea|supposed|meant|think|thinks|believe|believed|claim|"
    r"claims|principle|really|actually|proof|evidence)\b"
)
# "the energy side of reflexology": the energy idea, not a comparison
ENERGY_SIDE = re.compile(r"\benergy (?:side|part|aspect|stuff|thing)\b")
# Qi, meridians, channels: the energy idea, whatever else is asked about it.
ENERGY = re.compile(
    r"\b(?:qi|chi|ki|meridians?|meridian lines|energy channels?|channels|life force|"
    r"life energy|yin|yang|energy lines|energy pathways?|energy flow|flow of energy|"
    r"energy side|chinese energy|energy idea|energy balance|balance (?:of )?energy|"
    r"balances? (?:the |my |your )?energy)\b"
)
# Other therapies and remedies, with no reflexology or foot word: another subject
# ("is yoga good for back pain", "hot stone massage prices").
OTHER_THERAPY = re.compile(
    r"\b(?:yoga|pilates|tai chi|qigong|hot stones?|swedish massage|deep tissue|sports massage|"
    r"thai massage|indian head massage|head massage|back massage|neck massage|shoulder massage|"
    r"full body massage|body massage|aromatherapy massage|massage gun|foam roll\w*|"
    r"chiropract\w*|osteopath\w*|physiotherapy|cupping|reiki|pillows?|mattress\w*|"
    r"heat pack|ice pack|hot water bottle|tens machine|first aid|stretches|stretching|"
    r"sprain\w*|twisted|stubbed|pulled (?:a |my )?muscle|self defen[cs]e|martial arts)\b"
)
# Words that name reflexology or the feet themselves (not "massage" alone).
OWN_DOMAIN = frozenset(
    stem(w)
    for w in "reflexology reflexologist reflexologists reflex reflexes foot feet sole soles".split()
)

# Bot meta and sign-offs, the whole message: "good night", "how do I use you"
META_ONLY = re.compile(
    r"(?:(?:ok |okay |well |right )?(?:good ?night|night night|nighty night|cheers|ta|"
    r"how do i use (?:you|this|this bot|the bot)|how does this (?:bot )?work|"
    r"what (?:kind of |sort of )?(?:questions|things|stuff) (?:can|could|should) i ask(?: you)?|"
    r"are you (?:a |an )?(?:real |actual |qualified |proper |trained )?(?:doctor|nurse|bot|robot|"
    r"human|person|reflexologist|therapist|ai|medic|professional|practitioner))"
    r"(?: (?:then|all|mate|x+|again|now|everyone))?)"
)
# Parts of the foot name the domain as well as "foot" does.
FOOT_PARTS = frozenset(
    stem(w) for w in ("heel", "heels", "toe", "toes", "arch", "instep", "ankle", "sole")
)

# How far a frame puts its topic ahead of the best other class.
FRAME_MARGIN = 0.6
# Evidence given to a dose question (a clear medical-advice answer).
DOSE_EVIDENCE = 3.0
# A bonus (not a win) for the foot-map frame: "which part of the foot helps my
# headache?" may still be a pain question.
WHICH_PART_BONUS = 1.2
# Safety words that belong to the permission frame itself, not to a condition.
_FRAME_WORDS = {
    stem(w)
    for w in "safe safely safety ok okay fine allowed should risk risks risky harm harmful "
    "danger dangerous unsafe avoid suitable unsuitable".split()
}
SAFETY = "safety"
MEDICAL = "medical-advice"
ROUTINE = "routine"
DIFFERENCE = "acupuncture-difference"
# Words that show a message is about reflexology itself, not just about feet:
# with one of them an out-of-scope class needs twice the evidence to win.
STRONG_DOMAIN = frozenset(
    stem(w) for w in ("reflexology", "reflexologist", "reflexologists", "reflex", "reflexes")
)
DOMAIN_DAMPING = 0.5
# With no domain word at all ("how often should I replace my trainers"), an
# out-of-scope subject outweighs generic topic words (often, hurt, safe, good).
NO_DOMAIN_BOOST = 2.0
FOOT_MAP = "foot-map"
BENEFITS = "benefits"
WHAT_IS = "what-is-reflexology"
EVIDENCE = "evidence"
BELIEVE_IN = re.compile(r"\b(?:believe|believes|believing) in\b")
ENERGY_FLOW = "energy-flow"

# --- Anchors and generic evidence ---------------------------------------------
# Many topic words are generic: "how long" is a session question only when the
# session is a reflexology one, not a session of parliament. A message is
# *anchored* when it names reflexology, feet or a practitioner (``domain_words``,
# foot parts) or refers back to the practice the user is asking about ("does it
# help", "would this", "is it any good"). An unanchored message that names another
# subject (an out-of-scope class holds evidence, or a content word the topics do
# not know: parliament, ps5, telephone) keeps only its *specific* topic evidence:
# generic words, closeness to examples and frames no longer count. So symptom
# statements ("cant sleep", "lower back pain") still reach their topics, while
# "how much is a ps5" or "side effects of ibuprofen" do not.
GENERIC = frozenset(
    stem(w)
    for w in """
    session sessions long much cost costs price prices pay paying charge cheap expensive
    point points side effect effects safe safety risk risks chart map good better best
    often hurt hurts work works working help helps helpful benefit benefits mean meaning
    means invent invented thing things time times first book booking appointment
    appointments treatment treatments tip tips exercise exercises routine real really true
    test tested measure measured difference different same compare versus machine chair
    chairs massage massages energy balance explain define definition history origin idea theory
    worth cover covered insurance recommend near find pressure therapy therapist edge
    """.split()
)
IMPLICIT = re.compile(
    r"\b(?:does|do|did|would|will|can|could|might|may|is|isnt|was|wont|doesnt) "
    r"(?:it|this)\b(?! (?:mean|stand for)\b)"
    r"|\b(?:it|this|that) (?:(?:really|actually|even|ever) )?(?:help|helps|helped|work|works|do|"
    r"does|good|any good|worth|hurt|hurts|cost|costs|last|lasts|take|takes)\b"
    r"|\b(?:try|tried|trying|get|getting|have|having|book|booking|from|about|for|with|of) "
    r"(?:it|this)(?: \w+)?$"
    r"|\b(?:the|a|my|your|this) (?:practitioner|therapist|reflexologist|treatment)\b"
    r"|\b(?:a|an|the|my|your|each|per|one|first|next|typical|usual|normal|single|whole) "
    r"(?:sessions?|appointments?|treatments?|visits?)\b(?! (?:of|at|in|with|for)\b)"
    r"|\bwhat are the (?:main |key |real )?(?:benefits|upsides|advantages)$"
    r"|\b(?:these|those|your|its) (?:claims|sessions|points)\b|\bin it for (?:me|us|you|them)\b"
)
# Bot requests (a tip, a routine, hello) are about the bot itself: they need no anchor.
BOT_TOPICS = frozenset({"greeting", "tip", "routine"})
# Everyday words that name no subject of their own (people, time, degree, manner):
# an unanchored message using them does not thereby name another subject.
NEUTRAL_WORDS = frozenset(
    stem(w)
    for w in """
    because whatever everything nothing anything something another around round usually
    typical typically normally generally constantly literally somehow barely fully badly
    terribly really seems sounds wondering told called reckons suggest opinion view sense
    answer describe summarise sum version couple two three four five moment today yesterday
    tomorrow tonight week weeks wks month months year years yrs daughter son brother sister
    mother father mum dad parents aunt uncle grandson granddaughter grandmother grandfather
    neighbour friend coworker colleague lady man woman husband wife partner people person
    gimme nah ngl soo sorry please pls thanks awful terrible weird annoying dull gentle
    wrecked shattered helpful giving hold leave inside involve involved understanding clue
    trust awkward student bullet bullets list summary nutshell brief briefly short shortly
    detail details simple simply plain words""".split()
)
_STOP_WORD_LIST = sorted(STOP_WORDS)


@lru_cache(maxsize=4096)
def _function_word_typo(word: str) -> bool:
    """Is ``word`` one slip away from a function word ("wht", "teh", "whta")?"""
    return (
        process.extractOne(word, _STOP_WORD_LIST, scorer=OSA.distance, score_cutoff=1) is not None
    )


# Topics a user may name only by their own symptom or need ("cant sleep").
# Out-of-scope evidence that names a subject (a keyword, not shared question words).
OTHER_SUBJECT_AT = 0.5
# ... and then a topic needs more than one stray word of its own ("night" in "book a
# table for tomorrow night", "qi" in "what does qi mean in scrabble").
SPECIFIC_MIN = 1.0
BENEFIT_TOPICS = frozenset({"sleep", "relaxation", "pain-relief", "circulation", "well-being"})


def to_score(evidence: float) -> float:
    """Evidence (0..inf) as a 0-100 confidence."""
    if evidence <= 0:
        return 0.0
    return round(100.0 * (1.0 - math.exp(-evidence / SCALE)), 1)


@dataclass(frozen=True)
class Candidate:
    """One class's result for a message."""

    id: str  # a topic id, or "oos:<class id>"
    evidence: float
    score: float

    @property
    def out_of_scope(self) -> bool:
        return self.id.startswith(OOS_PREFIX)


@dataclass(frozen=True)
class MatchResult:
    """The best topic for a message (``None`` when out of scope or unknown)."""

    topic: str | None
    score: float
    runners_up: tuple[Candidate, ...] = field(default_factory=tuple)
    out_of_scope: str | None = None  # the winning out-of-scope class, if any
    tokens: tuple[str, ...] = field(default_factory=tuple)
    evidence: float = 0.0  # the winner's raw evidence (topic or pooled out-of-scope)

    @property
    def topics(self) -> tuple[str, ...]:
        """Runner-up topic ids (no out-of-scope classes), best first."""
        return tuple(c.id for c in self.runners_up if not c.out_of_scope)


@dataclass
class _Class:
    id: str
    words: dict[str, float] = field(default_factory=dict)  # stem -> weight
    phrases: dict[str, float] = field(default_factory=dict)  # " stem stem " -> weight
    is_topic: bool = True


def _stems(words: Iterable[str]) -> list[str]:
    return [stem(w) for w in words]


def _phrase_key(words: list[str]) -> str:
    return " " + " ".join(_stems(words)) + " "


class Matcher:
    """Scores messages against every topic and out-of-scope class."""

    def __init__(self, knowledge: Knowledge) -> None:
        topics_file = knowledge.topics_file
        self.topic_ids: tuple[str, ...] = tuple(topics_file.topics)
        sources: list[tuple[str, bool, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = []
        for topic in topics_file.topics.values():
            sources.append((topic.id, True, topic.keywords, topic.weak_keywords, topic.questions))
        for oos in topics_file.out_of_scope:
            sources.append(
                (OOS_PREFIX + oos.id, False, oos.keywords, oos.weak_keywords, oos.questions)
            )

        # The typo corrector may only correct towards in-scope words.
        domain_vocab: set[str] = set()
        other_vocab: set[str] = set()
        for _, is_topic, keywords, weak, questions in sources:
            target = domain_vocab if is_topic else other_vocab
            for text in (*keywords, *weak, *questions):
                target.update(clean(text).split())
        for text in topics_file.domain_words:
            domain_vocab.update(clean(text).split())
        self.normalizer = Normalizer(domain_vocab - other_vocab, known=other_vocab)

        self._domain_words: set[str] = set()
        self._domain_phrases: list[str] = []
        for text in topics_file.domain_words:
            words = clean(text).split()
            if len(words) == 1:
                self._domain_words.add(stem(words[0]))
            elif words:
                self._domain_phrases.append(_phrase_key(words))
        # Words every topic shares ("reflexology", "feet") say nothing about which
        # topic is meant: the domain bonus counts them, similarity ignores them.
        self._neutral: set[str] = {stem(w) for w in ("reflexology", "reflexologist", "foot")}
        self._neutral.update(self._domain_words)

        self.classes: list[_Class] = []
        question_stems: dict[str, set[str]] = {}
        examples: list[str] = []
        self._example_owner: list[int] = []
        for index, (class_id, is_topic, keywords, weak, questions) in enumerate(sources):
            item = _Class(id=class_id, is_topic=is_topic)
            for keyword_list, factor in ((keywords, 1.0), (weak, WEAK_WEIGHT)):
                for keyword in keyword_list:
                    words = clean(keyword).split()
                    if not words:
                        continue
                    if len(words) == 1:
                        key = stem(words[0])
                        item.words[key] = max(item.words.get(key, 0.0), KEYWORD_WEIGHT * factor)
                    else:
                        weight = PHRASE_WEIGHTS.get(len(words), LONG_PHRASE) * factor
                        key = _phrase_key(words)
                        item.phrases[key] = max(item.phrases.get(key, 0.0), weight)
            stems: set[str] = set()
            for question in questions:
                content = self._content(clean(question).split())
                stems.update(content)
                specific = set(content) - self._neutral
                if specific:
                    examples.append(" ".join(sorted(specific)))
                    self._example_owner.append(index)
            question_stems[class_id] = stems
            item.phrases = dict(sorted(item.phrases.items(), key=lambda p: -len(p[0])))
            self.classes.append(item)

        # Example-question words, weighted by specificity.
        frequency: dict[str, int] = defaultdict(int)
        for stems in question_stems.values():
            for word in stems:
                frequency[word] += 1
        self._question_words: list[dict[str, float]] = []
        for item in self.classes:
            weights = {
                word: QUESTION_WORD_WEIGHT / frequency[word]
                for word in question_stems[item.id]
                if word not in item.words
            }
            self._question_words.append(weights)
        self._examples = examples

        # Phrases made only of generic and stop words ("how long", "side effects").
        generic_stems = GENERIC | {stem(w) for w in STOP_WORDS}
        self._generic_phrases: frozenset[str] = frozenset(
            phrase
            for item in self.classes
            for phrase in item.phrases
            if set(phrase.split()) <= generic_stems
        )
        # Every stem the topics know (for "names another subject").
        self._vocabulary: frozenset[str] = frozenset(
            {s for stems in question_stems.values() for s in stems}
            | {w for item in self.classes for w in item.words}
            | {w for item in self.classes for p in item.phrases for w in p.split()}
            | {stem(w) for text in topics_file.domain_words for w in clean(text).split()}
        )

        self._build_indexes()
        self._greeting_index = next((i for i, c in enumerate(self.classes) if c.id == GREETING), -1)
        self._index: dict[str, int] = {c.id: i for i, c in enumerate(self.classes) if c.is_topic}
        self._oos_indexes: tuple[int, ...] = tuple(
            i for i, c in enumerate(self.classes) if not c.is_topic
        )

    def _build_indexes(self) -> None:
        """Inverted indexes of the classes' words, phrases and question words."""
        self._word_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._question_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        # A phrase " a b " can only be in the message if its first word is.
        self._phrase_index: dict[str, list[tuple[int, int, str, float]]] = defaultdict(list)
        for index, item in enumerate(self.classes):
            for word, weight in item.words.items():
                self._word_index[word].append((index, weight))
            for word, weight in self._question_words[index].items():
                self._question_index[word].append((index, weight))
            for position, (phrase, weight) in enumerate(item.phrases.items()):
                self._phrase_index[phrase.split()[0]].append((index, position, phrase, weight))
        self._topic_indexes = tuple(i for i, c in enumerate(self.classes) if c.is_topic)

    @staticmethod
    def _content(words: list[str]) -> list[str]:
        return [stem(w) for w in words if w not in STOP_WORDS]

    def evidence(self, text: str) -> tuple[list[float], list[str]]:
        """Evidence per class (in ``self.classes`` order) and the message's words."""
        totals, _, words = self._evidence(text)
        return totals, words

    def _evidence(self, text: str) -> tuple[list[float], list[float], list[str]]:
        """Evidence per class, its specific part (no generic words), and the words."""
        words = self.normalizer.tokens(EQUALS_SIGN.sub(r"\1 equals ", text[:MAX_CHARS]))
        kept = SET_ASIDE.sub(" ", " ".join(words)).split()
        if len(kept) >= 2:
            words = kept
        all_stems = _stems(words)
        sequence = " " + " ".join(all_stems) + " "
        stem_set = set(all_stems)
        content = [s for w, s in zip(words, all_stems, strict=True) if w not in STOP_WORDS]
        content_set = set(content)

        domain = bool(stem_set & self._domain_words) or any(
            phrase in sequence for phrase in self._domain_phrases
        )
        # Indexed by word, so a message touches only the classes and phrases its words
        # can match. Each class still adds up its evidence in the same order as one
        # loop per class would (words, phrases longest first, question words, bonus).
        totals = [0.0] * len(self.classes)
        specifics = [0.0] * len(self.classes)
        for word in stem_set:
            generic = word in GENERIC
            for index, weight in self._word_index.get(word, ()):
                totals[index] += weight
                if not generic:
                    specifics[index] += weight
        found: dict[int, list[tuple[int, str, float]]] = {}
        for word in stem_set:
            for index, position, phrase, weight in self._phrase_index.get(word, ()):
                if phrase in sequence:
                    found.setdefault(index, []).append((position, phrase, weight))
        for index, hits in found.items():
            hits.sort()
            matched: list[str] = []
            for _, phrase, weight in hits:
                if not any(phrase in m for m in matched):
                    matched.append(phrase)
                    totals[index] += weight
                    if phrase not in self._generic_phrases:
                        specifics[index] += weight
        for word in content_set:
            generic = word in GENERIC
            for index, weight in self._question_index.get(word, ()):
                totals[index] += weight
                if not generic:
                    specifics[index] += weight
        if domain:
            for index in self._topic_indexes:
                totals[index] += DOMAIN_BONUS

        specific = content_set - self._neutral
        if specific:
            query = " ".join(sorted(specific))
            best: dict[int, float] = {}
            for _, similarity, position in process.extract(
                query,
                self._examples,
                scorer=SIMILARITY_SCORER,
                limit=None,
                score_cutoff=SIMILARITY_FLOOR,
            ):
                owner = self._example_owner[position]
                if similarity > best.get(owner, 0.0):
                    best[owner] = similarity
            for owner, similarity in best.items():
                share = (similarity - SIMILARITY_FLOOR) / (100.0 - SIMILARITY_FLOOR)
                totals[owner] += SIMILARITY_WEIGHT * share
        off_topic = self._apply_frames(
            totals, specifics, " ".join(words), stem_set, sequence, domain
        )
        if off_topic:
            totals = [
                0.0 if item.is_topic else t for item, t in zip(self.classes, totals, strict=True)
            ]
        return totals, specifics, words

    def _names_other_subject(self, words: list[str]) -> bool:
        """Does the message use a content word no topic knows (parliament, ps5)?"""
        return any(
            w not in STOP_WORDS
            and not w.isdigit()
            and len(w) > 2
            and stem(w) not in self._vocabulary
            and stem(w) not in NEUTRAL_WORDS
            and not _function_word_typo(w)
            for w in words
        )

    def _mentions_domain(self, words: list[str]) -> bool:
        """Does the message name reflexology, feet or foot massage at all?"""
        all_stems = _stems(words)
        if self._domain_words.intersection(all_stems) or FOOT_PARTS.intersection(all_stems):
            return True
        sequence = " " + " ".join(all_stems) + " "
        return any(phrase in sequence for phrase in self._domain_phrases)

    def _condition(self, stem_set: set[str], sequence: str) -> bool:
        """Does the message name a condition the safety topic knows (not just "safe")?"""
        item = self.classes[self._index[SAFETY]]
        if any(w in item.words for w in stem_set - _FRAME_WORDS):
            return True
        return any(
            phrase in sequence and not set(phrase.split()) <= _FRAME_WORDS | STOP_WORDS
            for phrase in item.phrases
        )

    def _apply_frames(
        self,
        totals: list[float],
        specifics: list[float],
        text: str,
        stem_set: set[str],
        sequence: str,
        domain: bool,
    ) -> bool:
        """Let the shape of the question decide between topics sharing its subject.

        True when the shape shows the message is about another subject altogether
        ("a tip for my job interview").
        """
        index = self._index

        def win(topic: str) -> None:
            position = index[topic]
            best_other = max(
                (t for i, t in enumerate(totals) if i != position and i != self._greeting_index),
                default=0.0,
            )
            greeting = totals[self._greeting_index] if self._greeting_index >= 0 else 0.0
            totals[position] = max(
                totals[position], best_other + FRAME_MARGIN, GREETING_SHARE * greeting + 0.01
            )

        def oos_evidence() -> float:
            return max((totals[i] for i in self._oos_indexes), default=0.0)

        def named_benefit(skip: frozenset[str] = frozenset()) -> str | None:
            for group in NAMED_BENEFITS:
                found = [
                    (specifics[index[topic]], topic)
                    for topic in group
                    if topic not in skip
                    and specifics[index[topic]] >= NAMED_AT.get(topic, NAMED_DEFAULT)
                ]
                if found:
                    return max(found)[1]
            return None

        if (
            (REPLACING.search(text) and MEDICINE.search(text))
            or WHO_FIRST.search(text)
            or OR_TREATMENT.search(text)
            or DIAGNOSED.search(text)
        ):
            win(MEDICAL)
            return False
        if (
            STILL_GO.search(text)
            and not REPLACING.search(text)
            and (self._condition(stem_set, sequence) or oos_evidence() > 0)
        ):
            win(SAFETY)
            return False
        if CLAIM_TRUE.search(text) and (domain or oos_evidence() == 0.0):
            win(EVIDENCE)
            return False
        if (
            IS_THAT_WHAT.search(text)
            and (domain or oos_evidence() == 0.0)
            and not ENERGY.search(text)
        ):
            win(WHAT_IS)
            return False
        if (
            COMPARING.search(text)
            and (PRACTICE.search(text) or "pressure points" in text)
            and ("reflexology" in text or "reflex points" in text)
            and not ENERGY_SIDE.search(text)
        ):
            win(DIFFERENCE)
            return False
        if TIP_NOT.search(text):
            if not domain:  # "do you tip a hairdresser", "tip of my tongue"
                totals[index[TIP]] = 0.0
        elif TIP_LEAD.search(text):
            win(TIP)
            return False
        elif TIP_ASK.search(text):
            about = TIP_ABOUT.search(text)
            if (
                about
                and not domain
                and not any(
                    w and (stem(w) in TIP_FOR or stem(w) in self._domain_words)
                    for w in about.groups()
                )
            ):
                return True
            if (domain or oos_evidence() == 0.0 or TIP_REQUEST.search(text)) and not named_benefit(
                frozenset({"relaxation", "well-being", "energy-flow"})
            ):
                win(TIP)
                return False
        if ROUTINE_FOR.search(text) or (
            (GUIDE_ME.search(text) or ROUTINE_ASK.search(text))
            and (domain or oos_evidence() == 0.0)
        ):
            win(ROUTINE)
            return False
        asks_next = SEE_SOMEONE.search(text) or (
            NOT_IMPROVING.search(text) and WHAT_NEXT.search(text)
        )
        if asks_next and (domain or totals[index[MEDICAL]] > 0 or oos_evidence() == 0.0):
            win(MEDICAL)
            return False
        if (
            PERMISSION.search(text)
            and not (REPLACING.search(text) and MEDICINE.search(text))
            and (domain or oos_evidence() == 0.0)
            and self._condition(stem_set, sequence)
        ):
            win(SAFETY)
            return False
        if WHICH_PART.search(text) or (
            LINKED.search(text)
            and (FOOT_PARTS | OWN_DOMAIN).intersection(stem_set)
            and not HOW_THEORY.search(text)
        ):
            totals[index[FOOT_MAP]] += WHICH_PART_BONUS
        if FOOT_EQUALS.search(text):
            win(FOOT_MAP)
            return False
        overview = OVERVIEW.search(text) or GOOD_FOR.search(text)
        if (
            overview or HELP_ASK.search(text) or BENEFITS_OF.search(text) or WHAT_FOR.search(text)
        ) and (domain or oos_evidence() == 0.0 or IMPLICIT.search(text)):
            named = None if WHAT_ELSE.search(text) else named_benefit()
            if named:
                win(named)
                return False
        if overview and (domain or oos_evidence() == 0.0):
            win(BENEFITS)
        elif (HOW_MEANT.search(text) or HOW_PRESSING.search(text) or PRINCIPLE.search(text)) and (
            domain or oos_evidence() == 0.0 or FOOT_PARTS.intersection(stem_set)
        ):
            win(WHAT_IS)
        if ENERGY.search(text) and (domain or oos_evidence() == 0.0 or IMPLICIT.search(text)):
            best = max(index.values(), key=lambda i: totals[i])
            if self.classes[best].id in (WHAT_IS, FOOT_MAP, DIFFERENCE) or (
                BELIEVE_IN.search(text) and self.classes[best].id == EVIDENCE
            ):
                win(ENERGY_FLOW)
        return False

    def match(self, text: str) -> MatchResult:
        """The best topic for ``text`` with its score and runners-up."""
        totals, specifics, words = self._evidence(text)
        joined = " ".join(words)
        if DOSE.search(joined) and (MEDICINE.search(joined) or "melatonin" in joined):
            return MatchResult(
                MEDICAL, to_score(DOSE_EVIDENCE), (), None, tuple(words), DOSE_EVIDENCE
            )
        if META_ONLY.fullmatch(joined) and self._greeting_index >= 0:
            best = max(totals[self._greeting_index], 1.0)
            return MatchResult(GREETING, to_score(best), (), None, tuple(words), best)
        anchored = (
            self._mentions_domain(words)
            or IMPLICIT.search(joined)
            or STILL_GO.search(joined)
            or WHICH_PART.search(joined)
        )
        if (
            OTHER_THERAPY.search(joined)
            and not (OWN_DOMAIN | FOOT_PARTS).intersection(_stems(words))
            and not IMPLICIT.search(joined)
        ):
            return MatchResult(None, to_score(1.0), (), "other-health", tuple(words), 1.0)
        if not anchored and (
            any(totals[i] >= OTHER_SUBJECT_AT for i in self._oos_indexes)
            or self._names_other_subject(words)
        ):
            # Another subject and no anchor: only specific topic evidence counts.
            totals = [
                total
                if not item.is_topic or (item.id in BOT_TOPICS and total >= OTHER_SUBJECT_AT)
                else (min(total, specific) if specific >= SPECIFIC_MIN else 0.0)
                for item, total, specific in zip(self.classes, totals, specifics, strict=True)
            ]
        ranked = sorted(
            (
                Candidate(item.id, round(total, 3), to_score(total))
                for item, total in zip(self.classes, totals, strict=True)
                if total > 0
            ),
            key=lambda c: c.evidence,
            reverse=True,
        )
        if not ranked:
            return MatchResult(None, 0.0, (), None, tuple(words))

        # Greetings yield to any real question.
        others = [c for c in ranked if c.id != GREETING and not c.out_of_scope]
        greeting = next((c.evidence for c in ranked if c.id == GREETING), 0.0)
        strong = bool(STRONG_DOMAIN.intersection(stem(w) for w in words))
        if others and (
            others[0].evidence >= max(GREETING_YIELDS_AT, GREETING_SHARE * greeting)
            or (strong and others[0].evidence > greeting)
        ):
            ranked = [c for c in ranked if c.id != GREETING]

        # Out-of-scope classes pool their evidence against the topics.
        oos = [c for c in ranked if c.out_of_scope]
        topics = [c for c in ranked if not c.out_of_scope]
        oos_total = 0.0
        if oos:
            oos_total = oos[0].evidence + 0.5 * sum(c.evidence for c in oos[1:])
            if strong:
                oos_total *= DOMAIN_DAMPING
            elif (
                not self._mentions_domain(words)
                and not STILL_GO.search(joined)
                and not (
                    IMPLICIT.search(joined) and (OVERVIEW.search(joined) or HELP_ASK.search(joined))
                )
            ):
                oos_total *= NO_DOMAIN_BOOST
        if oos and (not topics or oos_total >= topics[0].evidence):
            return MatchResult(
                None,
                to_score(oos_total),
                tuple(topics[:3]),
                oos[0].id[len(OOS_PREFIX) :],
                tuple(words),
                oos_total,
            )
        top = topics[0]
        return MatchResult(top.id, top.score, tuple(topics[1:4]), None, tuple(words), top.evidence)


def match_topic(matcher: Matcher, text: str) -> MatchResult:
    """Functional form of ``matcher.match(text)``."""
    return matcher.match(text)


__all__ = [
    "ANSWER_AT",
    "CLARIFY_AT",
    "Candidate",
    "MatchResult",
    "Matcher",
    "match_topic",
    "to_score",
]
