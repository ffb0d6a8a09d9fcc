"""The safety screen, through the real red_flags.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.safety import SafetyScreen


@pytest.fixture(scope="module")
def screen(knowledge) -> SafetyScreen:
    return SafetyScreen(knowledge.red_flags)


@pytest.mark.parametrize(
    ("message", "flag"),
    [
        ("i don't want to be alive anymore", "crisis"),
        ("been thinking about hurting myself", "crisis"),
        ("my chest feels kind of tight, could a foot rub help", "chest-pain"),
        ("kinda hard to catch my breath today", "breathing"),
        ("my dad's face is drooping and he's slurring", "stroke"),
        ("sudden weakness in my left arm", "stroke"),
        ("worst headache of my life right now", "sudden-severe-pain"),
        ("pregnant and seeing spots with a pounding headache", "pregnancy"),
        ("my calf is swollen and warm to touch", "clot"),
        ("coughing up blood since this morning", "clot"),
        ("diabetic and the blister on my heel turned black", "foot-wound"),
        ("the skin on my shin is red and hot and i have a fever", "infection-fever"),
        ("lips swelling up after a bee sting", "allergy"),
        ("my son swallowed some bleach", "overdose"),
        ("my gran is having a seizure", "seizure"),
        ("cut my finger and it won't stop bleeding", "bleeding"),
        ("my wife just collapsed in the kitchen", "fainting"),
        ("foot went pale and cold all of a sudden", "limb-ischaemia"),
    ],
)
def test_red_flags_in_everyday_words(screen: SafetyScreen, message: str, flag: str) -> None:
    found = screen.screen(message)
    assert found is not None, message
    assert found.id == flag


@pytest.mark.parametrize(
    "message",
    [
        "where is the heart point on the foot",
        "chest area of the foot map?",
        "had a clot years ago, is it safe now",
        "had a heart attack 3 years ago, is reflexology ok",
        "does it help headaches",
        "finish with long strokes on the sole",
        "my calves are tight and achy after running",
        "i get stressed and cant sleep",
        "is reflexology safe in pregnancy",
        "",
        "🙂",
    ],
)
def test_no_false_alarm(screen: SafetyScreen, message: str) -> None:
    assert screen.screen(message) is None


def test_crisis_reply_points_to_a_crisis_line(screen: SafetyScreen) -> None:
    flag = screen.screen("i want to end my life")
    assert flag is not None
    text = screen.urgent_text(flag)
    assert "988" in text or "116 123" in text
    assert "emergency" in text.lower()


def test_every_flag_says_why(knowledge) -> None:
    for flag in knowledge.red_flags.flags:
        assert flag.why.strip() and flag.patterns


# -- each red flag as a concept: hedged, third-person, misspelt, with a question tacked on --

FLAG_CASES = {
    "crisis": [
        "dont see the point in living",
        "cant see a way out, hoping i just dont wake up tomorrow",
        "my best friend texted me goodbye and said she cant do this anymore",
        "ive written letters to my family saying goodbye",
        "been giving all my stuff away, wont need it soon",
        "kinda thinking about not being here anymore tbh",
    ],
    "chest-pain": [
        "theres a squeezing feeling in the middle of my chest, can a foot rub help",
        "chset pain and my arm is numb",
        "my husband says it feels like an elephant on his chest",
        "dad keeps rubbing his breastbone and says its like a tight band",
        "bit of pressure on my chest, prob nothing",
        "husband has a pain going up into his jaw and hes all clammy",
        "mum has pain between her shoulder blades and is pale and sweaty",
    ],
    "heart-signs": [
        "my left arm aches and im sweating buckets for no reason",
        "my arms ache and im drenched in sweat",
        "pain in my neck and arm and im clammy",
    ],
    "breathing": [
        "my son is wheezing really badly",
        "nan is breathing really fast and shallow and seems out of it",
        "brething is really hard tonight, can reflexology open my lungs",
        "her lips look a bit blue",
        "partner is gasping for air",
    ],
    "stroke": [
        "client just said her right arm feels weak and heavy and she cant lift it",
        "dads smile is lopsided all of a sudden",
        "my husbands words are coming out all jumbled",
        "he went to speak and it was just gibberish",
        "lost the sight in one eye just now",
    ],
    "sudden-severe-pain": [
        "sudden banging headache like being hit with a bat, can a foot point fix it",
        "hed hurts worst ever like an explosion",
        "my belly is agony and feels rock hard",
        "sudden severe stomache pain on the right side",
    ],
    "pregnancy": [
        "30 weeks pregnant with a bad headache and flashing lights",
        "34 weeks pregnant, bad headache and seeing spots",
        "my baby is moving less today at 36 weeks",
        "i think my waters broke and im only 31 weeks",
    ],
    "headache-signs": [
        "massive headache and my neck is stiff and the light hurts",
        "headache and now shes really confused",
    ],
    "head-injury": [
        "brother hit his head and now hes really drowsy and being sick",
        "my son fell off his bike, banged his head and has thrown up twice",
    ],
    "bleeding": [
        "theres bright red blood when i cough, bit scary tbh",
        "dads poo is black and sticky like tar",
        "deep cut on my hand is spurting blood",
    ],
    "overdose": [
        "i took 20 ibuprofen",
        "i took twenty tablets",
        "think i overdid my tablets on purpose, feel weird",
        "kid drank something from the bottles under the sink",
        "my little boy swallowed a button battery",
    ],
    "infection-fever": [
        "grandpa is burning up, muddled and his skin is cold and sweaty",
        "baby has a fever and a rash that doesnt fade under a glass",
    ],
    "fainting": [
        "felt faint, everything went dark and then i was on the floor",
        "woke up on the bathroom floor, dont know what happened",
        "mum keeled over at dinner",
    ],
    "seizure": [
        "my son is fitting and wont stop shaking",
        "shes jerking all over and not responding",
    ],
    "allergy": [
        "my throat feels like its closing after eating prawns",
        "lips and eyes puffing up after a bee sting",
        "hives all over and my tongue feels thick",
    ],
    "clot": [
        "my calf is hot, swollen and sore since my long haul flight",
        "one leg is much fatter than the other and red",
    ],
    "foot-wound": [
        "type 2 diabetic and theres a sore on my toe thats gone black",
        "my diabetic dad has an ulcer on his heel that smells",
    ],
    "limb-ischaemia": ["leg is cold, pale and numb and i cant wiggle my toes"],
}


@pytest.mark.parametrize(
    ("flag", "message"), [(flag, text) for flag, texts in FLAG_CASES.items() for text in texts]
)
def test_each_flag_as_a_concept(screen: SafetyScreen, flag: str, message: str) -> None:
    found = screen.screen(message)
    assert found is not None, message
    assert found.id == flag, (message, found.id)


GUARD_CASES = {
    "history": [
        "had a DVT last year, is reflexology ok",
        "my stroke was in 2019",
        "heart attack 3 years ago, is it safe",
        "had sepsis a few years ago, is reflexology ok",
        "i used to self harm as a teen but im fine now, can reflexology help stress",
    ],
    "safety questions": [
        "is reflexology safe with blood thinners",
        "can diabetics have reflexology",
        "is it ok with varicose veins",
        "safe with low platelets?",
        "i have epilepsy, is reflexology safe",
        "can i have reflexology with a cold",
        "i carry an epipen, is it safe",
        "could i have an allergic reaction to the oil",
        "i take loads of medication, is reflexology safe",
        "i took 2 paracetamol for my headache, can i still have a session",
    ],
    "foot map": [
        "which point is for the heart",
        "where is the chest reflex on the foot",
        "the heart area of the foot is on the left sole right",
        "which pressure point on the chest helps",
    ],
    "ordinary complaints": [
        "can reflexology help a tension headache",
        "my back is sore after gardening",
        "pins and needles in my foot from sitting cross legged",
        "my left leg is numb from sitting cross legged",
        "legs feel tired and heavy after a day at my desk",
        "my toes go numb in the cold",
        "been feeling low and a bit blue lately",
        "i get migraines and throw up, can reflexology help",
        "im out of breath after running, normal?",
        "i get short of breath with anxiety sometimes, does reflexology help",
        "my throat feels tight when im anxious",
        "my eyes are puffy from crying",
        "my calf is tender after running",
        "hit the gym hard, arms ache and im sweaty",
        "the worst pain is in my heel in the morning",
        "my arches have collapsed",
        "can it get my blood pumping better in my legs",
        "i want a routine so i dont wake up tired",
        "i ate mushrooms for dinner",
    ],
    "idioms": [
        "im dying to try reflexology",
        "that foot massage was to die for",
        "deadlines are killing me",
        "my feet are killing me after a long shift",
        "feeling breathless with excitement for my first session",
        "that massage knocked me out, slept like a log",
        "i cant go on holiday without my foot rub",
        "the shoes are fitting fine",
    ],
}


@pytest.mark.parametrize("message", [text for texts in GUARD_CASES.values() for text in texts])
def test_guards_against_false_alarms(screen: SafetyScreen, message: str) -> None:
    found = screen.check(message)
    assert found is None, (message, found and found.flag.id, found and found.matched)


def test_a_guard_blanks_only_the_harmless_part(screen: SafetyScreen) -> None:
    found = screen.screen("had a DVT last year and now my calf is swollen and hot")
    assert found is not None and found.id == "clot"


def test_anchor_gating_changes_no_verdict(knowledge) -> None:
    """The fast path (anchor words) must give exactly what trying every pattern gives."""
    import json
    from pathlib import Path

    screen = SafetyScreen(knowledge.red_flags)
    red_flags = knowledge.red_flags

    def brute(text: str) -> str | None:
        cleaned = screen.prepare(text)
        screened = cleaned
        present = any(g.search(cleaned) for g in red_flags.present_symptom)
        for guard in red_flags.guards:
            screened = guard.sub(" ", screened)
        if not present:
            for guard in red_flags.map_guards:
                screened = guard.sub(" ", screened)
        for flag in red_flags.flags:
            raised = any(pattern.search(screened) for pattern in flag.patterns)
            if raised and not any(pattern.search(cleaned) for pattern in flag.unless):
                return flag.id
        return None

    data = Path(__file__).resolve().parent / "data"
    for path in sorted(data.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["q"]
                got = screen.screen(text)
                assert (got.id if got else None) == brute(text), text


def test_misspellings_are_put_right(screen: SafetyScreen) -> None:
    assert screen.prepare("chset pain, cant breth") == "chest pain cant breath"
    assert screen.prepare("i took twenty tablets") == "i took twenty tablets"


def test_terms_and_spellings_errors_name_file_line_and_field(tmp_path) -> None:
    from bot.core.knowledge.red_flags import load_red_flags
    from bot.core.knowledge.source import Problems

    path = tmp_path / "red_flags.yaml"
    path.write_text(
        "reply: call now\n"
        "terms:\n"
        "  chest: [chest, breastbone]\n"
        "spellings:\n"
        "  chest: ['ch st']\n"
        "flags:\n"
        "  - id: x\n"
        "    why: because\n"
        "    patterns:\n"
        "      - '\\b{chest} pain'\n"
        "      - '\\b{nope} pain'\n",
        encoding="utf-8",
    )
    problems = Problems(path)
    loaded = load_red_flags(path, problems)
    messages = [str(problem) for problem in problems.items]
    assert len(messages) == 2, messages
    assert any("spellings.chest[0]" in m and ":5" in m for m in messages), messages
    assert any("flags[0].patterns[1]" in m and "{nope}" in m and ":11" in m for m in messages)
    assert loaded.flags[0].patterns[0].search("my breastbone pain")


# -- the second probe's concepts: the kinds of wording the blind sets showed us missing --

NEW_CONCEPTS = {
    "heart-rhythm": [
        "heart beating super fast and all over the place and im lightheaded, cant slow it down",
        "heart rate 180 and wont come down, feel dizzy",
        "pulse racing and wont settle",
        "my ticker is going mental and i feel like i might keel over",
        "pulse is 160 and i havent moved from the couch",
        "palpitations and lightheaded for the last hour, is reflexology any use",
        "my hart is beating very fast and i am feeling giddy",
        "pulse is really weak and hes pale and cold",
    ],
    "crisis": [
        "i dont really see the point in being here anymore",
        "im so tired of being alive",
        "everyone would be happier if i wasnt around",
        "nobody would even notice if i was gone",
        "ive written a note for my family",
        "i keep thinking about driving into a wall",
        "no reason to keep living",
        "cant cope anymore, thinking about taking all my pills",
        "wanna disappear forever tbh",
    ],
    "allergy": [
        "throat feels tight and im wheezing after the first dose of a new antibiotic",
        "throat feels tight and itchy after eating nuts",
        "got stung by a wasp and now my throat feels scratchy and i cant swallow well",
        "face is swelling up after taking a new tablet",
    ],
    "bleeding": [
        "sicked up what looked like blood",
        "keep coughing up red stuff, is that blood",
        "blood coming in vomiting",
        "blood coming out of a cut wont stop even with pressure",
        "cant stop the bleeding from my head",
    ],
    "breathing": [
        "coughed up a bit of blood and its hard to take a deep breath",
        "sharp pain in my side when i take a deep breath, came on today",
        "it kills me to breathe in",
        "i am having difficulty of breathing since morning",
        "mother is having breathing problem since night",
        "i can only say a few words before i need a breath",
    ],
    "chest-pain": [
        "my chest is killing me and spreading to my arm",
        "its like there is an elephant sitting on me and my left arm is numb",
        "husband clutching his chest and cant talk",
    ],
    "stroke": [
        "woke up and half my face wont move",
        "my father face is going to one side and he is not able to talk",
        "dad suddenly doesnt understand what were saying to him",
    ],
    "spine": [
        "my legs are numb and i cant pee and my back is killing me",
        "i cant feel my legs suddenly and my back hurts badly",
    ],
    "foot-wound": ["i have sugar and my foot has a wound thats been open 3 weeks"],
    "overdose": [
        "accidentally took my blood pressure tablets twice and feel funny",
        "my 2 year old ate some of my tablets",
        "she drank phenyl",
    ],
    "seizure": [
        "my baby went stiff and started jerking",
        "he is twitching and not answering me",
        "my mum just went down and wont respond properly",
    ],
    "sudden-severe-pain": ["sharp pain in my right side that keeps getting worse and a fever"],
}


@pytest.mark.parametrize(
    ("flag", "message"),
    [(flag, text) for flag, texts in NEW_CONCEPTS.items() for text in texts],
)
def test_new_concepts(screen: SafetyScreen, flag: str, message: str) -> None:
    found = screen.screen(message)
    assert found is not None, message
    assert found.id == flag, (message, found.id)


NEW_GUARDS = [
    # heart: excitement, caffeine, exercise, habit, questions, foot map
    "my heart is racing with excitement about my first reflexology session",
    "heart beating fast after my coffee and i feel a bit jittery",
    "i feel sick and my heart is pounding because of a job interview tomorrow",
    "my heart rate went up to 160 on my spin class",
    "i get occasional palpitations, is reflexology safe",
    "does reflexology slow a fast heart rate and help breathing",
    "can i use the heart point to calm palpitations",
    # crisis look-alikes
    "whats the point in doing it every week",
    "theres no point in me doing it every day then",
    "i want to disappear into a spa for a week lol",
    "i wish i could sleep forever on a sunday morning lol",
    "sick of my life being so busy, i need to relax",
    "im tired of life admin, need a foot rub",
    "i want everything to stop hurting in my feet",
    "nobody would miss my old sofa",
    "no one will notice if i skip a session right",
    "i wrote a note to my family about our holiday plans",
    "i want to end things with my boyfriend",
    "i wont be around tomorrow, can we reschedule",
    "i'm giving all my old shoes away",
    # allergy look-alikes
    "i had an allergic reaction to a cream years ago, is reflexology ok",
    "my throat is a bit scratchy from a cold",
    "my throat gets itchy after eating crisps sometimes",
    "my throat is scratchy and i take tablets for hay fever, is reflexology ok",
    "i bit my tongue and its swollen",
    "my face is puffy in the morning",
    # breath and blood look-alikes
    "take a deep breath and relax your feet, is that part of it",
    "it hurts to breathe in the cold air when i run",
    "i get breathless walking up hills, im just unfit",
    "can reflexology help with breathing problems like asthma",
    "i have a cough and take blood thinners, is reflexology ok",
    "i have a cough, can reflexology help blood flow",
    "iron tablets make my poo black, is that normal and can i have reflexology",
    # chest, limbs, waking, doses
    "anxiety makes my chest feel tight sometimes, can reflexology help",
    "both feet a bit puffy after a long flight, will reflexology help",
    "both my legs are a bit swollen after a long flight, nothing else",
    "sore calf after a hike",
    "my feet went limp and relaxed during the session",
    "i flopped down on the sofa after my session",
    "my husband didnt react well to reflexology last time, felt sore",
    "my son wont wake up early for school lol, any tips for sleep",
    "i took my vitamins twice a day for a month",
    "all of a sudden i cant understand why my feet hurt so much",
]


@pytest.mark.parametrize("message", NEW_GUARDS)
def test_new_concepts_leave_look_alikes_alone(screen: SafetyScreen, message: str) -> None:
    found = screen.check(message)
    assert found is None, (message, found and found.flag.id, found and found.matched)


def test_anchor_reads_small_classes_and_empty_alternatives() -> None:
    import re

    from bot.core.safety import anchor

    assert anchor(re.compile(r"\b(?:38|39) ?c\b")) == frozenset({"38", "39"})
    found = anchor(re.compile(r"\b(?:temp|temperature|temp of) x"))
    assert found is not None and "temp" in found
    assert anchor(re.compile(r"\b[a-z]+ pain")) is None  # a large class filters nothing


def test_every_flag_pattern_has_an_anchor(screen: SafetyScreen) -> None:
    """A pattern without an anchor runs on every message: keep them all anchored."""
    assert screen._flags.always == []


# The third probe's concepts: a head that "exploded" or "split" (sudden or with
# vomiting), an allergy trigger with ONE airway or body-wide symptom, and crisis
# planning wording. Held-out wordings, not the probe file's sentences.
THIRD_CONCEPTS = {
    "sudden-severe-pain": [
        "my head feels like it split open this afternoon and ive thrown up twice",
        "skull feels like its going to explode and i keep retching",
        "all of a sudden a bang at the back of my head, worst ever",
    ],
    "headache-signs": [
        "my head is killing me and i keep vomiting",
        "head pain so bad and vomiting since 6am",
    ],
    "allergy": [
        "got bitten by something and my throat is swelling",
        "my little boy had a peanut and hes wheezing",
        "ate shrimp, now my throat feels tight and weird",
        "wasp sting now hives n feel faint",
        "stung on the arm\nthroat feels funny\nis there a foot point for stings",
        "new tablets from the gp, my tongue feels fat",
    ],
    "crisis": [
        "ive figured out how id kill myself",
        "im planning how to end my life",
        "i already know when and how im going to do it, tonight",
        "looked up how much paracetamol would be lethal",
        "ive been researching the quickest way to die",
        "this is my final message, goodbye everyone",
        "got my affairs in order, i wont be around much longer",
        "i have a plan to end it all",
        "decided how i would end things",
        "can reflexology help if youve already worked out how youd end it",
        "ive picked the day and the way",
        "i am making plan to finish my life",
        "ive worked out how many pills i need",
        "i know exactly how i'd do it",
        "how many pills would it take to kill me",
    ],
    # a dated guard blanks only the history: today's symptom still raises its flag
    "stroke": ["had a stroke 2 yrs ago and now my face is drooping again"],
    "chest-pain": ["heart attack 5 yrs ago and now crushing chest pain again"],
}


@pytest.mark.parametrize(
    ("flag", "message"),
    [(flag, text) for flag, texts in THIRD_CONCEPTS.items() for text in texts],
)
def test_third_probe_concepts(screen: SafetyScreen, flag: str, message: str) -> None:
    found = screen.screen(message)
    assert found is not None, message
    assert found.id == flag, (message, found.id)


THIRD_GUARDS = [
    # past history, abbreviated and in other forms
    "had a heart attack 5 yrs ago, is reflexology ok for me now",
    "had a tia 4 yrs ago can i still have reflexology",
    "had a dvt 18 mo ago, safe to have a foot massage?",
    "heart attack 8 mths ago, is it ok now",
    "had a mini stroke 3 wks ago, is reflexology safe",
    "my husband had a heart attack 10y ago, is reflexology ok for him",
    "had a heart attack 5yrs ago, is reflexology ok",
    "had a heart attack back in 2019, can i book a session",
    "had a stroke when i was 40, would reflexology be safe",
    "i had a heart attack in my 50s, is reflexology ok now im 70",
    "had a heart attack at 52, now 60, is reflexology safe",
    "previously had a heart attack, any risk with reflexology",
    "post heart attack (2018), is foot reflexology contraindicated?",
    "im a heart attack survivor, is reflexology safe",
    "had a stroke last yr, can reflexology help",
    "had a stroke back in march, can reflexology help recovery",
    "had anaphylaxis as a kid to peanuts, is the cream nut free",
    # headache look-alikes
    "my head exploded with ideas after the session lol",
    "it blew my mind how much my headache eased after reflexology",
    "my head is killing me after a long day, any point",
    # allergy look-alikes
    "im allergic to nuts, are the oils used in reflexology nut free",
    "can i have reflexology with a bee sting on my foot",
    "my throat is scratchy from a cold, took some medicine",
    "i carry an epipen, anything i should tell the reflexologist",
    # crisis look-alikes
    "wrote goodbye letters to my colleagues when i retired, now i have time for reflexology",
    "i know how to end the session nicely",
    "should i end it with the toes or the heel",
    "i have a plan to end my sugar habit, can reflexology help",
    "how many sessions would it take to help my back",
    "how many magnesium pills should i take for sleep",
    "this is my last question, thanks",
    "last message for today, thanks!",
    "sorting out my affairs before retirement, is reflexology good for stress",
    "we chose the method our reflexologist recommended",
    "i worked out how to find the solar plexus point",
    "how much ibuprofen would it take to ease period pain",
    "i know how i'd do it at home: thumb walking from heel to toe",
    "my hay fever allergy makes me dizzy sometimes, can reflexology help",
    "this is my final session next week",
    "picked a date and time for my session",
    "brain exploded reading the science papers lol",
]


@pytest.mark.parametrize("message", THIRD_GUARDS)
def test_third_probe_look_alikes(screen: SafetyScreen, message: str) -> None:
    found = screen.check(message)
    assert found is None, (message, found and found.flag.id, found and found.matched)


# -- probe 4: guards never hide a present symptom; sudden vision and balance changes --


@pytest.mark.parametrize(
    ("message", "flag"),
    [
        ("whats the best foot point for chest pain, mine started 10 min ago", "chest-pain"),
        ("mine started 15 mins ago, whats the foot point for chest pain", "chest-pain"),
        ("which reflex point for chest pain? i have it right now", "chest-pain"),
        ("is there a foot point for chest pressure, it wont go away", "chest-pain"),
        ("chest reflex on the foot? asking bc my chest is hurting rn", "chest-pain"),
        ("which zone for the chest, pressure there for the past 30 minutes", "chest-pain"),
        ("had a stroke in 2019 and now my face is drooping", "stroke"),
        ("heart attack 5 yrs ago and right now my chest is tight", "chest-pain"),
        ("is reflexology ok with blood thinners, my chest is tight right now", "chest-pain"),
        ("this headache is killing me, came on suddenly and i threw up", None),
        ("did my breathing exercises and now i cant breathe properly", "breathing"),
        ("dizzy and my vision suddenly went double", "stroke"),
        ("double vision came on suddenly, any foot point for that", "stroke"),
        ("dad says hes seeing double and cant walk straight", "stroke"),
        ("im dizzy and keep stumbling, cant walk straight, started suddenly", "stroke"),
        ("her vision suddenly went dark on the right side", "stroke"),
        ("gran says half her vision is gone on the left side", "stroke"),
        ("seeing double since this morning and i feel unsteady", "stroke"),
        ("suddenly having trouble understanding words", "stroke"),
    ],
)
def test_fourth_probe_concepts(screen: SafetyScreen, message: str, flag: str | None) -> None:
    found = screen.screen(message)
    assert found is not None, message
    if flag is not None:
        assert found.id == flag, message


@pytest.mark.parametrize(
    "message",
    [
        "whats the best foot point for chest pain",
        "which foot point for the heart",
        "foot point for chest congestion from my cold",
        "what reflex area is the chest, i want to learn it right now",
        "had a stroke in 2019, right now i feel fine, is it ok",
        "had chest pain years ago, it was just reflux, is reflexology ok",
        "had double vision once years ago, is reflexology ok",
        "double vision after 3 beers lol",
        "my vision goes blurry when im tired",
        "i get dizzy when i stand up too fast sometimes",
        "cant walk straight after leg day lol",
        "dying to try reflexology right now",
        "did my breathing exercises right now, feel calm",
    ],
)
def test_fourth_probe_look_alikes(screen: SafetyScreen, message: str) -> None:
    assert screen.screen(message) is None


def test_present_symptom_test_is_not_a_guard(screen: SafetyScreen) -> None:
    """The present-symptom test decides whether map guards yield; it blanks nothing."""
    assert screen.screen("cut my foot on glass and it wont stop bleeding") is not None


# Fifth probe: kinds, not sentences. A fall or knock followed by an altered state (either
# order, multi-line), sudden confusion since a moment, and overdose by its shapes.
@pytest.mark.parametrize(
    ("message", "flag"),
    [
        (
            "hi\nmy mum (82) fell this morning and now she's really drowsy and muddled\n"
            "should i rub her feet to wake her up",
            "head-injury",
        ),
        ("mum took a tumble this arvo and now shes all confused", "head-injury"),
        ("took a knock to the head playing footy, feel drowsy and sick", "head-injury"),
        ("boyfriend got headbutted last night and now he keeps being sick", "head-injury"),
        ("my daughter got a football to the head and has been sick twice", "head-injury"),
        ("hit my head really hard getting out the car and now im seeing double", "head-injury"),
        ("grandpa fell and is hard to wake", "head-injury"),
        ("my aunt fell this morning and since then shes been muddled", "head-injury"),
        ("shes been really drowsy since she fell yesterday", "head-injury"),
        ("my grandmother has become very confused overnight, she doesnt recognise me", "stroke"),
        ("since this morning my gran is confused and not herself, shes 90", "stroke"),
        ("i took way more of my pills than i should have", "overdose"),
        ("i took way more insulin than i should", "overdose"),
        ("took loads more painkillers than it says on the box", "overdose"),
        ("i've taken more than the max dose of paracetamol", "overdose"),
        ("took 3 times the dose of my meds", "overdose"),
        ("i swallowed my entire bottle of antidepressants", "overdose"),
        ("my daughter drank some of the calpol bottle, the whole thing", "overdose"),
        ("my son might have taken some of my tablets, hes acting drowsy", "overdose"),
        ("i might have overdone my paracetamol, had like 16 today", "overdose"),
        ("can you overdose on paracetamol, i took 20", "overdose"),
        ("i took the whole packet", "overdose"),
        ("my baby is fitting right now", "seizure"),
    ],
)
def test_fifth_probe_concepts(screen: SafetyScreen, message: str, flag: str) -> None:
    found = screen.screen(message)
    assert found is not None, message
    assert found.id == flag, message


@pytest.mark.parametrize(
    "message",
    [
        "My husband (type 1 for 40 yrs) read online that reflexology can regulate insulin "
        "so he could cut his dose. Is that true??",
        "can i reduce my insulin if i do reflexology",
        "can reflexology help me take fewer pills",
        "i fell asleep during my reflexology session, is that normal",
        "the baby fell asleep and was drowsy afterwards",
        "fell over laughing at my cat",
        "fell pregnant and feel sleepy all the time",
        "i feel drowsy after my antihistamine",
        "im confused about how reflexology works",
        "my mum fell last year and broke her hip, can she have reflexology",
        "had a fall a few years ago, still get ankle pain, does reflexology help",
        "my mum fell and broke her wrist, now shes groggy from the anaesthetic",
        "tripped over the dog this morning lol, anyway feeling sleepy is there a foot point",
        "took a knock to my confidence, feel out of it",
        "knocked out cold after reflexology, best sleep ever",
        "ate a whole box of chocolates, feel sick lol",
        "the whole pack of biscuits is gone, help",
        "took more tablets than usual this week because of my back, can reflexology help",
        "had more coffee than i should have, feel jittery",
        "i ate way more than i should have at christmas",
        "my son has taken his adhd meds, can he have reflexology",
        "my doctor doubled my dose of blood pressure tablets, is reflexology ok",
        "does overdosing on reflexology exist lol",
        "can you overdose on vitamin c",
        "paracetamol 500mg, i took 2 this morning, ok to have a session",
        "mum has dementia and is more confused since the move",
        "confused since this morning about which foot is the liver",
        "my grandad is always a bit muddled, can reflexology help memory",
    ],
)
def test_fifth_probe_look_alikes(screen: SafetyScreen, message: str) -> None:
    assert screen.screen(message) is None, message


def test_fifth_probe_file_is_all_caught_and_no_trap_fires(screen: SafetyScreen) -> None:
    """Every urgent line of urgent_probe5.jsonl is caught; no trap raises a flag."""
    path = Path(__file__).parent / "data" / "urgent_probe5.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    urgent = [row["q"] for row in rows if "urgent" in row["expect"]]
    traps = [row["q"] for row in rows if "urgent" not in row["expect"]]
    assert len(urgent) >= 120 and len(traps) >= 80
    assert [q for q in urgent if screen.screen(q) is None] == []
    assert [q for q in traps if screen.screen(q) is not None] == []


@pytest.mark.parametrize(
    "message",
    [
        "my leg went cold and pale and i cant really feel my foot",
        "dads foot is pale and cold and he cant properly move it",
        "her leg turned white and cold, she cant quite feel her toes",
    ],
)
def test_cold_pale_limb_with_hedged_loss_of_feeling(screen: SafetyScreen, message: str) -> None:
    flag = screen.screen(message)
    assert flag is not None and flag.id == "limb-ischaemia"


@pytest.mark.parametrize(
    "message",
    [
        "my feet are always cold and i cant really feel my toes in winter, would reflexology help",
        "cold feet at night, cant get them warm",
    ],
)
def test_ordinary_cold_feet_are_not_an_emergency(screen: SafetyScreen, message: str) -> None:
    assert screen.screen(message) is None


@pytest.mark.parametrize(
    ("message", "flag"),
    [
        ("mum fell and now she's sleepy", "head-injury"),
        ("grandad tripped, hit his head, now hes groggy", "head-injury"),
        ("nan had a fall this morning and is not herself", "head-injury"),
        ("bruv my chest is proper banging and my left arm's gone dead", "stroke"),
        ("mate me chest's crook, feels like a truck parked on it", "chest-pain"),
        ("i have had this crushing feeling behind my ribs since lunch", "chest-pain"),
        ("my tickers going like the clappers and I feel rough", "heart-rhythm"),
        ("sugar 25 and foot black", "foot-wound"),
        ("temp of 40 and my shin is red and swollen", "infection-fever"),
        ("bleeding through the towel", "bleeding"),
        ("took way more tramadol than im supposed to", "overdose"),
        ("sugar 1.8 and confused", "blood-sugar"),
        ("sugar is really low and hes confused and sweaty", "blood-sugar"),
        ("blood sugar over 30 and she's drowsy and confused", "blood-sugar"),
    ],
)
def test_sixth_probe_concepts(screen: SafetyScreen, message: str, flag: str) -> None:
    found = screen.screen(message)
    assert found is not None and found.id == flag, (message, found)


@pytest.mark.parametrize(
    "message",
    [
        "my mum fell and broke her wrist, now shes groggy from the anaesthetic",
        "tripped on the stairs this morning, no harm done, now feeling sleepy after lunch",
        "fell over last year and was groggy for a day, can reflexology help balance",
        "my chest day at the gym was banging",
        "im confused about my sugar readings, is 7 high",
        "hypothyroid and a bit muddled about which foot points to use",
        "took more sessions than im supposed to this month lol",
        "my toddler had a temp of 38 last week, all fine now, can she have reflexology",
        "can reflexology help with shortness of breath from long covid",
        "felt lightheaded for a minute after my session",
    ],
)
def test_sixth_probe_look_alikes(screen: SafetyScreen, message: str) -> None:
    assert screen.screen(message) is None, message


def test_sixth_probe_file_is_all_caught_and_no_trap_fires(screen: SafetyScreen) -> None:
    """Every urgent line of urgent_probe6.jsonl is caught; no trap raises a flag."""
    path = Path(__file__).parent / "data" / "urgent_probe6.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    urgent = [row["q"] for row in rows if "urgent" in row["expect"]]
    traps = [row["q"] for row in rows if "urgent" not in row["expect"]]
    assert len(urgent) >= 150 and len(traps) >= 100
    assert [q for q in urgent if screen.screen(q) is None] == []
    assert [q for q in traps if screen.screen(q) is not None] == []


@pytest.mark.parametrize(
    ("message", "flag"),
    [
        ("my husband just had some kind of fit, he's stopped shaking now, is he ok", "seizure"),
        ("my wife has just stopped fitting, what do i do", "seizure"),
        ("she just had her first ever fit", "seizure"),
        ("my mum was fitting for about two minutes, she's drowsy now", "seizure"),
        ("my partner just came round from a fit", "seizure"),
        ("just had what i think was a fit, never had one before", "seizure"),
        ("my leg went cold and pale and i can barely feel my toes", "limb-ischaemia"),
        ("my foot's gone cold and mottled and there's no feeling in it", "limb-ischaemia"),
        ("her toes are blue and cold and she can't feel them", "limb-ischaemia"),
        (
            "my left foot is freezing and pale and i can only just barely feel my toes",
            "limb-ischaemia",
        ),
        ("dad's leg is cold and pale and he's not able to move his foot", "limb-ischaemia"),
        (
            "the red patch around a cut on my foot is spreading up my leg and I feel shivery",
            "infection-fever",
        ),
        ("a red line is tracking up from my ankle and i feel hot and cold", "foot-wound"),
        ("red patch spreading up from the bite on my ankle, i feel flu-like", "infection-fever"),
        ("the red area on my foot is spreading fast and i'm having rigors", "infection-fever"),
        ("32 weeks pregnant and i'm seeing spots in front of my eyes", "pregnancy"),
        ("7 months pregnant with a severe headache and my vision is blurry", "pregnancy"),
        ("pregnant and seeing flashing lights", "pregnancy"),
    ],
)
def test_seventh_probe_concepts(screen: SafetyScreen, message: str, flag: str) -> None:
    found = screen.screen(message)
    assert found is not None and found.id == flag, (message, found)


@pytest.mark.parametrize(
    "message",
    [
        "had a fit once as a child, is reflexology ok for me",
        "epilepsy, last seizure 2019, is reflexology safe",
        "my partner had a fit of giggles when i touched his feet",
        "is reflexology a good first fit for beginners",
        "just had a fit-out of my shop",
        "cold feet in winter, can't feel my toes when skiing",
        "with raynauds my toes turn white and i can barely feel them till they warm up",
        "my feet are pale and i can barely feel the pressure during reflexology",
        "my feet are cold and numb after sitting cross legged",
        "i feel shivery after reflexology, is that normal",
        "red wine spread all over the rug and i feel rough",
        "7 months pregnant and my partner wants to rub my feet tonight, "
        "are there spots he should avoid",
        "are there any spots to avoid during pregnancy",
        "pregnant, is it normal to see spots on my skin",
        "pregnant and having hot flashes tonight",
    ],
)
def test_seventh_probe_look_alikes(screen: SafetyScreen, message: str) -> None:
    assert screen.screen(message) is None, message


def test_seventh_probe_file_is_all_caught_and_no_trap_fires(screen: SafetyScreen) -> None:
    """Every urgent line of urgent_probe7.jsonl is caught; no trap raises a flag."""
    path = Path(__file__).parent / "data" / "urgent_probe7.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    urgent = [row["q"] for row in rows if "urgent" in row["expect"]]
    traps = [row["q"] for row in rows if "urgent" not in row["expect"]]
    assert len(urgent) >= 40 and len(traps) >= 40
    assert [q for q in urgent if screen.screen(q) is None] == []
    assert [q for q in traps if screen.screen(q) is not None] == []
