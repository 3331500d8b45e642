"""io: bytes in and out — workbooks read (book, biff, word), the stamp and its key, extraction by the form, sheet XML written."""
