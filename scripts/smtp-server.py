#!/usr/bin/python3
"""A real SMTP server for rounds' email tests (Debian's python3-aiosmtpd).

STARTTLS required and AUTH required (over TLS only), or --plain for a server that offers
neither (rounds must refuse it). Every accepted message is written to --maildir as N.eml.
Listens on 127.0.0.1 only; runs until killed.
"""
import argparse, asyncio, base64, os, ssl, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--maildir", required=True)
p.add_argument("--cert-der")
p.add_argument("--key-der")
p.add_argument("--user", default="rounds")
p.add_argument("--password-file")
p.add_argument("--plain", action="store_true")
a = p.parse_args()

class Handler:
    def __init__(self):
        self.n = 0
    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        path = os.path.join(a.maildir, "%d.eml" % self.n)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"

kwargs = {}
if not a.plain:
    password = open(a.password_file, "rb").read().rstrip(b"\n")
    d = os.path.dirname(os.path.abspath(a.maildir))
    cert, key = os.path.join(d, "smtp-cert.pem"), os.path.join(d, "smtp-key.pem")
    with open(cert, "w") as f:
        f.write(ssl.DER_cert_to_PEM_cert(open(a.cert_der, "rb").read()))
    with open(key, "w") as f:
        b = base64.encodebytes(open(a.key_der, "rb").read()).decode()
        f.write("-----BEGIN PRIVATE KEY-----\n" + b + "-----END PRIVATE KEY-----\n")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == a.user.encode() \
            and auth_data.password == password
        # handled=False: aiosmtpd then answers 535 itself; with the default (handled=True)
        # it answers nothing and the client waits for its own timeout.
        return AuthResult(success=ok, handled=False)

    kwargs = dict(tls_context=ctx, require_starttls=True, auth_required=True,
                  auth_require_tls=True, authenticator=authenticator)

controller = Controller(Handler(), hostname="127.0.0.1", port=a.port, **kwargs)
controller.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
