"""High-recall rules for flags, written from the definitions in spec/categories.md and UK housing practice.

escalation_request means asking for stage 2 of *our* procedure: a mention of the Housing Ombudsman or an
"appeal" alone is not one (the Ombudsman comes after our stage 2), so neither raises it here.

They are OR'd with the model's flags. Safety flags (safeguarding, emergency_hazard) err towards
raising: a false alarm costs a person a minute, a miss can cost a life. Negation is handled only for
damp_mould, where "the mould has gone, thank you" is common and a miss is not an emergency;
"no gas smell now" still raises emergency_hazard.
"""

from __future__ import annotations

import datetime as dt
import re

try:  # Python 3.11+
    from re import _constants as sre, _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as sre
    import sre_parse

from casework.policy import months_before
from casework.vocabulary import Flag

_W = r"(?:\W+\w+){0,%d}\W+"  # up to n words between two phrases


def _rx(*patterns: str) -> re.Pattern[str]:
    """One pattern matching any of these, in lower-case text (rule_flags lower-cases it).

    Speed matters (every message passes every rule): the alternatives that start at a word boundary share
    one leading \\b, and are grouped by the letter they can start with, so at each word the engine only
    tries the alternatives that could match there; and nothing is matched with IGNORECASE.
    """
    at_word = [p.removeprefix(r"\b") for p in patterns if p.startswith(r"\b")]
    elsewhere = [f"(?:{p})" for p in patterns if not p.startswith(r"\b")]
    if not at_word:
        return re.compile("|".join(elsewhere))
    by_letter: dict[str, list[str]] = {}
    anywhere: list[str] = []
    for p in at_word:
        letters = _first_letters(p)
        for letter in letters or ():
            by_letter.setdefault(letter, []).append(p)
        if not letters:
            anywhere.append(p)
    groups = [f"(?={re.escape(c)})(?:{'|'.join(f'(?:{p})' for p in ps)})" for c, ps in sorted(by_letter.items())]
    groups += [f"(?:{p})" for p in anywhere]
    return re.compile("|".join([r"\b(?:" + "|".join(groups) + ")"] + elsewhere))


def _first_letters(pattern: str) -> set[str] | None:
    """The characters a match of this pattern can start with, or None when that is not simple to tell."""
    try:
        return _first_of(sre_parse.parse(pattern).data)
    except Exception:  # an internal parser we only use to go faster: never let it decide correctness
        return None


def _first_of(items) -> set[str] | None:
    for op, av in items:
        if op is sre.AT:  # a zero-width assertion such as \b: look at what follows
            continue
        if op is sre.LITERAL:
            return {chr(av)}
        if op is sre.SUBPATTERN:
            return _first_of(av[-1])
        if op is sre.BRANCH:
            firsts = [_first_of(branch) for branch in av[1]]
            return None if any(f is None for f in firsts) else set().union(*firsts)
        if op is sre.MAX_REPEAT and av[0] > 0:
            return _first_of(av[2])
        if op is sre.IN and all(kind is sre.LITERAL for kind, _ in av):
            return {chr(code) for _, code in av}
        return None
    return None


_RELATIVE = r"(?:mum|mother|mam|dad|father|nan|nana|gran|granny|grandmother|grandad|grandfather|son|daughter|" \
            r"brother|sister|aunt|auntie|uncle|husband|wife|partner|friend|neighbour|niece|nephew|" \
            r"cousin|client|tenant|resident|constituent|parents?|in-law)"

