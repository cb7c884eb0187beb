"""The `flask --app app lec …` commands (SPEC §10)."""

import os
import sys
import time
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_migrate import upgrade
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from config import Config
from i18n import (
    SpokenArgument,
    SpokenCommand,
    SpokenOption,
    SpokenWords,
    be_date,
    cli_speaking,
    speak_click,
    speak_click_option,
)
from models import Institution, Lao, Level, Province, User, db
from rules import RuleViolation
from rules.accounts import by_login, one_time_password
from rules.passwords import set_password
from web.fields import DateProblem, parse_be_date

from .demo import build_demo
from .geography import load_geography
from .laos import import_laos
from .national import build_national, registry_path


class _Commands(SpokenWords, AppGroup):
    """The `lec` group: every command but init needs the tables `init` makes (a worker may
    start before them, beside a new install: its jobs come only once the site runs). Help, the
    group's and each command's, is said in the commands' language."""

    command_class = SpokenCommand

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """click's own words, from its first refusal on, in LEC_CLI_LANGUAGE or Thai
        (--language, read next, may change them)."""
        speak_click(os.environ.get("LEC_CLI_LANGUAGE"))
        return super().make_context(info_name, args, parent, **extra)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        """Say a database not made yet is so, instead of a trace (a --help needs no database)."""
        name, command, rest = super().resolve_command(ctx, args)
        if name not in ("init", "worker") and not ctx.resilient_parsing and not any(
                arg in ctx.help_option_names for arg in rest):
            with cli_speaking(ctx):
                if not inspect(db.engine).has_table(User.__tablename__):
                    _fail(_("The database has no tables yet: run “flask --app app lec init” "
                            "first."))
        return name, command, rest


@click.group("lec", cls=_Commands, help=_l("LEC administration commands."),
             subcommand_metavar=_l("COMMAND [ARGS]..."))
@click.option("--language", type=click.Choice(Config.LANGUAGES), envvar="LEC_CLI_LANGUAGE",
              is_eager=True, cls=SpokenOption,  # before --help: the help speaks it too
              callback=speak_click_option,
              help=_l("Language of the messages and help (or LEC_CLI_LANGUAGE); Thai by "
                      "default."))
@click.pass_context
def lec(ctx: click.Context, language: str | None) -> None:
    """The commands speak --language's language, else the site's default (Thai)."""
    if language:  # the subcommand then runs in this app context, in that language
        ctx.with_resource(cli_speaking(ctx))


def _fail(message: str) -> None:
    raise click.ClickException(message)


