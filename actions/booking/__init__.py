"""Booking: the appointment form, cancelling and moving a booking, call-back requests."""
