"""What mail clients write around an inline forward, one table per language of the client.

``contacts/email/forwards.py`` reads a forward with the union of these tables (Gmail mixes
them: a German Gmail writes "Von:" next to "Date:" and "Subject:"), except for dates, which
are read one language at a time: an abbreviation can be a weekday in one language and a
month in another ("mar." is mardi in French, marzo in Spanish and Italian).

To add a language, add a ``ClientLanguage``: the markers as the clients print them (without
the dashes around them, or the colon after Apple Mail's line), every header label with the
field it stands for, the forward's subject prefix, and the words of a date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The fields of a quoted header block; Outlook's "Sent" and the others' "Date" are one field.
FROM, DATE, TO, CC, SUBJECT, REPLY_TO = "from", "date", "to", "cc", "subject", "reply-to"
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class ClientLanguage:
    """One language's labels, as Gmail, Outlook, Apple Mail and Thunderbird print them."""

    forwarded: tuple[str, ...]  # between dashes: "---------- Forwarded message ---------"
    forwarded_intro: tuple[str, ...]  # a line of its own, before a colon: "Begin forwarded message:"
    original: tuple[str, ...]  # Outlook, between dashes (in replies too): "-----Original Message-----"
    headers: dict[str, str]  # label -> field
    subject_prefixes: tuple[str, ...]  # of a forward's subject, before the colon
    months: tuple[tuple[str, ...], ...]  # January to December: each month's spellings, lower case
    weekdays: frozenset[str] = field(default_factory=frozenset)  # lower case, without a final dot
    date_fillers: frozenset[str] = field(default_factory=frozenset)  # words around the date and time


ENGLISH = ClientLanguage(
    forwarded=("Forwarded message",),
    forwarded_intro=("Begin forwarded message",),
    original=("Original Message",),
    headers={"from": FROM, "sent": DATE, "date": DATE, "to": TO, "cc": CC, "subject": SUBJECT, "reply-to": REPLY_TO},
    subject_prefixes=("fw", "fwd"),
    months=(
        ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
        ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
        ("nov", "november"), ("dec", "december"),
    ),
    weekdays=frozenset({
        "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thur", "thurs", "thursday",
        "fri", "friday", "sat", "saturday", "sun", "sunday",
    }),
    date_fillers=frozenset({"at"}),
)  # fmt: skip

GERMAN = ClientLanguage(
    forwarded=("Weitergeleitete Nachricht",),
    forwarded_intro=("Anfang der weitergeleiteten Nachricht",),
    original=("Ursprüngliche Nachricht",),
    headers={
        "von": FROM, "gesendet": DATE, "datum": DATE, "an": TO, "cc": CC, "kopie": CC, "betreff": SUBJECT,
        "antwort an": REPLY_TO,
    },
    subject_prefixes=("wg",),
    months=(
        ("jan", "januar", "jän", "jänner"), ("feb", "februar"), ("mär", "märz", "mrz"), ("apr", "april"),
        ("mai",), ("jun", "juni"), ("jul", "juli"), ("aug", "august"), ("sep", "sept", "september"),
        ("okt", "oktober"), ("nov", "november"), ("dez", "dezember"),
    ),
    weekdays=frozenset({
        "mo", "montag", "di", "dienstag", "mi", "mittwoch", "do", "donnerstag", "fr", "freitag",
        "sa", "samstag", "sonnabend", "so", "sonntag",
    }),
    date_fillers=frozenset({"um", "uhr"}),
)  # fmt: skip

FRENCH = ClientLanguage(
    forwarded=("Message transféré",),
    forwarded_intro=("Début du message réexpédié", "Début du message transféré"),
    original=("Message d'origine", "Message d\u2019origine"),
    headers={
        "de": FROM, "envoyé": DATE, "date": DATE, "à": TO, "a": TO, "pour": TO, "cc": CC, "copie à": CC,
        "objet": SUBJECT, "sujet": SUBJECT, "répondre à": REPLY_TO,
    },
    subject_prefixes=("tr",),
    months=(
        ("janv", "janvier"), ("févr", "février", "fevr", "fevrier"), ("mars",), ("avr", "avril"), ("mai",),
        ("juin",), ("juil", "juillet"), ("août", "aout"), ("sept", "septembre"), ("oct", "octobre"),
        ("nov", "novembre"), ("déc", "décembre", "dec", "decembre"),
    ),
    weekdays=frozenset({
        "lun", "lundi", "mar", "mardi", "mer", "mercredi", "jeu", "jeudi", "ven", "vendredi",
        "sam", "samedi", "dim", "dimanche",
    }),
    date_fillers=frozenset({"à", "a"}),
)  # fmt: skip

