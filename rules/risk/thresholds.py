"""The thresholds of the risk rules: the defaults every year starts with, and the department's
own values per year over them."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.risk import RiskThreshold

#: The thresholds every year starts with; the department edits them per year.
DEFAULTS: dict[str, float] = {
    "shared_phone.learners": 5,
    "g_code_share.factor": 3,
    "g_code_share.min_share": 0.2,
    "g_code_share.min_learners": 10,
    "age_grade.years": 2,
    "late_enrolment.days": 0,
    "count_jump.ratio": 0.3,
    "count_jump.min_change": 10,
    "other_school_jump.ratio": 0.3,
    "other_school_jump.min_change": 10,
    # What each flag adds to a learner's weight (1) in the province's spot-check sample.
    "weight.incomplete": 1,
    "weight.age_grade": 2,
    "weight.late_enrolment": 3,
    "weight.shared_phone": 3,
    "weight.same_person": 4,
    "weight.g_code_share": 1,
    "weight.count_jump": 1,
    "weight.centre_no_staff": 1,
}
SETTING_LABELS = {
    "shared_phone.learners": _l("Learners behind one guardian phone before it is flagged"),
    "g_code_share.factor": _l("G-code share above the province's share, as a multiple"),
    "g_code_share.min_share": _l("Smallest G-code share flagged (0 to 1)"),
    "g_code_share.min_learners": _l("Smallest institution checked for its G-code share"),
    "age_grade.years": _l("Years from the usual age of the grade before a learner is flagged"),
    "late_enrolment.days": _l("Days after the count date an enrolment is still accepted"),
    "count_jump.ratio": _l("Change against the last confirmed count flagged (0.3 = 30%)"),
    "count_jump.min_change": _l("Smallest change in learners flagged against the last count"),
    "other_school_jump.ratio": _l("Change of an other-affiliation count against its past "
                                  "flagged (0.3 = 30%)"),
    "other_school_jump.min_change": _l("Smallest change in pupils flagged for an "
                                       "other-affiliation school"),
}


def thresholds(session: Session, academic_year: int) -> dict[str, float]:
    """The year's thresholds: the department's values over the defaults."""
    rows = session.execute(select(RiskThreshold.setting, RiskThreshold.value)
                           .where(RiskThreshold.academic_year == academic_year))
    return {**DEFAULTS, **{setting: value for setting, value in rows}}


def seed_thresholds(session: Session, academic_year: int) -> int:
    """Write the defaults the year does not have yet, so the department sees what is used."""
    have = set(session.scalars(select(RiskThreshold.setting)
                               .where(RiskThreshold.academic_year == academic_year)))
    missing = [RiskThreshold(academic_year=academic_year, setting=k, value=v)
               for k, v in DEFAULTS.items() if k not in have]
    session.add_all(missing)
    return len(missing)
