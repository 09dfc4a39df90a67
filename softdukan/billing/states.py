"""Indian states and union territories by their GST state code (the first two digits of a GSTIN).

Codes are the census codes GSTN uses. 25 (Daman and Diu) merged into 26 in 2020 and 28 (undivided Andhra Pradesh)
predates GST, so neither is offered or accepted; 97 is GSTN's "Other Territory" (offshore areas).
"""

from __future__ import annotations

from typing import Final

STATES: Final[dict[str, str]] = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
}


def state_name(code: str) -> str:
    return STATES.get(code, code)


def state_label(code: str) -> str:
    """"Karnataka (29)": how Rule 46 wants a place of supply shown."""
    return f"{state_name(code)} ({code})"