SAFEGUARDING = _rx(
    r"\b(?:domestic|child|sexual|elder|financial|physical|emotional|racial)\s+(?:abuse|violence|exploitation)",
    r"\babus(?:e|ed|ing)\b",
    r"\bneglect(?:ed|ing|s)? (?:child|children|kids|baby|him|her|them|himself|herself|themselves)\b",
    r"\b(?:being|been|is|are) neglected\b", r"\b(?:child|elder|elderly) neglect\b", r"\bself[- ]?neglect", r"\bhoard(?:ing|er)\b",
    r"\bself[- ]?harm", r"\bsuicid", r"\bkill (?:myself|himself|herself|themselves)\b",
    r"\bend(?:ing|ed)? (?:it all|(?:my|his|her|their) (?:own )?li(?:fe|ves))", r"\btake (?:my|his|her) own life\b",
    r"\b(?:harm|hurt) (?:myself|himself|herself|themselves)\b", r"\bover ?dose",
    r"\b(?:do not|don't|dont) want to (?:be here|live|go on)\b", r"\bno reason to live\b",
    r"\b(?:can ?not|can't|cant|cannot) (?:go on|cope|take (?:it|this|much more))\b",
    r"\b(?:hits?|hitting|beat(?:s|en|ing)?|punched|strangled|choked|assault(?:ed|s|ing)?) (?:me|her|him|them|the (?:kids|children))\b",
    r"\b(?:threaten(?:ed|s|ing)?|threats?) to (?:kill|hurt|harm|stab)\b",
    r"\b(?:scared|afraid|frightened|terrified|fear(?:ful)?) (?:for|of) (?:my|our|his|her|their) (?:life|lives|safety)\b",
    r"\b(?:fleeing|fled|escap(?:e|ed|ing) from) (?:domestic|my (?:ex|partner|husband|wife))",
    r"\brefuge\b", r"\bmarac\b", r"\bcoercive\b", r"\bcontrolling behaviour", r"\bstalk(?:ed|ing|er)\b",
    r"\bcuckoo(?:ed|ing)\b", r"\bgroom(?:ed|ing)\b", r"\bexploit(?:ed|ing|ation)\b",
    r"\b(?:child(?:ren)?|kids?|baby|toddler|vulnerable (?:adult|person|man|woman|neighbour|tenant)) "
    r"(?:is |are |being )?(?:at risk|in danger|left alone|unsafe|not safe|not being (?:fed|looked after))",
    r"\bleft (?:alone|on (?:their|his|her) own)" + _W % 4 + r"(?:child|kids?|baby|toddler|children)",
    r"\b(?:not|hasn't|haven't|hasnt|havent|nobody has) (?:been )?seen" + _W % 4 + r"(?:days|weeks|a week|a while)",
    r"\bwelfare (?:check|concern|visit)", r"\bsafeguarding\b", r"\bsocial services\b", r"\bsocial worker\b",
    r"\bnot (?:eating|washing|coping)\b", r"\b(?:no|without) food\b",
    r"\bvulnerable\b" + _W % 6 + r"(?:risk|danger|unsafe|scared|afraid|harm)",
    r"\bunsafe (?:at|in) (?:home|my home|the flat|the house)",
    # fear of a person, coercive control, a perpetrator who knows where someone lives
    r"\b(?:i'm|i am|we're|we are|she's|she is|he's|he is)(?: so| really| very)? (?:scared|frightened|terrified|afraid)\b",
    r"\b(?:scared|frightened|terrified|afraid) (?:of (?:him|her|them|my)|to (?:go home|be (?:at home|alone)))",
    r"\b(?:doesn't|does not|won't|will not|never) let(?:s)? me (?:leave|go out|see|answer|have|speak|talk|use)",
    r"\b(?:takes?|took|keeps?) (?:my|her|his) (?:money|phone|bank card|benefits|passport)",
    r"\bfound out where (?:i|we|she|he|they) (?:live|lives|are)", r"\b(?:ex|ex-partner|ex-husband|ex-wife)\b" +
    _W % 8 + r"(?:banging|threaten|turn(?:s|ing)? up|follow|waiting|shout|key|violent|police|injunction|non-molestation)",
    r"\b(?:drinks|drunk|angry|violent|temper)\b" + _W % 8 + r"(?:scared|frightened|afraid|hide|hiding|lock myself)",
    r"\bbruis(?:e|es|ed|ing)\b", r"\bflinch", r"\bnon-molestation\b", r"\binjunction\b",
    # children or vulnerable adults alone, unseen, not coping, taken advantage of
    r"\b(?:kids|children|child|baby|boy|girl|toddler|little one)\b" + _W % 8 +
    r"(?:on (?:their|his|her) own|alone|unsupervised|inside|locked in)",
    r"\b(?:haven't|have not|hasn't|has not|not) (?:been )?(?:seen|heard)\b" + _W % 6 + r"(?:days|weeks|a week|a while)",
    r"\bcurtains (?:have been |are |were )?(?:shut|closed|drawn)", r"\b(?:milk|post|letters) (?:piling|on the step)",
    r"\b(?:calling|crying|screaming|shouting) (?:out|for help)", r"\b(?:woman|child|baby|kid|girl|boy) (?:crying|screaming)",
    r"\b(?:taken|taking) advantage\b", r"\b(?:lent|lend|borrowed|taking|took) (?:him|her|them)?\s?(?:money|£|\d+ pounds)",
    r"\bnot (?:taking care|looking after) (?:of )?(?:him|her|them|my)sel(?:f|ves)",
    r"\b(?:can't|cannot|can not) look after (?:him|her|them|my)sel(?:f|ves)",
    r"\b(?:not|haven't|hasn't|have not|has not|didn't) (?:eaten|eat|been eating)\b", r"\bsleeping in (?:a|the|his|her) chair",
    r"\bfloor to ceiling\b", r"\blooks? (?:about |only )?1[0-7]\b", r"\bnever (?:seems to )?go(?:es)? to school",
    r"\b(?:men|people|strangers) (?:going|coming) in and out",
    r"\bcheck on (?:her|him|them|my|mr|mrs|ms)\b", r"\b(?:hasn't|has not|haven't|not) (?:answered|opened) (?:his|her|their|the) door",
    r"\b(?:milk|post|newspapers?)(?:'s| is| are)? (?:still )?(?:outside|on the (?:step|doorstep|mat))",
    r"\bmental health crisis\b", r"\b(?:missing|stolen|taken) from (?:her|his|their) (?:purse|wallet|flat|home|account)",
    r"\bcan(?:'t|not| not) afford to (?:top up|heat|eat|buy food)",
    # thoughts of suicide
    r"\b(?:don't|do not|dont) see the point", r"\bbetter off (?:without me|if i (?:wasn't|was not|weren't|were not) here)",
    r"\b(?:no|nothing) (?:left )?to live for", r"\bwant(?:ed)? to die\b", r"\bwish i (?:was|were) dead",
    r"\bnot (?:be|being) here any ?more",
    r"\b(?:reason|point|will) to (?:carry on|go on|keep going|live|get up)\b",
    r"\b(?:can't|cant|cannot|can not|don't know how to|do not know how to) (?:carry on|keep going|do this any ?more)",
    r"\bno point (?:in )?(?:anything|living|going on|carrying on|trying|any of it)",
    r"\bstopped caring (?:what happens|about (?:myself|me|anything)|if i)", r"\bnot (?:to )?wake up\b",
    r"\b(?:saving|stockpiling|hoarding|storing) (?:up )?(?:my |all my )?(?:tablets|pills|medication)",
    r"\bwon't be (?:around|here) (?:much|for) long", r"\b(?:no|can't see a|cannot see a) way out\b",
    r"\b(?:want to|wanted to|going to|gonna|thinking of|thought about|could|might|just) end (?:it|things)\b(?! with)",
    # coercive control and fear of a person, said plainly
    r"\b(?:won't|wont|will not|doesn't|doesnt|does not|don't|dont|never) (?:let|allow) (?:me|her|him)" + _W % 2 +
    r"(?:leave|go|out|see|spend|have|use|work|eat|speak|talk|answer|phone|call|ring|keep)",
    r"\b(?:controls?|controlling|takes?|took|keeps?) (?:all )?(?:of )?(?:my|her|his|our) (?:money|benefits|bank|cards?|phone|keys)",
    r"\b(?:scared|afraid|frightened|terrified|too scared) (?:to (?:leave|go out|open the door|answer the door|"
    r"come home|go back)|when (?:he|she|they)(?:'s| is| are| gets?| comes?) (?:home|back|in|drunk))",
    r"\b(?:shouts?|shouting|screams?|screaming|makes?|made|making)" + _W % 2 + r"threats\b",
    r"\bthreat(?:s|ened|ening)?\b" + _W % 6 + r"(?:door|kill|hurt|kids|children|me|us|her|him)\b",
    # neglect and self-neglect of an adult: not eating, not washing, sores, wandering, confusion
    r"\bstopped (?:eating|washing|going out|taking (?:her|his|their|my) (?:tablets|medication|meds))",
    r"\b(?:sores|soiled|infected)\b", r"\b(?:lack of|no) (?:washing|food|care)\b", r"\bwander(?:s|ing|ed)\b",
    r"\bdementia\b" + _W % 12 + r"(?:door|wander|lost|confused|found|alone|open|night|safe|road|street|early hours|"
    r"seen out|outside|cold|slippers)",
    r"\b(?:let (?:the place|myself|things|himself|herself) go|not looking after (?:himself|herself|myself))",
    r"\b(?:confused|disorientated|disoriented)\b" + _W % 8 + r"(?:night|alone|street|outside|door|lost)",
    # injuries on a child or an adult that someone else gave them
    r"\b(?:burns?|bruises?|bruising|marks|cuts|injur(?:y|ies)|black eye) (?:on|all over|to) (?:his|her|their|the (?:child|boy|girl|baby))",
    r"\b(?:hits?|hitting|beats?|beating|hurts?|hurting|slaps?|slapping|kicks?|kicking) (?:his|her|their) "
    r"(?:wife|partner|girlfriend|kids|children|son|daughter|mum|mother|dad)",
    # someone vulnerable cut off from care they need
    r"\b(?:dialysis|chemo(?:therapy)?|oxygen|carers?)\b" + _W % 8 + r"(?:unable|can't|cannot|missed|missing|stopped|no longer|trapped)",
    r"\b(?:unable|can't|cannot|couldn't|could not) (?:to )?(?:get (?:out|down|up|to)|leave|attend|make|go to)" + _W % 6 +
    r"(?:dialysis|chemo|hospital|appointments?|flat|house)",
    r"\b(?:putting|put|keeping) (?:my|his|her) (?:tablets|pills|medication) (?:to one side|aside|away)",
    r"\btoo many (?:of )?(?:my |his |her )?(?:tablets|pills|painkillers)", r"\bso tired of (?:everything|it all|life)",
    r"\bstop breathing\b", r"\b(?:ventilator|feeding pump|oxygen concentrator)\b",
    # the warning signs of someone putting their affairs in order
    r"\b(?:put|putting|sorted|sorting|got) (?:out )?(?:all )?my (?:affairs|things|stuff) (?:in order|sorted|out)",
    r"\beverything (?:is )?in order\b", r"\b(?:given|giving|gave) (?:away )?(?:my|the) (?:cat|dog|pets?|belongings)",
    r"\bthank you for everything over the years\b", r"\bwon't be needing (?:it|them|the flat|anything)",
    # a person worried about another person
    r"\b(?:worried|concerned|worry|worrying|anxious) (?:sick |so much )?(?:about|for) (?:my |the |our |this )?(?:elderly |old |"
    r"young |little )?(?:neighbours?|him|her|them|lady|man|woman|gentleman|boy|girl|child|children|kids|family|lad|"
    r"(?:mr|mrs|ms|miss)\b|(?:his|her|their) (?:safety|welfare|wellbeing))",
    r"\b(?:being|been|was|gets?|got|getting) (?:beaten|hit|hurt|kicked|punched|slapped|attacked|pushed around)",
    r"\battack(?:ed)? (?:me|her|him|them|in|on|by)\b", r"\bnon-mol\b", r"\bfist through\b", r"\blost (?:his|her) temper",
    r"\b(?:haven't|have not|hasn't|has not|not) (?:left|been out of) (?:my|the|her|his) (?:flat|house|home)",
    r"\b(?:ring|call|phone|contact|text) me(?: and)?,? not (?:him|her|my (?:husband|partner|wife))",
    r"\b(?:don't|do not|dont|please don't|please do not) (?:tell|let) (?:him|her|my (?:husband|partner|wife)) know",
    r"\b(?:locks?|locked|locking) (?:me|her|him|them) (?:in|out)\b",
    # modern slavery: many workers in one house, documents held, wages taken
    r"\b(?:takes?|took|taken|keeps?|holds?|holding|has) (?:our|their|my|his|her|all the) passports?",
    r"\b(?:lot of|many|several|\d+|six|seven|eight|nine|ten|twelve) (?:other )?(?:men|people|workers) (?:living|sleeping|staying)",
    r"\bvan (?:picks|collects|takes) (?:them|us)\b",
    # scams and money taken from older or vulnerable people
    r"\b(?:scam|scammed|scammer|conned|fraud(?:ster)?)\b", r"\b(?:move|moving|transfer|send|sending) (?:all )?(?:my|her|his) "
    r"(?:savings|pension|money) (?:to|into) (?:his|her|their)",
    r"\b(?:not|haven't|have not|never) (?:had|seen|got) (?:any of )?(?:my|her|his) (?:pension|money|benefits) ",
    # an adult in decline: stuck, unwashed, thin, lost
    r"\bstuck (?:in|upstairs in) (?:the |his |her |my )?(?:bedroom|bed|flat|house|chair)",
    r"\b(?:hasn't|has not|haven't|have not|not) (?:had|been able to have) a (?:proper )?(?:wash|bath|shower|hot meal|meal)",
    r"\b(?:thin|frail|confused|unkempt|dishevelled) and (?:thin|frail|confused|unkempt|dishevelled|lost)",
    r"\bforg(?:o|e)t(?:ten)? where (?:he|she|they|i) lives?", r"\bearly hours\b" + _W % 8 + r"(?:out|road|street|wander|outside)",
    r"\b(?:seen|found) (?:out )?(?:in the (?:road|street)|outside) (?:in the )?(?:early hours|at night|in the night)",
    r"\bgoing to bed at \w+ (?:o'clock )?to keep warm", r"\bcan(?:'t|not| not) afford (?:to )?(?:keep )?(?:the )?(?:meter|food|eat|heat)",
    # a few words in the community languages UK landlords most often receive (Welsh, Polish, Arabic, Urdu)
    r"\b(?:heb ei weld|wedi ei weld|wedi'i weld|llenni ar gau|cam-drin|trais|poeni am|gweiddi ar|sgrechian|llygad ddu)",
    r"\b(?:przemoc|bije|boję się|znęca|krzyczy na|pomocy|uderz\w*|płakała|płacze|agresywn\w*)",
    r"\b(?:pașapoart\w*|pasapoart\w*|mi-e frică|mi-e frica|bătaie|violență|cyffuriau|nodwyddau|dim bwyd)",
    r"مارت", r"مدد", r"دروازہ بند", r"ضرب", r"كدمة", r"عنف", r"يصرخ", r"تبكي", r"يقفل", r"لا تخبر",
    r"\b(?:maarta|marta hai|dar lagta|akeli rehti|jaane nahi dete|passport (?:bhi )?(?:saas|unke|us) ke paas)\b",
)

