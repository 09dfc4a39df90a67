"""Settings → Billing profile and /v1/billing-profile: saved and shown, a bad GSTIN (or one of another state)
refused with a clear message that changes nothing, permissions."""

from __future__ import annotations

from tests.billing.support import MAHARASHTRA_GSTIN
from tests.support.factories import browser_sign_in, form_post, make_org

PROFILE = {"legal_name": "Pune Tea Traders LLP", "address_line1": "14 FC Road", "address_line2": "Shivajinagar",
           "city": "Pune", "state_code": "27", "pin_code": "411 004", "gstin": MAHARASHTRA_GSTIN.lower(),
           "email": "Accounts@PuneTea.example"}


async def test_api_saves_and_shows_the_profile(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    missing = await client.get("/v1/billing-profile", headers=org.auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "billing_profile_not_found"
    saved = await client.put("/v1/billing-profile", headers=org.auth, json=PROFILE)
    assert saved.status_code == 200, saved.text
    body = (await client.get("/v1/billing-profile", headers=org.auth)).json()
    assert {k: body[k] for k in ("gstin", "pin_code", "email", "state_name")} == {
        "gstin": MAHARASHTRA_GSTIN, "pin_code": "411004", "email": "accounts@punetea.example",
        "state_name": "Maharashtra"}
    cleared = await client.put("/v1/billing-profile", headers=org.auth,
                               json={**PROFILE, "gstin": "", "address_line2": None, "state_code": "29"})
    assert (cleared.json()["gstin"], cleared.json()["address_line2"], cleared.json()["state_code"]) == (None, None,
                                                                                                        "29")


async def test_a_bad_gstin_is_refused_clearly_and_changes_nothing(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime)
    assert (await client.put("/v1/billing-profile", headers=org.auth, json=PROFILE)).status_code == 200
    before = (await client.get("/v1/billing-profile", headers=org.auth)).json()
    typo = await client.put("/v1/billing-profile", headers=org.auth,
                            json={**PROFILE, "legal_name": "Changed", "gstin": "27AAPFU0939F1ZA"})
    assert typo.status_code == 422
    assert typo.json()["error"]["code"] == "invalid_gstin"
    assert "check character (the last one) should be V, not A" in typo.json()["error"]["message"]
    assert typo.json()["error"]["details"] == {"gstin": typo.json()["error"]["message"]}
    other_state = await client.put("/v1/billing-profile", headers=org.auth,
                                   json={**PROFILE, "legal_name": "Changed", "state_code": "29"})
    assert other_state.status_code == 422 and other_state.json()["error"]["code"] == "gstin_state_mismatch"
    assert "registered in Maharashtra (27)" in other_state.json()["error"]["message"]
    assert "Karnataka (29)" in other_state.json()["error"]["message"]
    several = await client.put("/v1/billing-profile", headers=org.auth, json={
        **PROFILE, "legal_name": " ", "pin_code": "011000", "state_code": "99", "email": "nope"})
    assert several.status_code == 422 and several.json()["error"]["code"] == "invalid_billing_profile"
    assert set(several.json()["error"]["details"]) == {"legal_name", "pin_code", "state_code", "email"}
    assert (await client.get("/v1/billing-profile", headers=org.auth)).json() == before


async def test_the_settings_page_saves_and_refuses_a_bad_gstin_in_place(client, runtime) -> None:  # type: ignore[no-untyped-def]
    org = await make_org(runtime, "Chai Point Stores")
    await browser_sign_in(client, org.owner.email)
    empty = await client.get("/settings/billing")
    assert empty.status_code == 200 and "Chai Point Stores" in empty.text and 'href="/settings/billing"' in empty.text
    saved = await form_post(client, "/settings/billing", PROFILE)
    assert saved.status_code == 303 and saved.headers["location"] == "/settings/billing?flash=saved"
    refused = await form_post(client, "/settings/billing", {**PROFILE, "legal_name": "Changed Name",
                                                            "gstin": "27AAPFU0939F1Z"})
    assert refused.status_code == 422
    assert "a GSTIN has 15 characters, this has 14" in refused.text
    assert 'value="Changed Name"' in refused.text  # what was typed stays in the form
    shown = await client.get("/settings/billing")
    assert "Pune Tea Traders LLP" in shown.text and "Changed Name" not in shown.text
    assert (await client.get("/v1/billing-profile", headers=org.auth)).json()["legal_name"] == "Pune Tea Traders LLP"


async def test_permissions(client, runtime) -> None:  # type: ignore[no-untyped-def]
    reader = await make_org(runtime, scopes=["billing:read"])
    refused = await client.put("/v1/billing-profile", headers=reader.auth, json=PROFILE)
    assert refused.status_code == 403 and refused.json()["error"]["details"]["required"] == "billing:write"
    nobody = await make_org(runtime, scopes=["contacts:read"])
    assert (await client.get("/v1/billing-profile", headers=nobody.auth)).status_code == 403
