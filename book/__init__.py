"""The static book of the course (python -m book.build; make book)."""