EMERGENCY_HAZARD = _rx(
    # gas and carbon monoxide
    r"\bsmell(?:s|ing|t)? (?:of )?gas\b", r"\bgas (?:smell|leak|escape)", r"\bleak(?:ing)? gas\b",
    r"\bsmell(?:s|ed|t|ing)? (?:like|of) gas\b", r"\bgassy\b", r"\bcarbon monoxide\b", r"\bco2? (?:alarm|detector|monitor)",
    r"\bfumes\b",
    # electrics
    r"\b(?:exposed|bare|live|loose|hanging|dangling) (?:electric(?:al)? )?(?:wires?|wiring|cables?)",
    r"\bwires?" + _W % 3 + r"(?:exposed|hanging out|sticking out|showing)",
    r"\bspark(?:s|ing|ed)\b", r"\belectric(?:al)? shock", r"\bgot a shock\b",
    r"\bburning smell\b", r"\bsmell of burning\b", r"\bsmoke (?:coming|from)",
    r"\b(?:socket|fuse ?box|consumer unit|light fitting|switch)" + _W % 5 + r"(?:melt|burn|scorch|smok|spark|water)",
    r"\bwater" + _W % 5 + r"(?:socket|light fitting|fuse ?box|consumer unit|electrics)",
    # water from above, flooding, no water
    r"\b(?:water|leak|sewage)" + _W % 6 + r"(?:through|from|down) (?:the|my|our) (?:ceiling|light)",
    r"\b(?:pouring|gushing|flooding|flooded|dripping|coming) (?:in |down )?(?:through|from) (?:the|my|our) (?:ceiling|flat above|roof)",
    r"\bflat (?:above|upstairs)" + _W % 6 + r"(?:leak|flood|water|pouring)",
    r"\b(?:leak|flood|water)" + _W % 6 + r"flat (?:above|upstairs)",
    r"\bflood(?:ed|ing)?\b", r"\bburst (?:pipe|water main|tank)", r"\bsewage\b",
    r"\bno (?:running )?water\b", r"\bwater (?:has been |is |was )?(?:cut off|turned off|off)\b",
    r"\bceiling" + _W % 4 + r"(?:collaps|fall|fell|come down|came down|caved|bulg|sagg|crack)",
    # structure
    r"\bcollaps", r"\bstructural", r"\b(?:wall|ceiling|roof|floor|balcony|stairs?)" + _W % 3 + r"(?:crumbling|falling (?:down|in|apart)|giving way|unsafe)",
    r"\bceiling" + _W % 7 + r"(?:collaps|fall|fell|come down|came down|caved|bulg|sagg|crack)",
    r"\b(?:wall|ceiling|floor|chimney|roof)\b" + _W % 5 + r"(?:bowing|bulging|sagging|leaning|moving|subsid)",
    r"\bcrack" + _W % 6 + r"(?:wider|widening|bigger|growing)",
    r"\b(?:railing|railings|banister|bannister|balustrade|handrail)" + _W % 5 + r"(?:loose|broken|gave way|give way|came off|come off|missing)",
    r"\b(?:drain|manhole) cover" + _W % 3 + r"(?:off|missing|broken|open)", r"\bopen manhole\b",
    r"\basbestos\b", r"\blive (?:terminals?|parts?)\b", r"\b(?:killed|seriously (?:hurt|injured)|someone will get hurt)\b",
    r"\bwater (?:coming|pouring|leaking|dripping|gushing) (?:in|through|down)",
    r"\blocked out\b" + _W % 8 + r"(?:baby|child|children|kids|toddler)",
    r"\b(?:crack|bang|flash|flames?|fizz)" + _W % 8 + r"(?:fuse|socket|trip switch|consumer unit|plug|electrics)",
    r"\b(?:fuse ?box|socket|trip switch|consumer unit|plug)" + _W % 8 + r"(?:crack|bang|flash|flames?|fizz)",
    r"\b(?:cables?|wires?|wiring)" + _W % 2 + r"(?:hanging|dangling|loose|showing|poking)", r"\bhanging (?:from|by) (?:its|the) (?:wires|cable)",
    r"\b(?:see|seen|touch) the wires\b", r"\bdanger(?:ous)?\b", r"\bc1\b",
    r"\b(?:toilet|sewage|drain|sewer)s?" + _W % 4 + r"overflow", r"\boverflowing toilet\b",
    r"\b(?:stuck|trapped) in (?:the |a )?lift\b", r"\blift(?:'s| is| has)? (?:stuck|broken down with)", r"\btrapped\b",
    r"\b(?:someone|somebody|anyone|a child|kids?|children|people) (?:could|will|might|is going to) (?:fall|get hurt|be hurt|be injured|be killed|die|get killed)",
    r"\b(?:could|will|might) (?:fall (?:out|off|down)|come down|collapse|hit (?:someone|somebody))",
    r"\b(?:window )?restrictors?\b", r"\bpendant alarm", r"\bcommunity alarm", r"\bcareline\b", r"\blifeline\b",
    r"\bneedles\b", r"\bsyringes?\b", r"\bhypothermi", r"\bscald(?:ing|ed)?\b", r"\bhad a fall\b", r"\bpull ?cords?\b",
    r"\b(?:nearly|almost) (?:fell|fall|tripped|went over|went through)", r"\bscorch(?:ed|ing|es| marks?)?\b",
    r"\b(?:trips?|tripping|tripped|blows?|blowing|blew) (?:the |out the |out )?(?:electrics|fuses?|power|trip switch)",
    r"\b(?:bricks?|scaffold(?:ing)?|poles?|render|masonry|slates?|roof tiles?|tiles|glass|debris|chunks?|coping stones?|"
    r"plaster|gutter(?:ing)?|branch(?:es)?)" + _W % 3 + r"(?:fell|fallen|falling|came down|come down|coming down|dropped|dropping|blew off)",
    r"\b(?:could|will|might|may|going to) (?:fall|come down|collapse|give way)\b",
    r"\b(?:whiff|smell|smelt|smelling|odour|rotten eggs?)\b" + _W % 8 + r"(?:cooker|hob|boiler|meter|oven|gas)\b",
    r"\b(?:window|door)s?" + _W % 3 + r"(?:won't|wont|will not|doesn't|doesnt|does not|can't|cannot) (?:shut|close|lock)",
    r"\b(?:lift|lifts)\b" + _W % 8 + r"(?:out of (?:order|service|action)|broken|not working|stuck|down|out for)",
    r"\bhole\b" + _W % 8 + r"(?:deep|unguarded|uncovered|open|fall in|fell in)",
    r"\b(?:make|made|making) (?:it |them |this |the \w+ |the area )?safe\b", r"\b(?:narrowly|only just|just) miss(?:ed|ing)\b",
    r"\bmissed (?:me|him|her|them|my \w+|a \w+) by\b",
    r"\b(?:render|plaster|masonry|stone(?:work)?|concrete|cladding|fascia|bricks?)" + _W % 3 +
    r"(?:coming away|came away|coming off|came off|falling off|fell off|landed|hanging off)",
    r"\b(?:hanging|half) (?:half )?off (?:the )?(?:edge|roof|wall|hinges?|bracket)", r"\bsmashed on the (?:path|pavement|ground)",
    r"\b(?:emergency lighting|escape route|fire escape|stairwell lights?)\b" + _W % 6 +
    r"(?:not work|n't work|broken|out|blocked|dark|black)", r"\bpitch (?:black|dark)\b",
    r"\b(?:rusted|rotten|rotted|worn) (?:right |all the way )?through\b", r"\b(?:gave|giving|give) way\b",
    r"\b(?:will|could|might|would) (?:go|fall|put (?:a|their) foot) through\b",
    r"\bcover (?:is |has been |was |has come )?(?:off|missing|broken|lifted)\b",
    r"\b(?:took|taken|take|removed|disconnected|ripped|pulled) (?:down |out |off )?(?:both |the |my |all |our )?"
    r"(?:(?:the|our|my) )?(?:smoke|heat|fire|co) (?:alarms?|detectors?)",
    r"\bno (?:working )?(?:smoke|heat|fire|co) (?:alarms?|detectors?)\b",
    r"\b(?:khatarnak|khatarnaak|khatra|nange taar|taar nange|niebezpieczn\w*|peryglus)\b",
    r"\b(?:fell|fallen|tripped|slipped)" + _W % 3 + r"(?:broke|broken|hurt|injured|hospital|ambulance)",
    # a few words in the community languages UK landlords most often receive (Welsh, Polish, Urdu, Arabic)
    r"\bnwy\b", r"\b(?:dim|heb) (?:gwres|wres|dŵr|dwr)\b", r"\bgaz(?:u|em)?\b",
    r"\b(?:brak|nie ma|nie działa) (?:ogrzewania|ciepłej wody|wody|prądu)", r"\bogrzewanie\b",
    r"\b(?:zalewa|przecieka|cieknie)\b", r"\bpani (?:gir|aa)\b", r"غاز", r"تسرب", r"تدفئة", r"مدفأة", r"سخان",
    r"\b(?:kuleyl\w*|biyo la\'?aan|gaas)\b",
    # fire safety
    r"\bfire (?:door|alarm|exit|escape|safety|risk|hazard|extinguisher)",
    r"\bsmoke (?:alarm|detector)s?" + _W % 4 + r"(?:not|n't|broken|missing|beep|chirp|removed|stopped|dead|faulty|no power|nothing happens)",
    r"\bsprinklers?\b", r"\bcladding\b", r"\b(?:on )?fire\b(?! (?:brigade|service))",
    # security
    r"\b(?:can(?:no|')?t|cannot|won't|will not|doesn't|does not) (?:lock|close|shut)" + _W % 3 + r"(?:front |back )?door",
    r"\b(?:front|back) door" + _W % 4 + r"(?:kicked in|broken|won't lock|will not lock|doesn't lock|not locking)",
    r"\bbroken into\b", r"\bbreak-?in\b",
)

