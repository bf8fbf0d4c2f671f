"""Go through the simulator's hosted sign-in pages without a browser.

Used by the tests and by `script/demo --auto`; a person does the same in a
browser (e-mail, the one-time code shown on the page, Approve).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import aiohttp


async def sign_in(authorize_url: str, email: str, *, approve: bool = True) -> str:
    """Sign in as `email` and return the URL Nomos redirects back to."""
    parts = urlsplit(authorize_url)
    base = f"{parts.scheme}://{parts.netloc}"
    async with aiohttp.ClientSession() as session:
        async with session.get(authorize_url) as response:
            page = await response.text()
            if response.status != 200:
                raise RuntimeError(f"authorize page answered {response.status}: {page}")
        login = re.search(r"name='login' value='([^']+)'", page)
        if login is None:
            raise RuntimeError("no sign-in form on the authorize page")
        async with session.post(
            f"{base}/oauth/authorize/email", data={"login": login[1], "email": email}
        ) as response:
            page = await response.text()
        code = re.search(r"id='otp-code'>(\d{6})<", page)
        if code is None:
            raise RuntimeError(f"no one-time code for {email}")
        async with session.post(
            f"{base}/oauth/authorize/verify", data={"login": login[1], "otp": code[1]}
        ) as response:
            await response.text()
        async with session.post(
            f"{base}/oauth/authorize/consent",
            data={"login": login[1], "decision": "approve" if approve else "deny"},
            allow_redirects=False,
        ) as response:
            if response.status != 302:
                raise RuntimeError(f"consent answered {response.status}")
            return response.headers["Location"]
