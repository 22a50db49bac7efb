"""Logging in to a running gate from a benchmark, standard library only."""

import http.client
import re
import sys
import time
import urllib.parse


def login(port, user, password):
    """Waits for the gate on 127.0.0.1:`port`, logs in; the session cookie's value.

    The gate's cookies are __Host- cookies, which a cookie jar keeps only
    over https: they are carried by hand, and the redirect is not followed.
    """
    for _ in range(100):
        try:
            con = http.client.HTTPConnection("127.0.0.1", port)
            con.request("GET", "/healthz")
            con.getresponse().read()
            break
        except OSError:
            time.sleep(0.1)
    con = http.client.HTTPConnection("127.0.0.1", port)
    con.request("GET", "/login")
    res = con.getresponse()
    form = res.read().decode("utf-8")
    cookies = cookies_of(res)
    csrf = re.search(r'name="csrf" value="([^"]*)"', form).group(1)
    data = urllib.parse.urlencode({"login": user, "password": password, "csrf": csrf})
    con.request("POST", "/login", body=data, headers={
        "Origin": f"http://127.0.0.1:{port}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    res = con.getresponse()
    res.read()
    token = cookies_of(res).get("__Host-tabel")
    if not token:
        sys.exit(f"login to the gate failed: {res.status}")
    return token


def cookies_of(res):
    """The cookies a response sets, by name."""
    jar = {}
    for header in res.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar
