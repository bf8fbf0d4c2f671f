"""The simulator's hosted sign-in pages (e-mail, one-time code, consent)."""

from __future__ import annotations

from html import escape

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f1ea;margin:0;color:#1d1d1b}
main{max-width:420px;margin:8vh auto;background:#fff;border-radius:14px;padding:32px;
box-shadow:0 4px 24px rgba(0,0,0,.08)}
h1{font-size:1.4rem;margin:0 0 4px}.brand{color:#e4572e;font-weight:700;letter-spacing:.04em}
label{display:block;margin:18px 0 6px;font-weight:600}
input{width:100%;box-sizing:border-box;padding:10px;font-size:1rem;border:1px solid #bbb;border-radius:8px}
button{margin-top:20px;padding:10px 18px;font-size:1rem;border-radius:8px;border:0;cursor:pointer}
.primary{background:#1d1d1b;color:#fff}.secondary{background:#e8e4da;color:#1d1d1b}
.error{color:#b00020;margin-top:12px}.hint{background:#fff6d6;padding:10px;border-radius:8px;margin-top:14px}
ul{padding-left:20px}
"""


# Nomos is a German supplier: its pages answer in German to a browser that asks
# for it (Accept-Language), as the German browser suite does.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "sign_in": "Sign in",
        "sign_in_heading": "Sign in to Nomos",
        "sign_in_intro": "Enter the e-mail address of your Nomos contract.",
        "email": "E-mail",
        "continue": "Continue",
        "enter_code": "Enter code",
        "check_email": "Check your e-mail",
        "code_sent": "We sent a 6-digit code to <b>{email}</b>.",
        "your_code": "Simulator: your code is",
        "code": "One-time code",
        "verify": "Verify",
        "allow_access": "Allow access",
        "allow": "Allow {app}?",
        "signed_in_as": "Signed in as <b>{name}</b>. {app} asks to read:",
        "scopes": "your subscriptions and contract details|your prices|your consumption"
        "|your invoices",
        "approve": "Approve",
        "deny": "Deny",
        "error": "Error",
        "wrong": "Something is wrong",
        "no_contract": "No Nomos contract uses this e-mail address.",
        "wrong_code": "That code is not right.",
    },
    "de": {
        "sign_in": "Anmelden",
        "sign_in_heading": "Bei Nomos anmelden",
        "sign_in_intro": "Gib die E-Mail-Adresse deines Nomos-Vertrags ein.",
        "email": "E-Mail",
        "continue": "Weiter",
        "enter_code": "Code eingeben",
        "check_email": "Schau in dein Postfach",
        "code_sent": "Wir haben einen 6-stelligen Code an <b>{email}</b> geschickt.",
        "your_code": "Simulator: dein Code lautet",
        "code": "Einmalcode",
        "verify": "Bestätigen",
        "allow_access": "Zugriff erlauben",
        "allow": "{app} erlauben?",
        "signed_in_as": "Angemeldet als <b>{name}</b>. {app} möchte lesen:",
        "scopes": "deine Verträge und Vertragsdaten|deine Preise|deinen Verbrauch|deine Rechnungen",
        "approve": "Erlauben",
        "deny": "Ablehnen",
        "error": "Fehler",
        "wrong": "Etwas stimmt nicht",
        "no_contract": "Zu dieser E-Mail-Adresse gibt es keinen Nomos-Vertrag.",
        "wrong_code": "Dieser Code stimmt nicht.",
    },
}


def language_of(accept_language: str) -> str:
    """Return "de" when the browser asks for German first, else "en"."""
    first = accept_language.split(",", maxsplit=1)[0].strip().lower()
    return "de" if first.startswith("de") else "en"


def _page(title: str, body: str, language: str) -> str:
    return (
        f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} · Nomos</title><style>{_STYLE}</style></head>"
        f"<body><main><div class='brand'>NOMOS</div>{body}</main></body></html>"
    )


def email_page(login_id: str, error: str | None = None, language: str = "en") -> str:
    """Ask for the e-mail address of the Nomos contract."""
    text = TEXTS[language]
    problem = f"<p class='error' id='error'>{escape(error)}</p>" if error else ""
    return _page(
        text["sign_in"],
        f"<h1>{text['sign_in_heading']}</h1><p>{text['sign_in_intro']}</p>"
        f"<form method='post' action='/oauth/authorize/email'>"
        f"<input type='hidden' name='login' value='{escape(login_id)}'>"
        f"<label for='email'>{text['email']}</label>"
        "<input id='email' name='email' type='email' autocomplete='email' required>"
        f"{problem}<button class='primary' type='submit'>{text['continue']}</button></form>",
        language,
    )


def code_page(
    login_id: str, email: str, code: str, error: str | None = None, language: str = "en"
) -> str:
    """Ask for the one-time code; the simulator shows it instead of mailing it."""
    text = TEXTS[language]
    problem = f"<p class='error' id='error'>{escape(error)}</p>" if error else ""
    return _page(
        text["enter_code"],
        f"<h1>{text['check_email']}</h1><p>{text['code_sent'].format(email=escape(email))}</p>"
        f"<p class='hint'>{text['your_code']} <b id='otp-code'>{escape(code)}</b></p>"
        "<form method='post' action='/oauth/authorize/verify'>"
        f"<input type='hidden' name='login' value='{escape(login_id)}'>"
        f"<label for='otp'>{text['code']}</label>"
        "<input id='otp' name='otp' inputmode='numeric' maxlength='6' required>"
        f"{problem}<button class='primary' type='submit'>{text['verify']}</button></form>",
        language,
    )


def consent_page(login_id: str, app_name: str, customer_name: str, language: str = "en") -> str:
    """Ask the customer to allow or deny access."""
    text = TEXTS[language]
    app, name = escape(app_name), escape(customer_name)
    scopes = "".join(f"<li>{scope}</li>" for scope in text["scopes"].split("|"))
    return _page(
        text["allow_access"],
        f"<h1>{text['allow'].format(app=app)}</h1>"
        f"<p>{text['signed_in_as'].format(name=name, app=app)}</p><ul>{scopes}</ul>"
        "<form method='post' action='/oauth/authorize/consent'>"
        f"<input type='hidden' name='login' value='{escape(login_id)}'>"
        "<button class='primary' name='decision' value='approve' type='submit'>"
        f"{text['approve']}</button> "
        "<button class='secondary' name='decision' value='deny' type='submit'>"
        f"{text['deny']}</button></form>",
        language,
    )


def error_page(message: str, language: str = "en") -> str:
    """Explain a problem with the authorize request; never redirect."""
    text = TEXTS[language]
    return _page(
        text["error"],
        f"<h1>{text['wrong']}</h1><p class='error' id='error'>{escape(message)}</p>",
        language,
    )
