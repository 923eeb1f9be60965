"""The Telegram bot: lead cards, buttons, commands, in English and Russian."""
