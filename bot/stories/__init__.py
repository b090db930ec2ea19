"""Grouping articles into stories.

``article_features`` reads an article once, with its event signature (``signature``:
what happened, where, the event's name); ``best_story`` (or ``choose_story`` from the
article itself) picks the story it belongs to, or None to start a new one
(``nearest_story`` also when it falls short, for ``explain``);
``new_profile`` / ``update_profile`` keep the story's profile that grouping reads.
"""

from bot.stories.grouping import (
    FactCheck,
    GroupingConfig,
    StoryMatch,
    best_story,
    choose_story,
    fact_agreement,
    nearest_story,
    score_story,
)
from bot.stories.similarity import (
    ArticleFeatures,
    article_features,
    cosine,
    new_profile,
    update_profile,
)
from bot.stories.terms import article_terms, salient_names

__all__ = [
    "ArticleFeatures",
    "FactCheck",
    "GroupingConfig",
    "StoryMatch",
    "article_features",
    "article_terms",
    "best_story",
    "choose_story",
    "cosine",
    "fact_agreement",
    "nearest_story",
    "new_profile",
    "salient_names",
    "score_story",
    "update_profile",
]
