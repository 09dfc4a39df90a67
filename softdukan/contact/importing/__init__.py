"""Contact import from CSV and XLSX: upload → column mapping → a chunked, resumable background job."""
