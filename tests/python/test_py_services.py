"""Service bindings through the Python bindings: two Workers loaded in one Runtime, one bound to the other
with services= (fetch and RPC, an entrypoint by name), and the argument checks."""
import pytest

import edgeworker

CALLER = """export default {
  async fetch(request, env) {
    const r = await env.AUTH.fetch('https://auth/x', {headers: {'x-user': 'ann'}});
    return Response.json({fetched: await r.text(), sum: await env.AUTH.add(1, 2), admin: await env.ADMIN.who()});
  }
};
"""

AUTH = """import { WorkerEntrypoint } from 'cloudflare:workers';
export default class extends WorkerEntrypoint {
  fetch(request) { return new Response('hi ' + request.headers.get('x-user')); }
  add(a, b) { return a + b; }
}
export class Admin extends WorkerEntrypoint { who() { return 'admin'; } }
"""


def test_service_binding_between_two_workers():
    with edgeworker.Runtime() as rt:
        caller = rt.load(source=CALLER, name="caller", services={"AUTH": "auth", "ADMIN": ("auth", "Admin")})
        rt.load(source=AUTH, name="auth")
        assert caller.fetch("/").json() == {"fetched": "hi ann", "sum": 3, "admin": "admin"}


def test_services_argument_is_checked():
    with edgeworker.Runtime() as rt:
        with pytest.raises(TypeError):
            rt.load(source=CALLER, services=["AUTH"])
        with pytest.raises(ValueError):
            rt.load(source=CALLER, services={"AUTH": ("auth", "A", "B")})
        with pytest.raises(ValueError):
            rt.load(source=CALLER, services={"AUTH": ""})
