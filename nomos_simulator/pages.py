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


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} · Nomos</title><style>{_STYLE}</style></head>"
        f"<body><main><div class='brand'>NOMOS</div>{body}</main></body></html>"
    )


def email_page(login_id: str, error: str | None = None) -> str:
    """Ask for the e-mail address of the Nomos contract."""
    problem = f"<p class='error' id='error'>{escape(error)}</p>" if error else ""
    return _page(
        "Sign in",
        "<h1>Sign in to Nomos</h1><p>Enter the e-mail address of your Nomos contract.</p>"
        f"<form method='post' action='/oauth/authorize/email'>"
        f"<input type='hidden' name='login' value='{escape(login_id)}'>"
        "<label for='email'>E-mail</label>"
        "<input id='email' name='email' type='email' autocomplete='email' required>"
        f"{problem}<button class='primary' type='submit'>Continue</button></form>",
    )


def code_page(login_id: str, email: str, code: str, error: str | None = None) -> str:
    """Ask for the one-time code; the simulator shows it instead of mailing it."""
    problem = f"<p class='error' id='error'>{escape(error)}</p>" if error else ""
    return _page(
        "Enter code",
        f"<h1>Check your e-mail</h1><p>We sent a 6-digit code to <b>{escape(email)}</b>.</p>"
        f"<p class='hint'>Simulator: your code is <b id='otp-code'>{escape(code)}</b></p>"
        "<form method='post' action='/oauth/authorize/verify'>"
        f"<input type='hidden' name='login' value='{escape(login_id)}'>"
        "<label for='otp'>One-time code</label>"
        "<input id='otp' name='otp' inputmode='numeric' maxlength='6' required>"
        f"{problem}<button class='primary' type='submit'>Verify</button></form>",
    )


def consent_page(login_id: str, app_name: str, customer_name: str) -> str:
    """Ask the customer to allow or deny access."""
    return _page(
        "Allow access",
        f"<h1>Allow {escape(app_name)}?</h1>"
        f"<p>Signed in as <b>{escape(customer_name)}</b>. {escape(app_name)} asks to read:</p>"
        "<ul><li>your subscriptions and contract details</li><li>your prices</li>"
        "<li>your consumption</li><li>your invoices</li></ul>"
        "<form method='post' action='/oauth/authorize/consent'>"
        f"<input type='hidden' name='login' value='{escape(login_id)}'>"
        "<button class='primary' name='decision' value='approve' type='submit'>Approve</button> "
        "<button class='secondary' name='decision' value='deny' type='submit'>Deny</button>"
        "</form>",
    )


def error_page(message: str) -> str:
    """Explain a problem with the authorize request; never redirect."""
    return _page(
        "Error", f"<h1>Something is wrong</h1><p class='error' id='error'>{escape(message)}</p>"
    )
