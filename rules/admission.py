"""Online applications (SPEC §8): what a parent may send, and what a decision must carry."""


from datetime import date

from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import clock
from models import Application, Enrolment, Institution, Learner
from models.admission import ApplicationStatus
from models.people import (
    CDC_GRADES,
    GRADE_AGE,
    GRADE_LABELS,
    GRADES_BY_KIND,
    TITLES,
)

from . import RuleViolation, validates
from .enrolment import age_at_year_start, age_warning, enrol, grade_problems
from .identity import (
    GENDERS,
    g_code_province_problems,
    name_problem,
    national_id_problems,
    normalise_national_id,
)

#: Titles of a child under 15; older learners are นาย / นางสาว.
CHILD_TITLES = TITLES[:2]


def age_group(birth_date: date | None, academic_year: int) -> str | None:
    """The CDC age group a child belongs to in `academic_year`, from the birth date."""
    if birth_date is None:
        return None
    grade = f"A{age_at_year_start(birth_date, academic_year)}"
    return grade if grade in CDC_GRADES else None


def outside_grades(birth_date: date, academic_year: int, kind: str) -> str | None:
    """Why no grade of this kind of institution fits a child born on `birth_date`, said as too
    young or too old: a centre's age group left blank is worked out from the birth date."""
    ages = [GRADE_AGE[grade] for grade in GRADES_BY_KIND[kind]]
    age = age_at_year_start(birth_date, academic_year)
    if age < min(ages):
        return _("By this birth date the child is too young for this institution in academic "
                 "year %(year)d: it takes children from %(youngest)d years old. Check the birth "
                 "date and the academic year.", year=academic_year, youngest=min(ages))
    if age > max(ages):
        return _("By this birth date the child is too old for this institution in academic "
                 "year %(year)d: it takes children up to %(oldest)d years old. Check the birth "
                 "date and the academic year.", year=academic_year, oldest=max(ages))
    return None


def _grade_problems(application: Application, institution: Institution) -> list[str]:
    """The grade asked for; one left blank is one no grade fits, or one still to choose."""
    if application.grade:
        return grade_problems(application.grade, institution.kind)
    born = application.birth_date
    outside = (outside_grades(born, application.academic_year, institution.kind)
               if born is not None and born <= clock.today() else None)
    return [outside or _("Choose the grade level applied for.")]


def child_problems(application: Application, institution: Institution) -> list[str]:
    """The child's identity, and an age that fits the grade asked for at this institution."""
    problems = national_id_problems(application.national_id)
    if application.title not in TITLES:
        problems.append(_("Choose the child's title."))
    if not (application.first_name or "").strip() or not (application.last_name or "").strip():
        problems.append(_("Enter the child's first name and last name."))
    problems += [p for key in ("first_name", "last_name")
                 if (p := name_problem(key, getattr(application, key)))]
    if application.gender not in GENDERS:
        problems.append(_("Choose the child's gender."))
    grade_wrong = _grade_problems(application, institution)
    problems += grade_wrong
    if application.birth_date is None or application.birth_date > clock.today():
        problems.append(_("Enter the child's birth date; it cannot be in the future."))
    elif not grade_wrong and age_warning(application.birth_date, application.grade,
                                         application.academic_year) is not None:
        # Staff may confirm an unusual age; a parent is asked to check, and to call if it is so.
        problems.append(_(
            "By this birth date the child's age does not fit %(grade)s in academic year "
            "%(year)d (children are usually %(usual)d years old). Check the birth date and the "
            "grade; if both are right, please contact the institution.",
            grade=GRADE_LABELS[application.grade], year=application.academic_year,
            usual=GRADE_AGE[application.grade]))
    return problems


def _live_application(session: Session, national_id: str, institution_id: int,
                      academic_year: int) -> int | None:
    """The id of an application of this child to this institution and year not refused."""
    with session.no_autoflush:
        return session.scalar(select(Application.id).where(
            Application.national_id == national_id,
            Application.institution_id == institution_id,
            Application.academic_year == academic_year,
            Application.status != ApplicationStatus.REJECTED).limit(1))


def already_sent(academic_year: int) -> str:
    """The refusal of a second application, in the same words however it was caught."""
    return _("An application for this child to this institution for academic year %(year)d "
             "has already been sent. Check its status with the tracking code you received, "
             "or contact the institution.", year=academic_year)


def _already_sent(session: Session, application: Application) -> list[str]:
    """A second application of the same child to the same institution and year (a double tap
    on send, or a parent who forgot the first) would only wait for a decision already due."""
    if _live_application(session, application.national_id, application.institution_id,
                         application.academic_year) is None:
        return []
    return [already_sent(application.academic_year)]


def commit_application(session: Session, application: Application) -> None:
    """Save a new application; one of the same child sent at the same moment passed the check
    too, and the unique index refuses this one: roll back and say so as the check would."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if _live_application(session, normalise_national_id(application.national_id),
                             application.institution_id, application.academic_year) is None:
            raise
        raise RuleViolation(already_sent(application.academic_year)) from None


@validates(Application)
def check_application(session: Session, application: Application) -> list[str]:
    """A new application needs an open institution and a valid child; a refusal needs a reason.
    A new application's ID is stored normalised and its status starts as submitted."""
    problems: list[str] = []
    if inspect(application).pending:
        with session.no_autoflush:
            institution = session.get(Institution, application.institution_id)
        if (institution is None or not institution.active
                or not institution.accepts_online_applications):
            return [_("This institution is not taking online applications. Please contact the "
                      "institution directly.")]
        application.national_id = normalise_national_id(application.national_id)
        application.status = application.status or ApplicationStatus.SUBMITTED
        problems += child_problems(application, institution)
        problems += g_code_province_problems(session, application.national_id)
        problems += _already_sent(session, application)
        if not (application.contact_name or "").strip() or not (
                application.contact_phone or "").strip():
            problems.append(_("Enter the name and phone number of a parent or guardian."))
    if application.status not in tuple(ApplicationStatus):
        problems.append(_("Choose a valid status for the application."))
    if (application.status == ApplicationStatus.REJECTED
            and not (application.reject_reason or "").strip()):
        problems.append(_("Give the reason the application is not accepted; the parent sees it."))
    if application.status == ApplicationStatus.ACCEPTED and application.enrolment is None \
            and application.enrolment_id is None:
        problems.append(_("An application is accepted by enrolling the child."))
    return problems


def accept(session: Session, application: Application, decided_by: str) -> Enrolment:
    """Accept: the child becomes a learner (or is found by ID) and is enrolled, by the rules."""
    institution = session.get(Institution, application.institution_id)
    learner = session.scalar(
        select(Learner).where(Learner.national_id == application.national_id))
    if learner is None:
        learner = Learner(
            national_id=application.national_id, title=application.title,
            first_name=application.first_name, last_name=application.last_name,
            gender=application.gender, birth_date=application.birth_date,
            guardian_name=application.contact_name, guardian_phone=application.contact_phone)
        session.add(learner)
    enrolment = enrol(learner, institution, application.academic_year, application.grade,
                      enrolled_on=clock.today())
    session.add(enrolment)
    application.enrolment = enrolment
    application.status = ApplicationStatus.ACCEPTED
    application.decided_at = clock.now()
    application.decided_by = decided_by
    return enrolment
