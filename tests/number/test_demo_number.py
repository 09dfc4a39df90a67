"""The demo organization comes with one connected sandbox number, and its Graph credentials are printed."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from softdukan.demo import credentials_file, ensure_demo
from softdukan.number.service import find_account_by_waba_id, find_by_phone_number_id
from softdukan.platform.uow import unit_of_work

KEYS = ("graph_url", "phone_number_id", "waba_id", "access_token", "app_secret", "verify_token")


async def test_demo_has_one_connected_number_and_prints_its_credentials(runtime, settings) -> None:
    try:
        first = await ensure_demo(settings)
        again = await ensure_demo(settings)  # idempotent: the same number, the same credentials
    finally:
        credentials_file(settings.database_url).unlink(missing_ok=True)
    assert all(first[key] for key in KEYS), first
    assert {k: again[k] for k in KEYS} == {k: first[k] for k in KEYS}
    assert first["graph_url"] == settings.graph_url
    async with unit_of_work(runtime) as uow:
        number = await find_by_phone_number_id(uow, first["phone_number_id"])
        account = await find_account_by_waba_id(uow, first["waba_id"])
        assert number is not None and account is not None and number.account_id == account.id
        assert (number.status, number.onboarding_step, number.is_default) == ("CONNECTED", "done", True)
        # secrets are sealed at rest, and the verify token is findable by its keyed hash only
        assert first["access_token"] not in account.access_token_sealed
        assert account.verify_token_hash == hmac.new(settings.softdukan_secret_key.encode(),
                                                     first["verify_token"].encode(), hashlib.sha256).hexdigest()
        assert uow.runtime.secrets.open(account.app_secret_sealed) == first["app_secret"]


async def test_demo_number_is_live_in_the_sandbox(runtime, live_server) -> None:
    settings = live_server.settings
    try:
        demo = await ensure_demo(settings)
    finally:
        credentials_file(settings.database_url).unlink(missing_ok=True)
    async with httpx.AsyncClient(timeout=20) as http:
        response = await http.get(f"{demo['graph_url']}/v24.0/{demo['phone_number_id']}",
                                  params={"fields": "status,verified_name"},
                                  headers={"Authorization": f"Bearer {demo['access_token']}"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CONNECTED"
