"""Finding the answer: question parsing, trigger words, the matcher and its entry model, law
search, and the triage that decides between answering, asking and handing over."""
