"""A patient's story, read in pieces: parsers (`reading`) and the case they build (`case`)."""
