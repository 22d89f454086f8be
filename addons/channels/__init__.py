"""The messaging platforms' connectors, one module each (Telegram, Messenger, Slack, Twilio
SMS and WhatsApp): Rasa's own, with each platform's request signature checked, its API's
base URL settable (a local stand-in in the tests), and replies shaped to what it shows."""