# No heating or hot water is an emergency for a vulnerable household in cold weather.
_NO_HEAT = _rx(
    r"\bno (?:working )?(?:heating|heat|hot water|gas)\b", r"\b(?:heating|boiler|hot water|radiators?|gas)" + _W % 6 +
    r"(?:not working|broken|broke|stopped|packed up|gone|off|failed|isn't working|is not working|won't|not getting "
    r"warm|cold|not fixed|fixed)", r"\b(?:broken|failed|faulty) (?:heating|boiler)",
    r"\bwithout (?:any )?(?:heating|heat|hot water)\b", r"\b(?:fix|repair|sort)(?:ed)? (?:my|the|our|her|his) (?:heating|boiler)",
    r"\b(?:heaters?|heating|radiators?|boiler)" + _W % 4 + r"(?:only works?|don't work|doesn't work|do not work|does not work|"
    r"won't come on|not coming on|keeps? (?:going off|cutting out)|hasn't worked|has not worked|hasn't been working)",
    r"\b(?:flat|house|home|room|bedroom|place)(?:'s| is| has been| was) (?:so cold|absolutely freezing|freezing|"
    r"bitterly cold|like a fridge|ice cold)",
    r"\b(?:can't|cannot|can not) afford (?:to )?(?:heat|put the heating on|the heating)",
    # Polish, Turkish, Romanian, Welsh: heating or hot water not working
    r"\b(?:brak|nie ma) (?:ogrzewania|ciepłej wody)\b", r"\bogrzewanie nie działa\b",
    r"\b(?:kalorifer|kombi|ısıtma|sıcak su)" + _W % 3 + r"(?:çalışmıyor|yok|bozuk)",
    r"\b(?:nu (?:avem|am|are) (?:căldură|apă caldă)|caloriferele? (?:sunt reci|nu merg))\b",
    r"\bdim (?:gwres|dŵr poeth)\b",
)
_VULNERABLE_OR_COLD = _rx(
    r"\b(?:baby|babies|newborn|infant|toddler|pregnant|elderly|old age|pensioner|disabled|disability|"
    r"wheelchair|vulnerable|asthma|copd|chemotherapy|cancer|dementia|oxygen|medical condition|ill|"
    r"illness|sick|poorly|hospital|frail|carer|\d{2,3}[- ]years?[- ]old|in (?:my|her|his) (?:80|90|70)s)\b",
    r"\b(?:[6-9]\d|1[01]\d) (?:yaşında|lat|de ani|oed)\b", r"\b(?:hasta|bebek|çocuk\w*|yaşlı|soğuk)\b",
    r"\b(?:freezing|cold|winter|snow|snowing|ice|icy|frost|below zero|minus|cold snap|degrees)\b",
    r"\b(?:kids|children|child|baby|babies|grandchildren|little ones|under (?:five|5|two|2))\b",
    r"\b(?:angina|heart|diabetic|insulin|medication|stroke|mobility|sheltered)\b",
    r"\b(?:i'm|i am|he's|he is|she's|she is|aged|who is|is) (?:[6-9]\d|1[01]\d)\b", r",\s?(?:[7-9]\d|10\d),",
    r"\b(?:arthritis|walker|zimmer|dialysis|pregnancy|bronchitis|lungs?|breathing|care leaver|hypothermia)\b",
    r"\((?:[7-9]\d|10\d)\)", r"\b\d degrees\b",
    r"بارد", r"طفل", r"\b(?:qabow|carruur|oer|oerfel|zimno|dziecko)\b",
)

