"""Reading and normalising documents: the lowest layer, free of NLP and storage."""
