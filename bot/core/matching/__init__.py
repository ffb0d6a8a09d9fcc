"""The matcher's steps: analysis, evidence, frames (see bot.core.matcher)."""
