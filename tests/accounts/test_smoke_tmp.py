from tests.helpers import csrf_token
from tests.factories import UserFactory, PASSWORD
def test_smoke(client, db, app, monkeypatch):
    from flask_wtf import csrf
    orig = csrf.CSRFProtect._error_response
    def er(self, reason):
        print("REASON", reason)
        import traceback; traceback.print_stack(limit=6)
        return orig(self, reason)
    monkeypatch.setattr(csrf.CSRFProtect, "_error_response", er)
    u = UserFactory()
    t = csrf_token(client, "/account/login")
    r = client.post("/account/login", data={"email": u.email, "password": PASSWORD, "csrf_token": t})
    print(r.status_code)
