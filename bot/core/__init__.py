"""The pure core: knowledge, matching, safety, replies, routines and tips.

Nothing in this package imports Telegram; it takes text and returns a Reply.
"""
