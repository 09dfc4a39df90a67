"""Meta's pricing markets: a recipient's country calling code decides which rate card prices its messages
(reference whatsapp-cloud-api.md §8.2–8.3; Meta maps countries to named markets and "Rest of …" regions, with
"Other" for the rest). The region of a number comes from `phonenumbers`; a region no market names is `OTHER`."""

from __future__ import annotations

import phonenumbers

MARKETS: dict[str, str] = {  # code → name, as on Meta's rate card
    "IN": "India", "ID": "Indonesia", "AE": "United Arab Emirates", "SA": "Saudi Arabia",
    "GB": "United Kingdom", "NA": "North America", "BR": "Brazil", "MX": "Mexico", "DE": "Germany",
    "FR": "France", "IT": "Italy", "ES": "Spain", "NL": "Netherlands", "TR": "Turkey", "EG": "Egypt",
    "NG": "Nigeria", "ZA": "South Africa", "PK": "Pakistan", "MY": "Malaysia", "IL": "Israel", "RU": "Russia",
    "AR": "Argentina", "CL": "Chile", "CO": "Colombia", "PE": "Peru",
    "R_AF": "Rest of Africa", "R_APAC": "Rest of Asia Pacific", "R_CEE": "Rest of Central & Eastern Europe",
    "R_LATAM": "Rest of Latin America", "R_ME": "Rest of Middle East", "R_WE": "Rest of Western Europe",
    "OTHER": "Other",
}
_REST = {
    "R_AF": "DZ AO BJ BW BF BI CM CV CF TD KM CG CD CI DJ GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU "
            "MA MZ NA NE RW ST SN SC SL SO SS SD TZ TG TN UG ZM ZW",
    "R_APAC": "AF AU BD BT BN KH CN FJ HK JP KR LA MO MV MN MM NP NZ PG PH SG LK TW TH TL VN",
    "R_CEE": "AL AM AZ BY BA BG HR CZ EE GE HU KZ XK KG LV LT MD ME MK PL RO RS SK SI TJ TM UA UZ",
    "R_LATAM": "BO CR DO EC SV GT HT HN JM NI PA PY PR UY VE",
    "R_ME": "BH IQ JO KW LB OM QA YE",
    "R_WE": "AT BE DK FI GR IS IE LU MT NO PT SE CH",
}
_REGION_TO_MARKET = {region: code for code, regions in _REST.items() for region in regions.split()}
_REGION_TO_MARKET |= {"US": "NA", "CA": "NA"}
_REGION_TO_MARKET |= {code: code for code in MARKETS if len(code) == 2 and code != "NA"}


def market_of(wa_id: str) -> str:
    """The market of a WhatsApp number (digits with the country code), e.g. '919812345678' → 'IN'."""
    try:
        number = phonenumbers.parse(f"+{wa_id.lstrip('+')}", None)
    except phonenumbers.NumberParseException:
        return "OTHER"
    # an unassigned range (a test number) still has its country: the calling code's main region
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code or 0)
    return _REGION_TO_MARKET.get(region or "", "OTHER")


def market_name(code: str) -> str:
    return MARKETS.get(code, code)
