"""A realistic contact file for the import benchmark: Indian mobile numbers written the ways people write them,
a name, a city, an order count, a join date and tags; ~1 % bad numbers, ~1 % bad order counts and ~3 % rows that
repeat an earlier row's number in another format. The counts the import must report are known by construction."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

HEADER = ["Mobile", "Full Name", "City", "Orders", "Joined", "Tags"]
FIRST = ["Asha", "Ravi", "Priya", "Arjun", "Meera", "Vikram", "Zoë", "Farhan", "Lakshmi", "Gurpreet", "Anil",
         "Sunita", "Rahul", "Deepa", "Karthik", "Noor"]
LAST = ["Rao", "Sharma", "Iyer", "Khan", "Patel", "Singh", "Das", "Nair", "Reddy", "Mehta", "D'Souza", "Bose"]
CITIES = ["Pune", "Mumbai", "Delhi", "Bengaluru", "Chennai", "Kolkata", "Jaipur", "Kochi", "Goa", "Lucknow"]
TAGS = ["VIP", "Wholesale", "Diwali 2025", "Newsletter", "Repeat buyer", "Walk-in", "Instagram"]
BAD_NUMBERS = ["12345", "98123", "abc", "+1 555 0100", "0000000000", "9812345", "+91 12345 6789", "n/a",
               "+91 98123 456789"]


def formats(ten: str) -> list[str]:
    """One number (10 digits) the ways it turns up in Indian contact lists; all mean +91 `ten`."""
    return [ten, f"{ten[:5]} {ten[5:]}", f"+91 {ten[:5]} {ten[5:]}", f"+91{ten}", f"0{ten}", f"91{ten}",
            f"0091 {ten}", f"(+91) {ten[:5]}-{ten[5:]}", f"91-{ten[:5]}-{ten[5:]}"]


@dataclass(frozen=True)
class ContactFile:
    data: bytes
    rows: int  # data rows (the header not counted)
    created: int  # distinct valid numbers: the contacts the import creates in an empty organization
    merged: int  # valid rows whose number an earlier row already had
    errors: int  # rows refused (bad number or bad order count), each with its reason


def make_file(rows: int, seed: int = 7) -> ContactFile:
    rng = random.Random(seed)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    seen: list[str] = []
    taken: set[str] = set()
    created = merged = errors = 0
    for _ in range(rows):
        roll = rng.random()
        ten = ""
        if roll < 0.01:
            phone = rng.choice(BAD_NUMBERS)
        elif roll < 0.04 and seen:
            ten = rng.choice(seen)
            phone = rng.choice(formats(ten))
        else:
            ten = rng.choice("6789") + f"{rng.randrange(10**9):09d}"
            while ten in taken:
                ten = rng.choice("6789") + f"{rng.randrange(10**9):09d}"
            phone = rng.choice(formats(ten))
        orders = str(rng.randrange(40)) if rng.random() > 0.01 else "many"
        if not ten or orders == "many":
            errors += 1
        else:
            if ten in taken:
                merged += 1
            else:
                taken.add(ten)
                seen.append(ten)
                created += 1
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        joined = f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        tags = ", ".join(rng.sample(TAGS, rng.randrange(3)))
        writer.writerow([phone, name, rng.choice(CITIES), orders, joined, tags])
    return ContactFile(out.getvalue().encode("utf-8"), rows, created, merged, errors)