class _BuddhistEraDate(click.ParamType):
    """A date typed as people here write it, 10/06/2569, read as the web forms read it: a
    year typed in the Common Era is refused, not taken for a date five centuries away."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> date | None:
        if isinstance(value, date):
            return value
        try:
            return parse_be_date(value)
        except DateProblem as problem:
            with cli_speaking(ctx) if ctx else nullcontext():
                self.fail(str(problem), param, ctx)


@lec.command("init", help=_l("Create or upgrade the schema and load the geography reference "
                              "data."))
def init_command() -> None:
    upgrade(directory=current_app.extensions["migrate"].directory)
    added = load_geography()
    click.echo(_("Schema is current; %(rows)d geography rows added.", rows=added))


@lec.command("import-laos", help=_l("Import DLA's LAO registry CSV; nothing is written if any "
                                     "line is wrong."))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                cls=SpokenArgument, metavar=_l("FILE"))
def import_laos_command(file: Path) -> None:
    try:
        report = import_laos(file)
    except RuleViolation as exc:
        _fail(str(exc))
    if report.errors:
        for error in report.errors:
            click.echo(error, err=True)
        _fail(ngettext("%(num)d bad line; nothing was imported.",
                       "%(num)d bad lines; nothing was imported.", len(report.errors)))
    click.echo(_("%(added)d LAOs added, %(updated)d updated, %(exceptions)d code exceptions "
                 "recorded.", added=report.added, updated=report.updated,
                 exceptions=report.exceptions))


@lec.command("demo", help=_l("Fill one province with demo units and accounts; write "
                              "instance/demo-accounts.csv."))
@click.option("--province", default="33", show_default=True, cls=SpokenOption, metavar=_l("CODE"),
              help=_l("DOPA province code."))
@click.option("--national", is_flag=True, cls=SpokenOption,
              help=_l("Build the national set instead: DLA's LAO registry, ~20,000 "
                      "institutions, learners with one active enrolment each, an account per "
                      "unit."))
@click.option("--learners", default=1_500_000, show_default=True, type=click.IntRange(0),
              cls=SpokenOption, metavar=_l("NUMBER"),
              help=_l("With --national: how many learners."))
@click.option("--registry", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              cls=SpokenOption, metavar=_l("FILE"),
              help=_l("With --national: the LAO registry CSV (default ../shared/data/…)."))
@click.option("--force", is_flag=True, cls=SpokenOption,
              help=_l("With --national: empty a database that already holds learners first."))
def demo_command(province: str, national: bool, learners: int, registry: Path | None,
                 force: bool) -> None:
    if national:
        started = time.monotonic()
        try:
            report = build_national(Path(current_app.instance_path),
                                    registry or registry_path(Path(current_app.root_path)),
                                    learners, force)
        except RuleViolation as exc:
            _fail(str(exc))
        click.echo(_("National set ready in %(seconds)d s: %(laos)d LAOs, %(institutions)d "
                     "institutions, %(learners)d learners, %(accounts)d accounts; passwords in "
                     "%(file)s", seconds=round(time.monotonic() - started), laos=report.laos,
                     institutions=report.institutions, learners=report.learners,
                     accounts=report.accounts, file=report.passwords))
        return
    if db.session.get(Province, province) is None:
        _fail(_("There is no province with code %(code)s.", code=province))
    out = build_demo(province, Path(current_app.instance_path))
    click.echo(_("Demo province %(code)s ready; accounts and passwords in %(file)s",
                 code=province, file=out))


@lec.command("risk", help=_l("Compute a round's risk flags and quality scores (set-wise, the "
                              "whole nation at once)."))
@click.option("--round", "round_id", type=int, cls=SpokenOption, metavar=_l("ROUND"),
              help=_l("Round id; by default the latest round that has opened."))
def risk_command(round_id: int | None) -> None:
    from models import Round
    from rules import progress, quality, risk

    round_ = (db.session.get(Round, round_id) if round_id
              else progress.current_round(db.session))
    if round_ is None:
        _fail(_("There is no round with id %(id)s.", id=round_id) if round_id
              else _("There is no round yet."))
    risk.seed_thresholds(db.session, round_.academic_year)
    risk.compute(db.session, round_)
    quality.compute(db.session, round_)
    db.session.commit()
    click.echo(_("Risk flags and quality scores of round %(round)s computed.", round=round_))


@lec.command("totals", help=_l("Rebuild every round's province totals from the snapshots "
                                "(after a bulk load)."))
def totals_command() -> None:
    from models import Round
    from rules import totals

    for round_id in db.session.scalars(select(Round.id)):
        totals.rebuild(db.session, round_id)
    db.session.commit()
    click.echo(_("Province totals rebuilt from the confirmed snapshots."))


@lec.command("load-obec", help=_l("Load OBEC's published per-school, per-grade counts for a "
                                   "count date (replaces that date)."))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                cls=SpokenArgument, metavar=_l("FILE"))
@click.option("--date", "day", type=_BuddhistEraDate(), cls=SpokenOption,
              metavar=_l("DD/MM/BBBB"),
              help=_l("Count date, day/month/year in the Buddhist Era (for example 10/06/2569); "
                      "by default the file's own 'ข้อมูล ณ วันที่' row."))
def load_obec_command(file: Path, day: date | None) -> None:
    from rules.risk import load_obec_counts
    from spreadsheets.obec_counts import read_obec_counts

    try:
        table = read_obec_counts(file.read_bytes())
    except RuleViolation as exc:
        _fail(str(exc))
    count_date = day or table.as_of
    if count_date is None:
        _fail(_("The file has no 'ข้อมูล ณ วันที่' row: give --date."))
    rows = load_obec_counts(db.session, table.counts, count_date)
    db.session.commit()
    click.echo(_("%(rows)d OBEC grade counts loaded for %(date)s.", rows=rows,
                 date=be_date(count_date)))


def _read_password() -> str:
    """One line; a Windows line end (CR LF, as `echo` in cmd or PowerShell gives) is not kept."""
    return sys.stdin.readline().rstrip("\r\n")


def _set_chosen_password(user: User, password: str) -> None:
    """The same policy as the web forms; the reasons are shown on the terminal."""
    try:
        set_password(user, password)
    except RuleViolation as exc:
        _fail(" ".join(str(m) for m in exc.messages))


def _institution(code: str | None) -> Institution | None:
    """The institution a command names by code; a code that is none is refused in words."""
    if code is None:
        return None
    institution = db.session.scalar(select(Institution).where(Institution.code == code.strip()))
    if institution is None:
        _fail(_("There is no institution with code %(code)s.", code=code))
    return institution


@lec.command("create-user", help=_l("Create an account; without --password-stdin a one-time "
                                     "password is printed."))
@click.argument("login", cls=SpokenArgument, metavar=_l("LOGIN"))
@click.option("--level", type=click.Choice([str(level) for level in Level]), required=True)
@click.option("--unit", default=None, cls=SpokenOption, metavar=_l("CODE"),
              help=_l("Province, LAO or institution code of the unit."))
@click.option("--name", default=None, cls=SpokenOption, metavar=_l("NAME"),
              help=_l("The person's name (department accounts)."))
@click.option("--password-stdin", is_flag=True, cls=SpokenOption,
              help=_l("Read the password from stdin."))
def create_user_command(login: str, level: str, unit: str | None, name: str | None,
                        password_stdin: bool) -> None:
    if level == Level.DEPARTMENT and unit is not None:
        _fail(_("A department account belongs to no unit: leave out --unit (it is for "
                "province, LAO and institution accounts)."))
    user = User(login=login, level=level, name=name)
    if level == Level.PROVINCE:
        user.province_code = unit
    elif level == Level.LAO:
        user.lao = db.session.scalar(select(Lao).where(Lao.code == unit))
        if unit and user.lao is None:
            _fail(_("There is no LAO with code %(code)s.", code=unit))
        user.lao_id = user.lao.id if user.lao else None
    elif level == Level.INSTITUTION:
        user.institution = _institution(unit)
        user.institution_id = user.institution.id if user.institution else None
    password = _read_password() if password_stdin else one_time_password()
    if password_stdin:
        _set_chosen_password(user, password)
    else:
        user.set_password(password)
    user.must_change_password = not password_stdin
    db.session.add(user)
    try:
        db.session.commit()
    except (RuleViolation, IntegrityError) as exc:
        db.session.rollback()
        _fail(str(exc) if isinstance(exc, RuleViolation)
              else _("The login %(login)s is taken.", login=login))
    click.echo(_("Created %(login)s.", login=login) if password_stdin
               else _("Created %(login)s. One-time password: %(password)s", login=login,
                      password=password))


@lec.command("set-password", help=_l("Set LOGIN's password from stdin (one line) and end its "
                                      "sessions."))
@click.argument("login", cls=SpokenArgument, metavar=_l("LOGIN"))
def set_password_command(login: str) -> None:
    user = by_login(db.session, login)
    if user is None:
        _fail(_("There is no account %(login)s.", login=login))
    _set_chosen_password(user, _read_password())
    user.must_change_password = False
    user.session_version += 1
    db.session.commit()
    click.echo(_("Password of %(login)s set.", login=login))


@lec.command("import-learners", help=_l("Import a learner file (own template, LEC report or "
                                         "DMC; XLSX, XLS, CSV): all or nothing."))
@click.argument("institution_code", cls=SpokenArgument, metavar=_l("INSTITUTION_CODE"))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                cls=SpokenArgument, metavar=_l("FILE"))
@click.option("--year", type=click.IntRange(2500, 2700), cls=SpokenOption, metavar=_l("YEAR"),
              help=_l("Academic year (BE, e.g. 2569); the current one by default."))
def import_learners_command(institution_code: str, file: Path, year: int | None) -> None:
    from rules.enrolment import current_academic_year
    from spreadsheets import learner_import

    institution = _institution(institution_code)
    # A file of DLA's own from disk: not bounded like an upload (100,000 rows are fine).
    result = learner_import.import_learners(db.session, file.read_bytes(), institution,
                                            year or current_academic_year(db.session),
                                            bounded=False)
    click.echo(learner_import.report_text(result))
    if not result.ok:
        sys.exit(1)
    db.session.commit()
