"""The call's annex as a document: generated for applicants (.docx, .odt) and read back when filled."""
