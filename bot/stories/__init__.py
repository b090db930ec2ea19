"""Grouping articles into stories.

``choose_story`` picks the story an article belongs to (or None: start a new one);
``new_profile`` / ``update_profile`` keep the story's profile that grouping reads.
"""

from bot.stories.grouping import (
    ArticleFeatures,
    FactCheck,
    GroupingConfig,
    StoryMatch,
    article_features,
    choose_story,
    fact_agreement,
    score_story,
)
from bot.stories.similarity import cosine, new_profile, update_profile
from bot.stories.terms import article_terms, salient_names

__all__ = [
    "ArticleFeatures",
    "FactCheck",
    "GroupingConfig",
    "StoryMatch",
    "article_features",
    "article_terms",
    "choose_story",
    "cosine",
    "fact_agreement",
    "new_profile",
    "salient_names",
    "score_story",
    "update_profile",
]