_DAMP_MOULD = re.compile(
    r"\b(?:damp(?:ness|ed)?|mou?ld(?:y|s)?|mildew|condensation|black spots?|fungus|fungal|spores?|"
    r"rising damp|penetrating damp|wet walls?|water marks?|musty|mushrooms? growing|walls? (?:are |is )?sweating|streaming down (?:the |my )?(?:windows?|walls?)|tide ?marks?|"
    r"black stuff|black and wet|wet and black|clammy|fuzzy (?:bits?|patch(?:es)?|stuff|growth|spots?)|puddles? on the (?:window ?)?sills?|"
    r"(?:windows?|glass) (?:are |is )?(?:absolutely |always |constantly )?(?:streaming|dripping|running with water)|"
    r"black (?:in|on|around|up|all over) the (?:corners?|walls?|ceiling|windows?|window frames?|sealant|grout)|"
    r"(?:going|turning|gone) (?:grey|black|green)(?:,| and)? speckl\w*|(?:ceiling|walls?|corners?) (?:is |are )?"
    r"(?:going|turning) (?:grey|black|green)|"
    r"(?:lleithder|llwydni|(?:ll|11) ?wydni|damprwydd|smotiau (?:bach )?du(?:on)?|tamp|pleśń|pleśni|wilgoć|wilgoci|wilgotn\w*|czarne plamy|grzyb\w*|seelan|phaphoond|"
    r"phaphundi|qoyaan|mucegai|igrasie|kalo dag))\b|رطوبة|عفن|سیلن|پھپھوند")
