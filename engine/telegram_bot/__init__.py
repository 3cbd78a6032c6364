"""The Telegram control bot (`python -m engine telegram`, its own supervised program): `app` wires
python-telegram-bot to the desk, `guard` keeps it safe (allow-list, rate limit, confirmations that
expire and work once), `actions` is its table of commands, `replies` what it reads and says,
`delivery` sends the notifications queued for the bot. It imports no trading machinery."""
