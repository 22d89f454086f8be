"""Knowledge answers: conditions, treatments, FAQs, follow-up questions and second questions."""