_DAMP_NEGATED_BEFORE = re.compile(r"\b(?:no|not|without|free of|never had|never any|no more|no sign of|"
                                  r"no signs of|no longer)\W+(?:\w+\W+){0,2}$")
_DAMP_NEGATED_AFTER = re.compile(r"^\W*(?:\w+\W+){0,3}?(?:has|have|is|are|was)?\W*(?:all )?(?:gone|been "
                                 r"(?:fixed|treated|sorted|removed|resolved|cleared|cleaned|dealt with))")
_NOT_DAMP_CONTEXT = re.compile(r"\b(?:damp (?:cloth|sponge|towel)|mould(?:ed|ing)? (?:plastic|skirting|trim))\b")

ESCALATION = _rx(
    r"\bstage (?:2|two|ii)\b", r"\bescalat", r"\bsecond stage\b", r"\bnext stage\b",
    r"\b(?:not|un)(?:\s+)?(?:happy|satisfied|content)" + _W % 4 +
    r"(?:stage (?:1|one)|response|reply|outcome|answer|decision|resolution|final response|letter)",
    r"\bdissatisfied" + _W % 4 + r"(?:stage (?:1|one)|response|reply|outcome|answer|decision)",
    r"\b(?:remain|still) (?:un(?:happy|satisfied)|dissatisfied|not (?:happy|satisfied))",
    r"\b(?:review|reconsider|look again at) (?:of )?(?:my|the|this) (?:complaint|decision|case)",
    r"\b(?:take|taking|took|taken) (?:this|it|my complaint|the complaint|matters?|things) (?:further|higher)\b",
    r"\b(?:who is|who's|someone|somebody) (?:above|higher than) (?:you|your manager)\b",
    # Polish, Romanian/Portuguese, Turkish, Welsh: "stage 2"
    r"\b(?:etap(?:u|ie)? (?:2|drugi)|drugi(?:ego)? etap\w*|etapa (?:2|a doua|doi)|segunda (?:fase|etapa))\b",
    r"\b(?:2\.? aşama\w*|ikinci aşama\w*|cam dau|(?:i|am|ar|cais|symud i) (?:gam|cham|ngham|cam) (?:2|dau))\b",
    # Welsh: "not satisfied with / do not agree with" the response or letter
    r"\b(?:ymateb|llythyr)\W+(?:\w+\W+){0,5}?(?:ddim|nid wyf|nid ydw i|dydw i ddim) yn (?:fodlon|cytuno)",
    r"\b(?:ddim|nid wyf|nid ydw i) yn (?:fodlon|cytuno) (?:â|a|gyda)'?r? ?(?:ymateb|llythyr|penderfyniad)",
    r"\b(?:reject|do not accept|don't accept|dispute)" + _W % 3 + r"(?:response|outcome|decision|findings)",
)