SPANISH = ClientLanguage(
    forwarded=("Mensaje reenviado",),
    forwarded_intro=("Inicio del mensaje reenviado",),
    original=("Mensaje original",),
    headers={
        "de": FROM, "enviado": DATE, "enviado el": DATE, "fecha": DATE, "para": TO, "cc": CC,
        "asunto": SUBJECT, "responder a": REPLY_TO,
    },
    subject_prefixes=("rv",),
    months=(
        ("ene", "enero"), ("feb", "febrero"), ("mar", "marzo"), ("abr", "abril"), ("may", "mayo"),
        ("jun", "junio"), ("jul", "julio"), ("ago", "agosto"), ("sept", "sep", "septiembre", "setiembre"),
        ("oct", "octubre"), ("nov", "noviembre"), ("dic", "diciembre"),
    ),
    weekdays=frozenset({
        "lun", "lunes", "mar", "martes", "mié", "mie", "miércoles", "miercoles", "jue", "jueves",
        "vie", "viernes", "sáb", "sab", "sábado", "sabado", "dom", "domingo",
    }),
    date_fillers=frozenset({"de", "a", "las", "la"}),
)  # fmt: skip

DUTCH = ClientLanguage(
    forwarded=("Doorgestuurd bericht",),
    forwarded_intro=("Begin doorgestuurd bericht",),
    original=("Oorspronkelijk bericht",),
    headers={
        "van": FROM, "verzonden": DATE, "datum": DATE, "aan": TO, "cc": CC, "onderwerp": SUBJECT,
        "antwoord aan": REPLY_TO,
    },
    subject_prefixes=("doorst",),
    months=(
        ("jan", "januari"), ("feb", "februari"), ("mrt", "maart"), ("apr", "april"), ("mei",), ("jun", "juni"),
        ("jul", "juli"), ("aug", "augustus"), ("sep", "sept", "september"), ("okt", "oktober"),
        ("nov", "november"), ("dec", "december"),
    ),
    weekdays=frozenset({
        "ma", "maandag", "di", "dinsdag", "wo", "woensdag", "do", "donderdag", "vr", "vrijdag",
        "za", "zaterdag", "zo", "zondag",
    }),
    date_fillers=frozenset({"om"}),
)  # fmt: skip

ITALIAN = ClientLanguage(
    forwarded=("Messaggio inoltrato",),
    forwarded_intro=("Inizio messaggio inoltrato",),
    original=("Messaggio originale",),
    headers={"da": FROM, "inviato": DATE, "data": DATE, "a": TO, "cc": CC, "oggetto": SUBJECT, "rispondi a": REPLY_TO},
    subject_prefixes=("i",),
    months=(
        ("gen", "gennaio"), ("feb", "febbraio"), ("mar", "marzo"), ("apr", "aprile"), ("mag", "maggio"),
        ("giu", "giugno"), ("lug", "luglio"), ("ago", "agosto"), ("set", "settembre"), ("ott", "ottobre"),
        ("nov", "novembre"), ("dic", "dicembre"),
    ),
    weekdays=frozenset({
        "lun", "lunedì", "lunedi", "mar", "martedì", "martedi", "mer", "mercoledì", "mercoledi",
        "gio", "giovedì", "giovedi", "ven", "venerdì", "venerdi", "sab", "sabato", "dom", "domenica",
    }),
    date_fillers=frozenset({"alle", "ore"}),
)  # fmt: skip

PORTUGUESE = ClientLanguage(
    forwarded=("Mensagem encaminhada",),
    forwarded_intro=("Início da mensagem reencaminhada", "Início da mensagem encaminhada"),
    original=("Mensagem original",),
    headers={
        "de": FROM, "enviada": DATE, "enviado": DATE, "enviada em": DATE, "enviado em": DATE, "data": DATE,
        "para": TO, "cc": CC, "assunto": SUBJECT, "responder a": REPLY_TO,
    },
    subject_prefixes=("enc",),
    months=(
        ("jan", "janeiro"), ("fev", "fevereiro"), ("mar", "março", "marco"), ("abr", "abril"), ("mai", "maio"),
        ("jun", "junho"), ("jul", "julho"), ("ago", "agosto"), ("set", "setembro"), ("out", "outubro"),
        ("nov", "novembro"), ("dez", "dezembro"),
    ),
    weekdays=frozenset({
        "seg", "segunda", "segunda-feira", "ter", "terça", "terça-feira", "qua", "quarta", "quarta-feira",
        "qui", "quinta", "quinta-feira", "sex", "sexta", "sexta-feira", "sáb", "sábado", "dom", "domingo",
    }),
    date_fillers=frozenset({"de", "às", "as"}),
)  # fmt: skip

# Only the subject prefix so far: Outlook in Danish and Norwegian ("VS: ...").
SCANDINAVIAN = ClientLanguage(
    forwarded=(), forwarded_intro=(), original=(), headers={}, subject_prefixes=("vs",), months=()
)

LANGUAGES = (ENGLISH, GERMAN, FRENCH, SPANISH, DUTCH, ITALIAN, PORTUGUESE, SCANDINAVIAN)
