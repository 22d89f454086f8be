"""Reading what people type: time preferences, contact details, booking answers."""
