"""Claim extraction: figures and statements from article text, with evidence."""
