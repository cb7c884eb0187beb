"""The database handle and every model, so `from models import X` finds any table."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with named constraints, so migrations can alter them on SQLite too."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)

from .accounts import Level, ThrottleHit, User  # noqa: E402
from .admission import Application  # noqa: E402
from .audit import AuditEntry  # noqa: E402
from .budget import BudgetRate  # noqa: E402
from .geography import District, Province, Subdistrict  # noqa: E402
from .jobs import Job  # noqa: E402
from .organisations import (  # noqa: E402
    Affiliation,
    CodeException,
    Institution,
    InstitutionKind,
    Lao,
    LaoType,
    OtherSchool,
)
from .people import Building, CentreBasicData, Enrolment, Learner, OtherSchoolCount  # noqa: E402
from .profiles import Profile  # noqa: E402
from .risk import ObecCount, QualityScore, RiskFlag, RiskThreshold  # noqa: E402
from .roster import RosterEntry  # noqa: E402
from .rounds import (  # noqa: E402
    Confirmation,
    ProvinceTotal,
    Round,
    SnapshotCount,
    SpotCheck,
    SpotCheckItem,
)
from .tokens import AgencyToken  # noqa: E402

__all__ = [
    "AgencyToken",
    "AuditEntry",
    "BudgetRate",
    "Profile",
    "ProvinceTotal",
    "ObecCount",
    "QualityScore",
    "RiskFlag",
    "RiskThreshold",
    "RosterEntry",
    "ThrottleHit",
    "Application",
    "Building",
    "CentreBasicData",
    "Enrolment",
    "Learner",
    "OtherSchoolCount",
    "Affiliation",
    "CodeException",
    "District",
    "Institution",
    "Job",
    "InstitutionKind",
    "Lao",
    "LaoType",
    "Level",
    "OtherSchool",
    "Province",
    "Confirmation",
    "Round",
    "SnapshotCount",
    "SpotCheck",
    "SpotCheckItem",
    "Subdistrict",
    "User",
    "db",
]