REPRESENTATIVE = _rx(
    r"\bon (?:behalf|behalves) of\b", r"\bon (?:his|her|their|my (?:\w+'?s?)) behalf\b",
    r"\bconstituents?\b", r"\bour client\b", r"\bmy client\b", r"\bwe (?:act|are acting) for\b",
    r"\bacting (?:for|on)\b", r"\bi (?:represent|am representing)\b", r"\bpower of attorney\b",
    r"\b(?:cllr|councillor|member of parliament|mp for|solicitors?|advocate|advocacy|caseworker|"
    r"support worker|social worker|key ?worker|citizens advice|shelter)\b" + _W % 6 + r"(?:for|behalf|tenant|resident|client)",
    r"\bi am (?:a |the |your )?(?:local |ward )?(?:councillor|cllr|mp|solicitor|advocate|support worker|"
    r"social worker|caseworker|carer|key ?worker)\b",
    r"\b(?:writing|emailing|contacting you|getting in touch|complaining)" + _W % 2 + r"(?:for|about) my " + _RELATIVE,
    r"\bmy " + _RELATIVE + r"(?:'s| who| is| has been)" + _W % 4 + r"(?:tenant|your tenant|lives? in|flat|house|home)",
    r"\bi am (?:his|her|their) (?:carer|son|daughter|advocate|next of kin)\b",
    r"\b(?:with|has given|given|gave) (?:his|her|their|my \w+'?s?) (?:consent|permission)\b",
    r"\bwith (?:mum's|dad's|(?:his|her|their) (?:full )?)(?:consent|permission|agreement)\b",
    r"\b(?:consent given|has consented|consents\b|(?:she|he)(?:'s| is) happy for me|signed (?:your|the|a) consent)",
    r"\b(?:asked|asking|wants?|wanted) me to (?:write|email|send|forward|contact|tell|report|put|pass|get in touch|"
    r"ring|raise|let you know|help)",
    r"\b(?:forwarding|forwarded|sending|passing on) (?:this|it|the below|below|a message)? ?(?:from|for) (?:my|her|his|a|our)\b",
    r"\b(?:i'm|i am|i work as|as|writing as) (?:a|an|the|her|his|their|mrs? \w+'s) (?:[\w-]+ ){0,3}?(?:carer|support worker|"
    r"social worker|advocate|nurse|gp|doctor|teacher|pcso|police officer|occupational therapist|volunteer|councillor|"
    r"caseworker|case worker|key ?worker|appointee|executor|solicitor|adviser|advisor|midwife|health visitor|"
    r"mckenzie friend|secretary|chair)\b",
    r"\bmy (?:patient|client|service user)s?\b", r"\b(?:supporting|i support|i help|helping|representing) (?:mr|mrs|ms|miss|dr)\b",
    r"\bmy " + _RELATIVE + r",? \(?(?:mr|mrs|ms|miss)\b", r"\b(?:i'm|i am) (?:mr|mrs|ms|miss) (?:[\w-]+ ){0,2}[\w-]+'s "
    r"(?:son|daughter|grandson|granddaughter|niece|nephew|carer|neighbour|brother|sister)\b",
    r"\bwe represent\b", r"\bi act for\b", r"\b(?:his|her|their) (?:appointee|executor|next of kin|advocate)\b",
)

_NUMBER_WORDS = {"one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                 "fifteen": 15, "sixteen": 16, "eighteen": 18, "twenty": 20, "several": 2, "many": 2, "few": 2,
                 "couple of": 2, "a couple of": 2, "a few": 2}
