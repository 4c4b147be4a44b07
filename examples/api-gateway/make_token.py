"""Prints an HS256 JWT for the api-gateway example: make_token.py SUBJECT [SECONDS] [SECRET].

SECONDS is the lifetime (default 3600; negative makes an expired token); SECRET defaults to the development
secret of .dev.vars."""
import base64
import hashlib
import hmac
import json
import sys
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(subject, seconds=3600, secret="dev-secret-change-me"):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": subject, "exp": int(time.time()) + seconds}).encode())
    signature = hmac.new(secret.encode(), ("%s.%s" % (header, payload)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (header, payload, b64url(signature))


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    print(make_token(args[0], int(args[1]) if len(args) > 1 else 3600, *args[2:3]))
