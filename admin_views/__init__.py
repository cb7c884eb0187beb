"""The admin panel: one view per entity, all through the scoped base view."""

from pathlib import Path

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from models import (
    Application,
    Building,
    CentreBasicData,
    CodeException,
    District,
    Enrolment,
    Institution,
    Lao,
    Learner,
    OtherSchool,
    Province,
    Subdistrict,
    User,
)
from models.audit import AuditEntry
from models.budget import BudgetRate
from models.risk import RiskThreshold
from models.rounds import Round
from models.tokens import AgencyToken
from web.security import csp_nonce

from .accounts import UserView
from .admission import ApplicationView
from .audit import AuditView, RevealView
from .basic_data import BuildingView, CentreBasicDataView
from .cards import CardsView
from .changes import ChangesView
from .confirmation import ConfirmationView, SpotCheckView
from .counts import OtherSchoolCountView
from .geography import DistrictView, ProvinceView, SubdistrictView
from .home import DashboardIndexView
from .imports import ImportView
from .jobs import JobsView
from .learners import ChildView, LearnerView, StudentView
from .menu import drawn
from .organisations import CodeExceptionView, InstitutionView, LaoView, OtherSchoolView
from .profile import ProfileView
from .reports import BudgetRateView, BudgetView, ReportView
from .risk import RiskThresholdView, RiskView
from .rounds import RoundView
from .tokens import AgencyTokenView
from .widgets import edit_sources


def init_app(app: Flask) -> Admin:
    """Register every admin view; each user's menu shows what their level uses (menu.py)."""
    admin = Admin(
        app,
        name=_l("LEC"),
        index_view=DashboardIndexView(name=_l("Home"), url="/admin"),
        translations_path=str(Path(app.root_path) / "translations"),
        theme=Bootstrap4Theme(base_template="admin/lec_base.html", fluid=True),
        csp_nonce_generator=csp_nonce,
    )
    app.jinja_env.globals["list_edit_sources"] = edit_sources
    app.jinja_env.globals["lec_menu"] = drawn
    app.extensions["lec_menus"] = {}  # (desk, language, page) -> the navbar's menu, drawn
    units = _l("Units")
    admin.add_view(LaoView(Lao, name=_l("LAOs"), category=units, endpoint="lao"))
    admin.add_view(InstitutionView(Institution, name=_l("Institutions"), category=units,
                                   endpoint="institution"))
    admin.add_view(OtherSchoolView(OtherSchool, name=_l("Other-affiliation schools"),
                                   category=units, endpoint="other_school"))
    admin.add_view(ApplicationView(Application, name=_l("Online applications"),
                                   endpoint="application"))
    learners = _l("Learners")
    admin.add_view(StudentView(Enrolment, name=_l("Students"), category=learners,
                               endpoint="student"))
    admin.add_view(ChildView(Enrolment, name=_l("Young children"), category=learners,
                             endpoint="child"))
    admin.add_view(LearnerView(Learner, name=_l("Learner identity"), category=learners,
                               endpoint="learner"))
    admin.add_view(OtherSchoolCountView(name=_l("Other-affiliation counts"), category=learners,
                                        endpoint="other_count"))
    admin.add_view(ImportView(name=_l("Import learners"), category=learners,
                              endpoint="learner_import", url="/admin/import"))
    basic = _l("Basic data")
    admin.add_view(CentreBasicDataView(CentreBasicData, name=_l("Centre basic data"),
                                       category=basic, endpoint="centre_basic_data"))
    admin.add_view(BuildingView(Building, name=_l("Buildings"), category=basic,
                                endpoint="building"))
    reports = _l("Reports")
    admin.add_view(ReportView(name=_l("Counts by grade and gender"), category=reports,
                              endpoint="reports", url="/admin/reports"))
    admin.add_view(BudgetView(name=_l("Budget estimate"), category=reports,
                              endpoint="budget", url="/admin/budget"))
    admin.add_view(BudgetRateView(BudgetRate, name=_l("Subsidy rates"), category=reports,
                                  endpoint="budget_rate"))
    confirming = _l("Confirmation")
    admin.add_view(ConfirmationView(name=_l("Confirmation and progress"), category=confirming,
                                    endpoint="confirmation"))
    admin.add_view(SpotCheckView(name=_l("Spot checks"), category=confirming,
                                 endpoint="spot_checks"))
    admin.add_view(RiskView(name=_l("Risk flags"), category=confirming, endpoint="risk"))
    admin.add_view(ChangesView(name=_l("Changed since confirmation"), category=confirming,
                               endpoint="changes"))
    administration = _l("Administration")
    admin.add_view(RoundView(Round, name=_l("Collection rounds"), category=administration,
                             endpoint="round"))
    admin.add_view(UserView(User, name=_l("Accounts"), category=administration, endpoint="user"))
    admin.add_view(CardsView(name=_l("Credential cards"), category=administration,
                             endpoint="cards"))
    admin.add_view(AuditView(AuditEntry, name=_l("Audit log"), category=administration,
                             endpoint="audit"))
    admin.add_view(JobsView(name=_l("My jobs"), category=_l("Reports"), endpoint="jobs"))
    admin.add_view(ProfileView(name=_l("Profile"), endpoint="profile"))
    admin.add_view(RevealView(name=_l("Reveal national ID"), endpoint="reveal"))
    reference = administration  # the department's reference data sits with its other tools
    admin.add_view(ProvinceView(Province, name=_l("Provinces"), category=reference,
                                endpoint="province"))
    admin.add_view(DistrictView(District, name=_l("Districts"), category=reference,
                                endpoint="district"))
    admin.add_view(SubdistrictView(Subdistrict, name=_l("Subdistricts"), category=reference,
                                   endpoint="subdistrict"))
    admin.add_view(CodeExceptionView(CodeException, name=_l("Code exceptions"),
                                     category=reference, endpoint="code_exception"))
    admin.add_view(AgencyTokenView(AgencyToken, name=_l("Agency API tokens"),
                                   category=reference, endpoint="agency_token"))
    admin.add_view(RiskThresholdView(RiskThreshold, name=_l("Risk thresholds"),
                                     category=reference, endpoint="risk_threshold"))
    return admin
