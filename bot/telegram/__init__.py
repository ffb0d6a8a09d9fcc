"""The Telegram adapter: a thin layer of handlers, keyboards and jobs over ``bot.core``."""
