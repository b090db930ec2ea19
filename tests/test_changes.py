"""Change detection, as a pure function, on hand-built claims.

Each test states a newsroom situation and the alerts a monitoring desk expects.
The extractor is not involved: these claims are what it would produce.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

from bot.changes.detect import (
    ChangeConfig,
    Observed,
    detect_changes,
    detect_revision,
    open_conflicts,
)
from bot.domain.alerts import Alert, AlertType, Severity
from bot.domain.articles import Article
from bot.domain.claims import (
    Evidence,
    Extraction,
    Figure,
    Metric,
    Qualifier,
    Quantity,
    Scope,
    ScopeKind,
    Statement,
    Temporal,
)
from bot.domain.stories import Story

T0 = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


def fig(
    value: float,
    sentence: str | None = None,
    *,
    metric: Metric = Metric.KILLED,
    group: str = "people",
    q: Qualifier = Qualifier.EXACT,
    high: float | None = None,
    scope: Scope | None = None,
    temporal: Temporal = Temporal.CURRENT,
    by: str | None = None,
    update: bool = False,
) -> Figure:
    text = sentence or f"{value:g} {group} {metric.value}"
    return Figure(
        metric=metric,
        quantity=Quantity(value, q, high),
        subject=group,
        subject_group=group,
        # Distinct sentences get distinct, stable offsets (as if they sat apart in one text).
        evidence=Evidence(text, zlib.crc32(text.encode()), zlib.crc32(text.encode()) + len(text)),
        scope=scope or Scope(),
        temporal=temporal,
        attributed_to=by,
        framed_as_update=update,
    )


def said(
    who: str, text: str = "We are doing all we can.", role: str | None = None, official: bool = True
) -> Statement:
    return Statement(
        speaker=who,
        role=role,
        verb="say",
        text=text,
        direct=True,
        evidence=Evidence(text, 0, len(text)),
        official=official,
    )


class Desk:
    """Feeds articles into one story, as the ingest service would, and keeps the alerts."""

    def __init__(self, config: ChangeConfig | None = None) -> None:
        self.story = Story(id="abc234", title="Quake", created_at=T0, updated_at=T0)
        self.config = config or ChangeConfig()
        self.n = 0

    def read(
        self,
        *figures: Figure,
        statements: tuple[Statement, ...] = (),
        outlet: str = "Wire",
        at: datetime | None = None,
        dated: bool = True,
    ) -> list[Alert]:
        self.n += 1
        article = Article.create(
            title=f"report {self.n}",
            text="…",
            outlet=outlet,
            url=f"https://news.example/{self.n}",
            published=at if dated else None,
        )
        observed = Observed(article, at or T0 + timedelta(hours=self.n), dated)
        changes = detect_changes(
            self.story, observed, Extraction(tuple(figures), statements), self.config
        )
        self.story = Story(self.story.id, self.story.title, T0, T0, state=changes.state)
        return list(changes.alerts)


def types(alerts: list[Alert]) -> list[AlertType]:
    return [a.type for a in alerts]


def test_first_impact_figure_opens_a_story_with_its_earlier_value_in_history() -> None:
    desk = Desk()
    alerts = desk.read(
        fig(22, q=Qualifier.AT_LEAST, group="soldiers"),
        fig(9, group="soldiers", temporal=Temporal.EARLIER, by="Governor Dogan"),
        fig(22, group="soldiers", by="Governor Dogan", update=True),
    )
    assert types(alerts) == [AlertType.NEW_STORY]
    a = alerts[0]
    assert (a.metric, a.value, a.attributed_to) == ("killed", 22, "Governor Dogan")
    assert [s.quantity.value for s in a.history] == [9, 22]
    assert a.history[0].earlier and not a.history[1].earlier
    assert a.severity is Severity.HIGH


def test_rise_then_repeats_are_confirmations_not_alerts() -> None:
    desk = Desk()
    desk.read(fig(22, by="Ministry"))
    rise = desk.read(fig(29, by="Ministry"))
    assert types(rise) == [AlertType.FIGURE_RISE]
    assert (rise[0].previous, rise[0].value) == (22, 29)
    assert [s.quantity.value for s in rise[0].history] == [22, 29]
    for outlet in ["A", "B", "C", "D", "E"]:
        assert desk.read(fig(29), outlet=outlet) == []
    series = next(iter(desk.story.state.series.values()))
    assert series.confirmations == 5


def test_two_sources_disagreeing_in_one_article_is_one_conflict() -> None:
    desk = Desk()
    desk.read(fig(22, by="Governor"))
    but = "He confirmed 29 died but the Observatory puts the figure at 34."
    alerts = desk.read(
        fig(29, q=Qualifier.AT_LEAST), fig(29, but, by="Governor"), fig(34, but, by="Observatory")
    )
    assert types(alerts) == [AlertType.FIGURE_RISE, AlertType.FIGURE_CONFLICT]
    conflict = alerts[1]
    assert (conflict.value, conflict.previous) == (34, 29)
    assert (conflict.attributed_to, conflict.conflict_with) == ("Observatory", "Governor")
    # Another outlet repeating both numbers raises nothing new.
    again = desk.read(fig(29, but, by="Governor"), fig(34, but, by="Observatory"), outlet="Other")
    assert again == []
    # The governor moves to 33: a rise; the observatory's 34 is still an open conflict.
    alerts = desk.read(fig(33, by="Governor"))
    assert types(alerts) == [AlertType.FIGURE_RISE]
    series = next(iter(desk.story.state.series.values()))
    assert [(c.source, c.quantity.value) for c in open_conflicts(series)] == [("Observatory", 34)]


def test_vague_quantities_confirm_precise_ones() -> None:
    desk = Desk()
    desk.read(fig(33))
    assert desk.read(fig(24, q=Qualifier.APPROXIMATE, high=99)) == []  # "dozens"
    # After a vague quantity, the first count above its number is news ("dozens" → 33:
    # the desk learns how many), a count below it ("dozens" → 20) is not.
    desk2 = Desk()
    desk2.read(fig(24, q=Qualifier.APPROXIMATE, high=99))
    assert types(desk2.read(fig(33))) == [AlertType.FIGURE_RISE]
    series = next(iter(desk2.story.state.series.values()))
    assert series.head is not None and series.head.quantity.value == 33
    desk3 = Desk()
    desk3.read(fig(200, q=Qualifier.APPROXIMATE, high=999))  # "into the hundreds"
    assert desk3.read(fig(150, q=Qualifier.AT_LEAST)) == []


def test_hundreds_after_dozens_is_a_rise() -> None:
    desk = Desk()
    desk.read(fig(24, q=Qualifier.APPROXIMATE, high=99))
    assert types(desk.read(fig(200, q=Qualifier.APPROXIMATE, high=999))) == [AlertType.FIGURE_RISE]


def test_running_totals_are_never_compared_with_the_event_toll() -> None:
    desk = Desk()
    desk.read(fig(33, group="soldiers"))
    month = Scope(ScopeKind.CUMULATIVE, "this month")
    alerts = desk.read(fig(54, group="soldiers", scope=month))
    assert types(alerts) == [AlertType.NEW_FIGURE]
    assert alerts[0].scope == "cumulative:this month"
    assert alerts[0].severity is Severity.LOW
    # The monthly total moving again is recorded but not alerted (it follows the event).
    assert desk.read(fig(60, group="soldiers", scope=month)) == []
    assert desk.read(fig(33, group="soldiers")) == []
    keys = set(desk.story.state.series)
    assert keys == {"killed|soldiers|event", "killed|soldiers|cumulative:this month"}


def test_cumulative_changes_alert_when_configured() -> None:
    desk = Desk(ChangeConfig(alert_cumulative_changes=True))
    month = Scope(ScopeKind.CUMULATIVE, "this month")
    desk.read(fig(33))
    desk.read(fig(54, scope=month))
    assert types(desk.read(fig(60, scope=month))) == [AlertType.FIGURE_RISE]


def test_an_earlier_only_value_never_becomes_a_baseline_for_a_rise() -> None:
    desk = Desk()
    desk.read(fig(33))
    month = Scope(ScopeKind.CUMULATIVE, "this month")
    assert desk.read(fig(21, scope=month, temporal=Temporal.EARLIER)) == []
    alerts = desk.read(fig(54, scope=month))
    assert types(alerts) == [AlertType.NEW_FIGURE]
    assert [s.quantity.value for s in alerts[0].history] == [21, 54]


def test_same_source_lowering_its_figure_is_a_drop() -> None:
    desk = Desk()
    desk.read(fig(40, by="Health Ministry"))
    alerts = desk.read(fig(38, by="Health Ministry"))
    assert types(alerts) == [AlertType.FIGURE_DROP]
    assert (alerts[0].previous, alerts[0].value) == (40, 38)
    assert alerts[0].severity is Severity.HIGH


def test_a_stale_value_from_the_history_is_not_news() -> None:
    desk = Desk()
    desk.read(fig(22, by="Governor"))
    desk.read(fig(29, by="Governor"))
    assert desk.read(fig(22, q=Qualifier.AT_LEAST), outlet="Late Gazette") == []


def test_a_lower_new_value_from_another_source_is_a_conflict() -> None:
    desk = Desk()
    desk.read(fig(40, by="Health Ministry"))
    alerts = desk.read(fig(31, by="Red Crescent"))
    assert types(alerts) == [AlertType.FIGURE_CONFLICT]
    assert alerts[0].conflict_with == "Health Ministry"


def test_concurrent_reports_that_cannot_both_hold_conflict_and_a_new_peak_still_rises() -> None:
    # Two sources the same day, 22 and 29, neither framed as an update: the desk must hear
    # both that the toll is now 29 and that the ministry's 22 disagrees with it.
    desk = Desk()
    desk.read(fig(22, by="Ministry"), at=T0)
    alerts = desk.read(fig(29, by="Observatory"), at=T0 + timedelta(minutes=20))
    assert types(alerts) == [AlertType.FIGURE_RISE, AlertType.FIGURE_CONFLICT]
    assert (alerts[1].value, alerts[1].previous, alerts[1].conflict_with) == (29, 22, "Ministry")
    # The same claim framed as an update ("the toll rose to 29") is only a rise.
    desk2 = Desk()
    desk2.read(fig(22, by="Ministry"), at=T0)
    assert types(
        desk2.read(fig(29, by="Observatory", update=True), at=T0 + timedelta(minutes=20))
    ) == [AlertType.FIGURE_RISE]
    # More than a day later it is news moving on.
    desk3 = Desk()
    desk3.read(fig(22, by="Ministry"), at=T0)
    assert types(desk3.read(fig(29, by="Observatory"), at=T0 + timedelta(hours=30))) == [
        AlertType.FIGURE_RISE
    ]
    # Values whose hedges overlap ("at least 22" and 29) can both hold: no conflict.
    desk4 = Desk()
    desk4.read(fig(22, q=Qualifier.AT_LEAST, by="Ministry"), at=T0)
    assert types(desk4.read(fig(29, by="Observatory"), at=T0 + timedelta(hours=2))) == [
        AlertType.FIGURE_RISE
    ]


def test_a_value_below_the_peak_is_not_a_rise_even_after_a_revision_down() -> None:
    # "revised down from an earlier 248" to 217: a later 225 is above the current value but
    # below what was already reported; a toll is news only above its peak.
    desk = Desk()
    desk.read(fig(217, q=Qualifier.AT_LEAST), fig(248, temporal=Temporal.EARLIER))
    assert desk.read(fig(225), at=T0 + timedelta(days=2)) == []
    rise = desk.read(fig(250, q=Qualifier.AT_LEAST), at=T0 + timedelta(days=4))
    assert types(rise) == [AlertType.FIGURE_RISE]
    assert (rise[0].previous, rise[0].value) == (248, 250)


def test_the_highest_value_of_an_article_is_its_value_for_the_series() -> None:
    desk = Desk()
    desk.read(fig(40))
    alerts = desk.read(
        fig(44, "At least 44 people died, officials said.", q=Qualifier.AT_LEAST),
        fig(52, "Later the toll reached 52.", update=True),
        at=T0 + timedelta(days=1, hours=2),
    )
    assert types(alerts) == [AlertType.FIGURE_RISE]
    assert (alerts[0].previous, alerts[0].value) == (40, 52)


def test_a_lower_value_from_another_source_days_later_is_stale_not_a_conflict() -> None:
    desk = Desk()
    desk.read(fig(500, q=Qualifier.MORE_THAN, by="Ministry"), at=T0)
    assert desk.read(fig(413, by="Radio"), at=T0 + timedelta(days=3)) == []


def test_forecasts_and_other_events_are_never_compared() -> None:
    desk = Desk()
    desk.read(fig(100))
    assert (
        desk.read(
            fig(10_000, temporal=Temporal.FORECAST), fig(17_000, temporal=Temporal.OTHER_EVENT)
        )
        == []
    )
    assert list(desk.story.state.series) == ["killed|people|event"]


def test_untracked_story_stays_silent_until_an_impact_figure_arrives() -> None:
    desk = Desk()
    assert desk.read(statements=(said("Mayor Ana Ruiz"),)) == []
    assert not desk.story.state.tracked
    # The desk heard nothing while the story was untracked: both officials are new to it.
    alerts = desk.read(
        fig(12, metric=Metric.INJURED), statements=(said("Mayor Ana Ruiz"), said("Governor Li"))
    )
    assert types(alerts) == [AlertType.NEW_STORY, AlertType.NEW_STATEMENT, AlertType.NEW_STATEMENT]
    assert [a.speaker for a in alerts[1:]] == ["Mayor Ana Ruiz", "Governor Li"]
    assert desk.read(statements=(said("Mayor Ana Ruiz"),)) == []


def test_officials_alert_once_and_unofficial_voices_never() -> None:
    desk = Desk()
    desk.read(fig(5))
    first = desk.read(
        statements=(
            said("Fahrettin Altun", role="communications director"),
            said("Mr Altun", text="We will respond in kind."),
            said("Maria Lopez", role="resident", official=False),
        )
    )
    assert types(first) == [AlertType.NEW_STATEMENT]
    assert (first[0].speaker, first[0].speaker_role) == (
        "Fahrettin Altun",
        "communications director",
    )
    assert desk.read(statements=(said("Altun"),)) == []


def test_unspecified_subject_joins_the_story_s_series() -> None:
    desk = Desk()
    desk.read(fig(22, group="soldiers"))
    toll = fig(29, group="", update=True)
    alerts = desk.read(toll)
    assert types(alerts) == [AlertType.FIGURE_RISE]
    assert alerts[0].subject == "soldiers"


def test_revision_with_changed_claims_alerts_and_cosmetic_edit_does_not() -> None:
    desk = Desk()
    first = Extraction((fig(22),))
    desk.read(*first.figures)
    article = Article.create(
        title="t", text="29 killed", outlet="Wire", url="https://news.example/x"
    )
    observed = Observed(article, T0 + timedelta(hours=3), True)
    assert detect_revision(desk.story, observed, first, Extraction((fig(22),))).alerts == ()
    changes = detect_revision(desk.story, observed, first, Extraction((fig(29),)))
    assert types(list(changes.alerts)) == [AlertType.ARTICLE_REVISED, AlertType.FIGURE_RISE]
    assert "22" in changes.alerts[0].summary and "29" in changes.alerts[0].summary


def test_alert_records_carry_provenance_fields() -> None:
    desk = Desk()
    desk.read(fig(22, by="Governor"))
    alert = desk.read(fig(29, by="Governor"), outlet="Daily")[0]
    record = alert.as_record()
    for key in [
        "type",
        "story",
        "story_title",
        "article",
        "url",
        "outlet",
        "published",
        "metric",
        "subject",
        "scope",
        "value",
        "previous",
        "qualifier",
        "attributed_to",
        "speaker",
        "speaker_role",
        "quote",
        "sentence",
        "severity",
    ]:
        assert key in record
    assert record["outlet"] == "Daily" and record["url"] == "https://news.example/2"
    history = record["history"]
    assert isinstance(history, list)
    assert [h["value"] for h in history] == [22, 29]
    assert alert.key == desk_key_again(alert)


def desk_key_again(alert: Alert) -> str:
    from dataclasses import replace

    return replace(alert, summary="different wording").key


def test_unspecified_subject_of_another_metric_takes_the_story_s_victims() -> None:
    desk = Desk()
    desk.read(fig(22, group="soldiers"), fig(39, metric=Metric.INJURED, group=""))
    assert set(desk.story.state.series) == {"killed|soldiers|event", "injured|soldiers|event"}


def test_counts_for_different_places_in_one_article_are_not_a_conflict() -> None:
    desk = Desk()
    alerts = desk.read(
        fig(
            2300,
            "The quake killed more than 2,300 people in Turkey and Syria.",
            q=Qualifier.MORE_THAN,
        ),
        fig(1541, "The disaster agency said 1,541 people were killed in Turkey.", by="AFAD"),
        fig(538, "In Syria, the health ministry said 538 were killed.", by="Health Ministry"),
    )
    assert types(alerts) == [AlertType.NEW_STORY]
    series = next(iter(desk.story.state.series.values()))
    assert open_conflicts(series) == []


def test_a_contrasted_count_elsewhere_in_the_article_is_a_conflict() -> None:
    desk = Desk()
    alerts = desk.read(
        fig(40, "Forty people died in the fire, the ministry said.", by="Ministry"),
        fig(52, "Rescuers, however, put their own toll at 52.", by="Red Cross"),
    )
    assert types(alerts) == [AlertType.NEW_STORY, AlertType.FIGURE_CONFLICT]


def test_an_outlet_s_own_figure_and_a_named_source_the_same_day_can_conflict() -> None:
    # An outlet stating 225 in its own voice and a ministry's 230 twenty minutes later
    # cannot both hold: who says it does not matter, only that two sources disagree.
    desk = Desk()
    desk.read(fig(225), outlet="Daily", at=T0)
    alerts = desk.read(fig(230, by="Ministry"), outlet="Wire", at=T0 + timedelta(minutes=20))
    assert types(alerts) == [AlertType.FIGURE_RISE, AlertType.FIGURE_CONFLICT]
    assert alerts[1].conflict_with == "Daily"


def test_a_count_of_another_kind_is_worded_by_its_group() -> None:
    desk = Desk()
    desk.read(fig(40))
    alerts = desk.read(fig(720_000, metric=Metric.AFFECTED, group="people in need"))
    assert types(alerts) == [AlertType.NEW_FIGURE]
    assert "720,000 people in need (" in alerts[0].summary
    assert "people in need affected" not in alerts[0].summary


def test_an_article_about_one_place_joins_that_place_s_series_when_the_story_has_one() -> None:
    # A cyclone across two countries: the story counts each country; a later report about
    # one of them alone (event-wide for the article) is that country's count.
    desk = Desk()
    mz = Scope(ScopeKind.LOCAL, "mozambique")
    desk.read(fig(82), fig(62, scope=mz))
    alerts = desk.read(fig(84, scope=Scope(ScopeKind.EVENT, "mozambique")))
    assert types(alerts) == [AlertType.FIGURE_RISE]
    assert (alerts[0].previous, alerts[0].scope) == (62, "local:mozambique")
    # In a story that never split by place, the same figure is the event's.
    desk2 = Desk()
    desk2.read(fig(82))
    alerts = desk2.read(fig(84, scope=Scope(ScopeKind.EVENT, "mozambique")))
    assert (alerts[0].previous, alerts[0].scope) == (82, "event")
