"""The residents' public pages' words, in English ("en") and Welsh ("cy"), once.

Invariant: both tables have exactly the same keys (a test checks), so a page never falls back to
English half-way; ``{name}`` placeholders are filled with ``str.format`` by the page. Welsh is offered
only when ``[landlord] welsh`` is on; ``language`` decides which one a request gets.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from casework.vocabulary import Adjustment, Category, Language

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to main content",
        "switch": "Cymraeg",
        "switch_lang": "cy",
        "report_title": "Make a complaint or give feedback",
        "report_intro": "Tell us what went wrong, or what went well, and what you would like us to do. "
                        "You will get a reference as soon as you send this form.",
        "required_note": "Questions marked (optional) can be left empty. We need the rest.",
        "optional": "(optional)",
        "what_legend": "What it is about",
        "description": "What happened?",
        "description_hint": "Tell us what went wrong, when it started and where.",
        "outcome": "What would you like to happen?",
        "outcome_hint": "For example, a repair, an apology or an explanation.",
        "you_legend": "About you",
        "name": "Your full name",
        "contact_legend": "How can we contact you?",
        "contact_hint": "Give at least one of these: an email address, a phone number or a postal address.",
        "email": "Email address",
        "phone": "Phone number",
        "address": "Address of the home this is about",
        "address_hint": "House or flat number, street and town. We write to this address if you do not give "
                        "an email address.",
        "postcode": "Postcode",
        "behalf_legend": "Are you writing for someone else?",
        "behalf_self": "No, this is about me",
        "behalf_representative": "Yes, I am helping a resident (family, friend, advocate or support worker)",
        "behalf_councillor": "Yes, I am their councillor",
        "behalf_mp": "Yes, I am their MP",
        "resident_name": "The resident's full name",
        "consent": "The resident agrees that I can complain for them and see their information",
        "behalf_hint": "If you are writing for someone else, give your own contact details above and the "
                       "resident's name here.",
        "adjustments_legend": "Do you need anything to help you deal with us?",
        "adjustments_hint": "Choose all that apply.",
        "adjustment_large_print": "Letters in large print",
        "adjustment_phone_call": "A phone call instead of letters",
        "adjustment_post_only": "Letters by post, not emails",
        "adjustment_interpreter": "An interpreter or another language",
        "adjustment_other": "Something else",
        "adjustment_note": "Tell us more, for example which language",
        "attachments": "Photos or documents",
        "attachments_hint": "Up to {files} files: photos (JPEG, PNG or HEIC) or PDF documents, each up to "
                            "{size}, {total} at most in all.",
        "attachments_again": "If you chose files, please choose them again.",
        "honeypot": "Leave this empty",
        "send": "Send",
        "privacy": "We use what you tell us only to deal with your complaint or feedback.",
        "error_title": "There is a problem",
        "error_prefix": "Error:",
        "need_description": "Tell us what happened",
        "too_long": "This is too long: write at most {max} characters",
        "need_contact": "Give an email address, a phone number or a postal address so we can reply",
        "bad_email": "Enter an email address like name@example.com",
        "bad_phone": "Enter a phone number like 01632 960 001 or 07700 900 982",
        "bad_postcode": "Enter a full postcode, like EX1 4RC",
        "need_postcode": "Enter the postcode of the address",
        "need_address": "Enter the address that goes with the postcode",
        "need_name": "Enter your name",
        "need_resident_name": "Enter the name of the resident you are writing for",
        "need_consent": "Confirm that the resident agrees you can complain for them",
        "bad_choice": "Choose one of the options given",
        "too_many_files": "Choose at most {files} files",
        "file_too_big": "{filename} is bigger than {size}: choose a smaller file",
        "file_wrong_kind": "{filename} is not a photo (JPEG, PNG or HEIC) or a PDF document",
        "file_mismatch": "{filename} is not really a {claimed} file: its contents are a different kind. "
                         "Choose the file again, or save it as a photo or PDF",
        "file_empty": "{filename} is empty",
        "thanks_title": "Thank you, we have received your message",
        "your_reference": "Your reference is",
        "keep_reference": "Please keep it. You need it to check how your complaint is going, and to quote "
                          "whenever you contact us.",
        "ack_email": "We will email an acknowledgement to {email}.",
        "ack_letter": "We will post an acknowledgement to your address.",
        "ack_none": "You did not give an email or postal address, so we will not write to you. We may phone you.",
        "ack_later": "We will send you your reference shortly.",
        "check_status": "Check the progress of your complaint",
        "status_title": "Where is my complaint?",
        "status_intro": "Enter your reference and the postcode or email address you gave us.",
        "reference": "Your reference",
        "reference_hint": "For example CMP-2026-000123. It is in our acknowledgement.",
        "proof": "Postcode or email address",
        "proof_hint": "The postcode of your address, or the email address you gave us.",
        "check": "Check",
        "need_reference": "Enter your reference",
        "need_proof": "Enter your postcode or email address",
        "not_found": "We could not find a complaint with that reference and postcode or email address. "
                     "Check them and try again, or call us on {phone}.",
        "status_for": "Progress of {reference}",
        "what": "What it is",
        "stage": "Stage",
        "stage_n": "Stage {stage}",
        "state": "Where it is",
        "state_open": "Open: we are dealing with it",
        "state_held": "Open: we are dealing with it",
        "state_closed": "Closed",
        "state_merged": "Closed: joined with another complaint of yours, which we are dealing with",
        "received": "Received",
        "acknowledged": "Acknowledged",
        "acknowledgement_due": "We will acknowledge it by",
        "response_due": "Our response is due by",
        "extended_to": "We have extended this to",
        "responded": "We responded",
        "closed": "Closed",
        "not_yet": "Not yet",
        "escalate_title": "If you are not happy",
        "escalate_stage1": "If you are not happy with our stage 1 response, you can ask us to look at your "
                           "complaint again at stage 2. Contact us on {phone} or at {email}, quoting your "
                           "reference.",
        "escalate_by": "Please ask by {date}.",
        "escalate_early": "Once we have sent our stage 1 response, you can ask for stage 2 if you are not happy "
                          "with it.",
        "ombudsman": "You can contact the {name} at any time for help. After our final response, or if we do "
                     "not answer in time, you can ask them to look at your complaint.",
        "ombudsman_phone": "Phone",
        "ombudsman_website": "Website",
        "ombudsman_address": "Post",
        "expired": "This form had expired. Please check your answers and press the button again.",
        "too_large_title": "Your files are too big",
        "too_large": "The form can take up to {total} in all, and each file can be up to {size}. Go back and "
                     "choose smaller files or fewer of them. You can also email them to {email}.",
        "go_back": "Go back to the form",
        "too_many_title": "Please wait before trying again",
        "too_many": "We have had a lot of messages from your connection. Please try again in {minutes}. "
                    "If it is urgent, call us on {phone}.",
        "minutes_1": "1 minute",
        "minutes_n": "{n} minutes",
        "contact_us": "Contact us",
        "phone_label": "Phone",
        "website_label": "Website",
        "category_complaint": "Complaint",
        "category_service_request": "Request for a service or repair",
        "category_compliment": "Compliment",
        "category_out_of_scope": "General enquiry",
    },
    "cy": {
        "skip": "Neidio i'r prif gynnwys",
        "switch": "English",
        "switch_lang": "en",
        "report_title": "Gwneud cwyn neu roi adborth",
        "report_intro": "Dywedwch wrthym beth aeth o'i le, neu beth aeth yn dda, a beth yr hoffech i ni ei wneud. "
                        "Byddwch yn cael cyfeirnod cyn gynted ag y byddwch yn anfon y ffurflen hon.",
        "required_note": "Gallwch adael cwestiynau sydd wedi'u marcio (dewisol) yn wag. Mae angen popeth arall "
                         "arnom.",
        "optional": "(dewisol)",
        "what_legend": "Beth yw'r mater",
        "description": "Beth ddigwyddodd?",
        "description_hint": "Dywedwch wrthym beth aeth o'i le, pryd y dechreuodd a ble.",
        "outcome": "Beth hoffech chi i ddigwydd?",
        "outcome_hint": "Er enghraifft, gwaith trwsio, ymddiheuriad neu esboniad.",
        "you_legend": "Amdanoch chi",
        "name": "Eich enw llawn",
        "contact_legend": "Sut gallwn ni gysylltu â chi?",
        "contact_hint": "Rhowch o leiaf un o'r rhain: cyfeiriad e-bost, rhif ffôn neu gyfeiriad post.",
        "email": "Cyfeiriad e-bost",
        "phone": "Rhif ffôn",
        "address": "Cyfeiriad y cartref y mae hyn yn ymwneud ag ef",
        "address_hint": "Rhif y tŷ neu'r fflat, y stryd a'r dref. Byddwn yn ysgrifennu i'r cyfeiriad hwn os na "
                        "fyddwch yn rhoi cyfeiriad e-bost.",
        "postcode": "Cod post",
        "behalf_legend": "Ydych chi'n ysgrifennu ar ran rhywun arall?",
        "behalf_self": "Na, mae hyn amdanaf i",
        "behalf_representative": "Ydw, rwy'n helpu preswylydd (teulu, ffrind, eiriolwr neu weithiwr cymorth)",
        "behalf_councillor": "Ydw, fi yw eu cynghorydd",
        "behalf_mp": "Ydw, fi yw eu Haelod Seneddol",
        "resident_name": "Enw llawn y preswylydd",
        "consent": "Mae'r preswylydd yn cytuno y gallaf gwyno ar eu rhan a gweld eu gwybodaeth",
        "behalf_hint": "Os ydych chi'n ysgrifennu ar ran rhywun arall, rhowch eich manylion cyswllt eich hun "
                       "uchod ac enw'r preswylydd yma.",
        "adjustments_legend": "Oes angen unrhyw beth arnoch i'ch helpu i ddelio â ni?",
        "adjustments_hint": "Dewiswch bob un sy'n berthnasol.",
        "adjustment_large_print": "Llythyrau mewn print bras",
        "adjustment_phone_call": "Galwad ffôn yn lle llythyrau",
        "adjustment_post_only": "Llythyrau drwy'r post, nid negeseuon e-bost",
        "adjustment_interpreter": "Cyfieithydd neu iaith arall",
        "adjustment_other": "Rhywbeth arall",
        "adjustment_note": "Dywedwch fwy wrthym, er enghraifft pa iaith",
        "attachments": "Lluniau neu ddogfennau",
        "attachments_hint": "Hyd at {files} ffeil: lluniau (JPEG, PNG neu HEIC) neu ddogfennau PDF, pob un hyd at "
                            "{size}, a {total} ar y mwyaf i gyd.",
        "attachments_again": "Os dewisoch chi ffeiliau, dewiswch nhw eto.",
        "honeypot": "Gadewch hwn yn wag",
        "send": "Anfon",
        "privacy": "Dim ond i ddelio â'ch cwyn neu'ch adborth y byddwn yn defnyddio'r hyn rydych yn ei ddweud "
                   "wrthym.",
        "error_title": "Mae problem",
        "error_prefix": "Gwall:",
        "need_description": "Dywedwch wrthym beth ddigwyddodd",
        "too_long": "Mae hyn yn rhy hir: ysgrifennwch {max} nod ar y mwyaf",
        "need_contact": "Rhowch gyfeiriad e-bost, rhif ffôn neu gyfeiriad post er mwyn i ni allu ateb",
        "bad_email": "Rhowch gyfeiriad e-bost fel enw@enghraifft.com",
        "bad_phone": "Rhowch rif ffôn fel 01632 960 001 neu 07700 900 982",
        "bad_postcode": "Rhowch god post llawn, fel EX1 4RC",
        "need_postcode": "Rhowch god post y cyfeiriad",
        "need_address": "Rhowch y cyfeiriad sy'n mynd gyda'r cod post",
        "need_name": "Rhowch eich enw",
        "need_resident_name": "Rhowch enw'r preswylydd rydych yn ysgrifennu ar ei ran",
        "need_consent": "Cadarnhewch fod y preswylydd yn cytuno y gallwch gwyno ar eu rhan",
        "bad_choice": "Dewiswch un o'r opsiynau a roddwyd",
        "too_many_files": "Dewiswch {files} ffeil ar y mwyaf",
        "file_too_big": "Mae {filename} yn fwy na {size}: dewiswch ffeil lai",
        "file_wrong_kind": "Nid yw {filename} yn llun (JPEG, PNG neu HEIC) nac yn ddogfen PDF",
        "file_mismatch": "Nid yw {filename} yn ffeil {claimed} go iawn: mae ei chynnwys o fath gwahanol. "
                         "Dewiswch y ffeil eto, neu ei chadw fel llun neu PDF",
        "file_empty": "Mae {filename} yn wag",
        "thanks_title": "Diolch, rydym wedi cael eich neges",
        "your_reference": "Eich cyfeirnod yw",
        "keep_reference": "Cadwch ef yn ddiogel. Bydd ei angen arnoch i weld sut mae eich cwyn yn dod yn ei "
                          "blaen, ac i'w nodi pryd bynnag y byddwch yn cysylltu â ni.",
        "ack_email": "Byddwn yn anfon cydnabyddiaeth drwy e-bost i {email}.",
        "ack_letter": "Byddwn yn anfon cydnabyddiaeth drwy'r post i'ch cyfeiriad.",
        "ack_none": "Ni wnaethoch roi cyfeiriad e-bost na chyfeiriad post, felly ni fyddwn yn ysgrifennu atoch. "
                    "Efallai y byddwn yn eich ffonio.",
        "ack_later": "Byddwn yn anfon eich cyfeirnod atoch cyn bo hir.",
        "check_status": "Gweld sut mae eich cwyn yn dod yn ei blaen",
        "status_title": "Ble mae fy nghwyn?",
        "status_intro": "Rhowch eich cyfeirnod a'r cod post neu'r cyfeiriad e-bost a roesoch i ni.",
        "reference": "Eich cyfeirnod",
        "reference_hint": "Er enghraifft CMP-2026-000123. Mae yn ein cydnabyddiaeth.",
        "proof": "Cod post neu gyfeiriad e-bost",
        "proof_hint": "Cod post eich cyfeiriad, neu'r cyfeiriad e-bost a roesoch i ni.",
        "check": "Gwirio",
        "need_reference": "Rhowch eich cyfeirnod",
        "need_proof": "Rhowch eich cod post neu'ch cyfeiriad e-bost",
        "not_found": "Nid oeddem yn gallu dod o hyd i gŵyn gyda'r cyfeirnod a'r cod post neu'r cyfeiriad e-bost "
                     "hwnnw. Gwiriwch nhw a rhowch gynnig arall arni, neu ffoniwch ni ar {phone}.",
        "status_for": "Hynt {reference}",
        "what": "Beth yw e",
        "stage": "Cam",
        "stage_n": "Cam {stage}",
        "state": "Ble mae arni",
        "state_open": "Ar agor: rydym yn delio â hi",
        "state_held": "Ar agor: rydym yn delio â hi",
        "state_closed": "Ar gau",
        "state_merged": "Ar gau: wedi'i chyfuno â chŵyn arall gennych, yr ydym yn delio â hi",
        "received": "Derbyniwyd",
        "acknowledged": "Cydnabuwyd",
        "acknowledgement_due": "Byddwn yn ei chydnabod erbyn",
        "response_due": "Mae ein hymateb yn ddyledus erbyn",
        "extended_to": "Rydym wedi estyn hyn i",
        "responded": "Fe wnaethom ymateb",
        "closed": "Caewyd",
        "not_yet": "Ddim eto",
        "escalate_title": "Os nad ydych yn fodlon",
        "escalate_stage1": "Os nad ydych yn fodlon â'n hymateb cam 1, gallwch ofyn i ni edrych ar eich cwyn eto "
                           "yng ngham 2. Cysylltwch â ni ar {phone} neu yn {email}, gan nodi eich cyfeirnod.",
        "escalate_by": "Gofynnwch erbyn {date}.",
        "escalate_early": "Ar ôl i ni anfon ein hymateb cam 1, gallwch ofyn am gam 2 os nad ydych yn fodlon ag ef.",
        "ombudsman": "Gallwch gysylltu â'r {name} unrhyw bryd am help. Ar ôl ein hymateb terfynol, neu os na "
                     "fyddwn yn ateb mewn pryd, gallwch ofyn iddynt edrych ar eich cwyn.",
        "ombudsman_phone": "Ffôn",
        "ombudsman_website": "Gwefan",
        "ombudsman_address": "Post",
        "expired": "Roedd y ffurflen hon wedi dod i ben. Gwiriwch eich atebion a phwyswch y botwm eto.",
        "too_large_title": "Mae eich ffeiliau'n rhy fawr",
        "too_large": "Gall y ffurflen gymryd hyd at {total} i gyd, a gall pob ffeil fod hyd at {size}. Ewch yn ôl "
                     "a dewiswch ffeiliau llai neu lai ohonynt. Gallwch hefyd eu hanfon drwy e-bost i {email}.",
        "go_back": "Mynd yn ôl i'r ffurflen",
        "too_many_title": "Arhoswch cyn rhoi cynnig arall arni",
        "too_many": "Rydym wedi cael llawer o negeseuon o'ch cysylltiad. Rhowch gynnig arall arni ymhen {minutes}. "
                    "Os yw'n fater brys, ffoniwch ni ar {phone}.",
        "minutes_1": "1 munud",
        "minutes_n": "{n} munud",
        "contact_us": "Cysylltu â ni",
        "phone_label": "Ffôn",
        "website_label": "Gwefan",
        "category_complaint": "Cwyn",
        "category_service_request": "Cais am wasanaeth neu waith trwsio",
        "category_compliment": "Canmoliaeth",
        "category_out_of_scope": "Ymholiad cyffredinol",
    },
}

OMBUDSMAN_NAMES = {"en": "Housing Ombudsman", "cy": "Ombwdsmon Tai"}
DAYS = {"en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        "cy": ("Dydd Llun", "Dydd Mawrth", "Dydd Mercher", "Dydd Iau", "Dydd Gwener", "Dydd Sadwrn", "Dydd Sul")}
MONTHS = {"en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                 "November", "December"),
          "cy": ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi", "Hydref",
                 "Tachwedd", "Rhagfyr")}
HTML_LANG = {"en": "en-GB", "cy": "cy"}
ADJUSTMENTS = tuple(Adjustment)
CATEGORIES = tuple(Category)


def language(query: str | None, accept_language: str | None, welsh: bool) -> str:
    """"cy" or "en": English unless the landlord offers Welsh and the page was asked for it (``?lang=cy``)
    or, with no choice made, the browser's first language is Welsh."""
    if not welsh:
        return Language.ENGLISH
    if query in (Language.ENGLISH, Language.WELSH):
        return query
    first = (accept_language or "").split(",")[0].strip().lower()
    return Language.WELSH if first.startswith("cy") else Language.ENGLISH


def long_date(at: dt.datetime | None, lang: str, zone: ZoneInfo) -> str:
    """'Monday 14 December 2026' / 'Dydd Llun 14 Rhagfyr 2026', in the landlord's time zone."""
    if at is None:
        return ""
    local = at.astimezone(zone)
    return f"{DAYS[lang][local.weekday()]} {local.day} {MONTHS[lang][local.month - 1]} {local.year}"


def minutes(n: int, lang: str) -> str:
    words = WORDS[lang]
    return words["minutes_1"] if n == 1 else words["minutes_n"].format(n=n)


def size(n_bytes: int) -> str:
    """10485760 -> '10 MB' (binary megabytes, as the limits are set; the same in both languages)."""
    megabytes = n_bytes / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes >= 1 else f"{n_bytes // 1024} KB"
