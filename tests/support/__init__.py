"""Test helpers: fake Telegram Bot APIs (in process and over HTTP on 127.0.0.1)."""
