#!/usr/bin/env python3
"""A Dovecot-protocol SASL auth service for the private Postfix (smtpd_sasl_type = dovecot).

Accepts PLAIN for any user whose password is --password; listens on 127.0.0.1:PORT only.
Lets tests run SMTP AUTH sessions, so policy requests carry sasl_username as in production.

    sasl_auth.py --port 12345 --password secret
"""
import argparse
import base64
import os
import socketserver


class AuthHandler(socketserver.StreamRequestHandler):
    def handle(self):
        pid = os.getpid()
        self.wfile.write((f"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t{pid}\nCUID\t{self.server.cuid}\n"
                          f"COOKIE\t{os.urandom(16).hex()}\nDONE\n").encode())
        self.server.cuid += 1
        for raw in self.rfile:
            fields = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
            if fields[0] == "AUTH" and len(fields) >= 3:
                request_id, mech = fields[1], fields[2].upper()
                params = dict(f.split("=", 1) for f in fields[3:] if "=" in f)
                if mech != "PLAIN":
                    self.reply(f"FAIL\t{request_id}\treason=unsupported mechanism")
                elif "resp" in params:
                    self.check(request_id, params["resp"])
                else:
                    self.reply(f"CONT\t{request_id}\t")
            elif fields[0] == "CONT" and len(fields) >= 3:
                self.check(fields[1], fields[2])

    def check(self, request_id, response):
        try:
            _, user, password = base64.b64decode(response).decode().split("\0")
        except ValueError:
            return self.reply(f"FAIL\t{request_id}\treason=malformed")
        verdict = "OK" if password == self.server.password else "FAIL"
        self.reply(f"{verdict}\t{request_id}\tuser={user}")

    def reply(self, line):
        self.wfile.write((line + "\n").encode())
        self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--password", default="secret")
    args = parser.parse_args()
    with Server(("127.0.0.1", args.port), AuthHandler) as server:
        server.password, server.cuid = args.password, 1
        server.serve_forever()


if __name__ == "__main__":
    main()