_NUM = r"(\d{1,3}|a couple of|couple of|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|" \
       r"thirteen|fourteen|fifteen|sixteen|eighteen|twenty|several|many|a few|few|an?)"
_AGO = re.compile(r"\b(?:(over |more than )|nearly |almost |about |around )?" + _NUM + r"\s+(years?|months?)\s+ago\b")
# Phrases that date a problem without a number, as (pattern, kind): _phrase_date turns the kind into a date.
_DATED_PHRASES = (
    (_rx(r"\b(?:over|more than) a year (?:ago|since)\b"), "year_and_a_day"),
    (_rx(r"\b(?<!since )(?<!the )last year\b"), "last_year"),
    (_rx(r"\bthe year before last\b"), "year_before_last"),
    (_rx(r"\byears ago\b", r"\blong time ago\b"), "two_years"),
)
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_MONTH_RX = "|".join(m[:3] + f"(?:{m[3:]})?" for m in _MONTHS)
_YEAR = re.compile(r"\b(?:(?P<month>" + _MONTH_RX + r")\.?\s+|(?:in|back in|during|early|late|summer|winter|"
                   r"spring|autumn)\s+)(?P<year>(?:19|20)\d\d)\b")


def rule_flags(text: str) -> set[str]:
    """Flags the rules raise for this text (prepared or raw).

    Never LATE: whether a complaint is out of time depends on the landlord's time limit and the date it was
    received, so pipeline.decide asks ``Policy.is_late`` about the date ``issue_date_in`` finds.
    """
    text = text.lower()
    flags: set[str] = set()
    if SAFEGUARDING.search(text):
        flags.add(Flag.SAFEGUARDING.value)
    if EMERGENCY_HAZARD.search(text) or (_NO_HEAT.search(text) and _VULNERABLE_OR_COLD.search(text)):
        flags.add(Flag.EMERGENCY_HAZARD.value)
    if damp_or_mould(text):
        flags.add(Flag.DAMP_MOULD.value)
    if ESCALATION.search(text):
        flags.add(Flag.ESCALATION_REQUEST.value)
    if REPRESENTATIVE.search(text):
        flags.add(Flag.REPRESENTATIVE.value)
    return flags


def damp_or_mould(text: str) -> bool:
    """A mention of damp or mould that is not negated ("no damp", "the mould has gone")."""
    for match in _DAMP_MOULD.finditer(text):
        if _NOT_DAMP_CONTEXT.match(text, match.start()):
            continue
        before = text[max(0, match.start() - 40): match.start()]
        after = text[match.end(): match.end() + 50]
        if _DAMP_NEGATED_BEFORE.search(before) or _DAMP_NEGATED_AFTER.search(after):
            continue
        return True
    return False


def issue_date_in(text: str, today: dt.date) -> dt.date | None:
    """The earliest date the text dates the problem to, counted back from ``today`` (pass the day the
    message was received); None when it gives no date. Whether that is out of time is the policy's call.

    How words become dates:
    - "two years ago", "18 months ago", "a year ago": that many months before today, the same day of the
      month; "over"/"more than" adds a day ("over a year ago" is a year and a day before today);
    - "last year": 1 January of last year; "the year before last": 1 January two years back;
    - "years ago", "a long time ago": two years before today (vague, but plainly old);
    - "March 2024": 1 March 2024; a bare year ("in 2024", "summer 2024"): 31 December of it, since it
      could mean any part of the year (so a bare year alone is late only when all of it is);
    - "since 2019", "from 2022" describe something ongoing, not a dated event: no date.
    Dates after today, and years before 1950, are ignored.
    """
    if "ago" not in text and "year" not in text and "19" not in text and "20" not in text:
        return None  # the cheap test first: every pattern below needs one of these
    text = text.lower()
    dates = [_phrase_date(kind, today) for pattern, kind in _DATED_PHRASES if pattern.search(text)]
    for match in _AGO.finditer(text):
        count = _NUMBER_WORDS.get(match.group(2).strip()) or _to_int(match.group(2))
        months = count * 12 if match.group(3).startswith("year") else count
        if months:
            dates.append(months_before(today, months) - dt.timedelta(days=1 if match.group(1) else 0))
    for match in _YEAR.finditer(text):
        year, month = int(match.group("year")), _month_number(match.group("month"))
        day = dt.date(year, month, 1) if month else dt.date(year, 12, 31)
        if 1950 <= year and day <= today:
            dates.append(day)
    return min(dates, default=None)


def _phrase_date(kind: str, today: dt.date) -> dt.date:
    if kind == "year_and_a_day":
        return months_before(today, 12) - dt.timedelta(days=1)
    if kind == "last_year":
        return dt.date(today.year - 1, 1, 1)
    if kind == "year_before_last":
        return dt.date(today.year - 2, 1, 1)
    return months_before(today, 24)


def _to_int(value: str) -> int:
    return int(value) if value.isdigit() else 0


def _month_number(name: str | None) -> int | None:
    if not name:
        return None
    return next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(name.lower()[:3]))


def consistent_flags(category: str, flags: set[str]) -> set[str]:
    """Flags that make sense with the category: only a complaint can be out of time ("late")."""
    if category != "complaint":
        return flags - {Flag.LATE.value}
    return flags


def may_acknowledge_by_category(confidence: float, threshold: float, flags: set[str] | frozenset[str]) -> bool:
    """The classifier's part of whether a category-specific acknowledgement may go out without a person: a
    confident category, and neither a safeguarding concern (a person reads it first) nor machine-generated
    wording (that is how loops start). pipeline.decide calls this and adds what the text alone cannot
    tell (late, no case to escalate, a poor scan, an address we cannot write to); the evaluation's
    "automatically acknowledged" figures count this part."""
    return confidence >= threshold and not {Flag.SAFEGUARDING.value, Flag.AUTO_REPLY.value} & flags
