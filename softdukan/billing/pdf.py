"""The PDF of an invoice or credit note (fpdf2, core Helvetica). Core fonts are Latin-1 only: amounts are written
"Rs." and any character outside Latin-1 (a name in Devanagari, say) prints as "?"; the HTML page shows it whole."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from softdukan.billing.printing import Printable
from softdukan.kit.money import paise as rupees

TYPOGRAPHY = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "₹": "Rs."})


def latin1(text: str) -> str:
    return text.translate(TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")


def _block(pdf: FPDF, x: float, y: float, width: float, heading: str, lines: list[str]) -> float:
    pdf.set_xy(x, y)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(width, 5, latin1(heading), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 9)
    for line in lines:
        pdf.set_x(x)
        pdf.multi_cell(width, 4.5, latin1(line), new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def document_pdf(view: Printable) -> bytes:
    d = view.document
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(latin1(f"{view.title} {d.number}"))
    pdf.set_creator("SoftDukan")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, latin1(view.title.upper()), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 9)
    meta = [f"Number: {d.number}", f"Date: {view.date}", f"Place of supply: {view.place_of_supply}",
            "Reverse charge: No"]
    if view.original is not None:
        meta.append(f"Against invoice {view.original.number} of {Printable(view.original, [], None).date}")
    if d.reason:
        meta.append(f"Reason: {d.reason}")
    pdf.multi_cell(0, 4.5, latin1("   |   ".join(meta[:4])), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for extra in meta[4:]:
        pdf.multi_cell(0, 4.5, latin1(extra), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = pdf.get_y() + 4
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2 - 3
    left = _block(pdf, pdf.l_margin, top, half, "Supplier", [
        d.supplier_name, d.supplier_address, f"State: {view.supplier_state}", f"GSTIN: {d.supplier_gstin}"])
    right = _block(pdf, pdf.l_margin + half + 6, top, half, "Recipient", [
        line for line in (d.buyer_name, d.buyer_address or None, f"State: {view.buyer_state}",
                          f"GSTIN: {d.buyer_gstin}" if d.buyer_gstin else "GSTIN: unregistered") if line])
    pdf.set_xy(pdf.l_margin, max(left, right) + 6)

    heads = view.head_names
    widths = [8, 52, 16, 12, 24, *[52 / len(heads)] * len(heads)]
    widths.append(pdf.w - pdf.l_margin - pdf.r_margin - sum(widths))
    header = ["#", "Description", "SAC", "Qty", "Taxable (Rs.)", *[f"{h} rate / amount" for h in heads],
              "Total (Rs.)"]
    pdf.set_font("Helvetica", "", 8)
    with pdf.table(col_widths=tuple(widths), width=sum(widths), line_height=4.5,
                   text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", *["RIGHT"] * len(heads), "RIGHT")) as table:
        row = table.row()
        for text in header:
            row.cell(text)
        for number, item in enumerate(view.lines, start=1):
            line = item.line
            tax = sum(head.paise for head in item.heads)
            row = table.row()
            for text in (str(number), line.description, line.sac, f"{line.quantity} {line.unit or ''}".strip(),
                         rupees(line.taxable_paise), *[f"{h.rate} / {rupees(h.paise)}" for h in item.heads],
                         rupees(line.taxable_paise + tax)):
                row.cell(latin1(text))
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    label_width = pdf.w - pdf.l_margin - pdf.r_margin - 40
    totals = [("Taxable value", d.taxable_paise), *[(f"{h.name}", h.paise) for h in view.totals]]
    for label, paise in totals:
        pdf.cell(label_width, 5, label, align="R")
        pdf.cell(40, 5, f"Rs. {rupees(paise)}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(label_width, 6, "Total", align="R")
    pdf.cell(40, 6, f"Rs. {rupees(d.total_paise)}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, latin1(f"Amount in words: {view.in_words} (INR)"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.multi_cell(0, 5, latin1(f"For {d.supplier_name}\nAuthorised signatory (computer-generated document)"),
                   align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
