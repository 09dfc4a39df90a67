from __future__ import annotations

from tests.support.factories import make_org


async def test_team_names_are_unique_regardless_of_case_and_unicode_form(client, runtime) -> None:
    a = await make_org(runtime)
    assert (await client.post("/v1/teams", json={"name": "Équipe Vente"}, headers=a.auth)).status_code == 201
    for same in ("ÉQUIPE VENTE", "équipe vente", "E\u0301quipe Vente"):  # the last: E + combining accent
        response = await client.post("/v1/teams", json={"name": same}, headers=a.auth)
        assert response.status_code == 409, same
        assert response.json()["error"]["code"] == "team_name_taken"
    other = await make_org(runtime)
    assert (await client.post("/v1/teams", json={"name": "équipe vente"}, headers=other.auth)).status_code == 201


async def test_renaming_a_team_onto_another_name_is_409(client, runtime) -> None:
    a = await make_org(runtime)
    await client.post("/v1/teams", json={"name": "Straße"}, headers=a.auth)
    second = await client.post("/v1/teams", json={"name": "Support"}, headers=a.auth)
    response = await client.put(f"/v1/teams/{second.json()['id']}", json={"name": "STRASSE"}, headers=a.auth)
    assert response.status_code == 409  # casefold: ß is ss
    same = await client.put(f"/v1/teams/{second.json()['id']}", json={"name": "SUPPORT"}, headers=a.auth)
    assert same.status_code == 200 and same.json()["name"] == "SUPPORT"
