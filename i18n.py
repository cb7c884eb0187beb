"""Thai-first language choice and Buddhist-Era dates (SPEC §1: BE years, Thai by default)."""

import gettext
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from babel import support
from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask.cli import ScriptInfo
from flask_babel import Babel, force_locale, format_date, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from clock import BANGKOK, be_year
from config import Config

babel = Babel()
#: The catalogue of click's own words (Usage, Options, Error:, its refusals of a bad option),
#: which click asks the standard library's gettext for.
CLICK_DOMAIN = "click"
#: click writes a command's --help option once per process, in the language of that moment.
HELP_OPTION_HELP = "Show this message and exit."

def select_locale() -> str:
    """Thai unless the user picked English with the language switch."""
    chosen = session.get("lang") if has_request_context() else None
    return chosen if chosen in current_app.config["LANGUAGES"] else "th"


def be_date(value: date | datetime | None) -> str:
    """A date as `21 พ.ย. 2569` (or `21 Nov 2569` in English); datetimes in Bangkok time.

    A naive datetime is UTC: SQLite hands stored timestamps back without their zone."""
    return _be(value, "d MMM ")


def be_cell_date(value: date | datetime | None) -> str:
    """A date as spreadsheets write it, `21/11/2569` (with `14:05` for a datetime, in Bangkok
    time), in every language: the same as the learner file, so a column sorts and re-imports."""
    return _be(value, "dd/MM/")


def _be(value: date | datetime | None, day_month: str) -> str:
    """The day and month by the pattern `day_month`, the BE year, and a datetime's hour."""
    if value is None:
        return ""
    hour = ""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(BANGKOK)
        hour = f" {value:%H:%M}"
        value = value.date()
    return f"{format_date(value, day_month)}{be_year(value.year)}{hour}"


def thousands(value: int | None) -> str:
    """A count as people write it: 38,000."""
    return "" if value is None else f"{value:,}"


class WTFormsTranslations:
    """WTForms' own messages ('This field is required.') from our Thai `wtforms` catalog."""

    def __init__(self) -> None:
        self.loaded: dict[tuple[str, str], support.NullTranslations] = {}

    def _catalog(self) -> Any:
        """The request's catalogue, read from disk once per language, not on every form."""
        if not request:
            return support.NullTranslations()
        key = (current_app.extensions["babel"].translation_directories[0], str(get_locale()))
        if key not in self.loaded:
            self.loaded[key] = support.Translations.load(key[0], [key[1]], domain="wtforms")
        return self.loaded[key]

    def gettext(self, string: str) -> str:
        return self._catalog().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog().ungettext(singular, plural, n)


wtforms_translations = WTFormsTranslations()


def html_lang(response: Response) -> Response:
    """Flask-Admin's base template writes a bare `<html>`: name the page's language."""
    if (response.mimetype == "text/html" and not response.is_streamed
            and not response.direct_passthrough):
        page = response.get_data()
        if b"<html>" in page[:200]:
            response.set_data(page.replace(b"<html>", f'<html lang="{get_locale()}">'.encode(), 1))
    return response


def remembered(translate: Callable[..., str]) -> Callable[..., str]:
    """`translate`, answering each plain message once per language and process: a 50-row list
    asks the same few words for every row, and Flask-Babel finds the request's catalogue again
    each time. The catalogues do not change while LEC runs."""
    by_language: dict[str, dict[str, str]] = {}
    slot = f"lec_words_{id(by_language)}"  # the request's language's words, found once

    def once(message: str, **variables: Any) -> str:
        if variables or not has_request_context():
            return translate(message, **variables)
        words = g.get(slot)
        if words is None:
            words = by_language.setdefault(str(get_locale()), {})
            setattr(g, slot, words)
        if message not in words:
            words[message] = translate(message)
        return words[message]

    return once


def in_language(labels: dict[Any, Any]) -> Callable[[], dict[Any, str]]:
    """A function giving `labels` with every lazy label in the request's language, translated
    once per language and process, not once per page."""
    by_language: dict[str, dict[Any, str]] = {}

    def shown() -> dict[Any, str]:
        language = str(get_locale())  # a job's or the CLI's forced language too
        if language not in by_language:
            by_language[language] = {key: str(label) for key, label in labels.items()}
        return by_language[language]

    return shown


def cli_language(ctx: click.Context) -> str | None:
    """The language the `lec` commands speak: --language, else LEC_CLI_LANGUAGE, else none
    chosen (the site's default, Thai)."""
    while ctx is not None:
        if ctx.params.get("language"):
            return ctx.params["language"]
        ctx = ctx.parent
    return os.environ.get("LEC_CLI_LANGUAGE") or None


def cli_speaking(ctx: click.Context) -> ExitStack:
    """The app and the language a command's help or messages are said in."""
    stack = ExitStack()
    if not current_app:
        stack.enter_context(ctx.ensure_object(ScriptInfo).load_app().app_context())
    if (language := cli_language(ctx)) in current_app.config["LANGUAGES"]:
        stack.enter_context(force_locale(language))
    return stack


def speak_click(language: str | None) -> None:
    """click's own words in `language`, Thai when none (or one LEC does not speak) is chosen,
    for the rest of the process: click prints a refusal after the command's context has
    closed, so no context can hold it."""
    gettext.bindtextdomain(CLICK_DOMAIN, str(Path(__file__).with_name("translations")))
    gettext.textdomain(CLICK_DOMAIN)
    # What the standard library's gettext reads.
    os.environ["LANGUAGE"] = language if language in Config.LANGUAGES else "th"


def speak_click_option(ctx: click.Context, param: click.Parameter, language: str | None
                       ) -> str | None:
    """--language's callback: click's own words follow it too."""
    speak_click(language)
    return language


#: The words of ours that click prints: help, the placeholders of values (metavars) and of
#: options and commands in the usage line, and an option's shown default.
SPOKEN = ("help", "metavar", "options_metavar", "subcommand_metavar", "show_default")


@contextmanager
def said_now(*things: click.Command | click.Parameter) -> Iterator[None]:
    """The lazy words of `things` as text in the language chosen now, while click formats
    them: click wants text, and would make it once, before any language is chosen."""
    kept = [(thing, name, value) for thing in things for name in SPOKEN
            if isinstance(value := getattr(thing, name, None), LazyString)]
    for thing, name, value in kept:
        setattr(thing, name, str(value))
    try:
        yield
    finally:
        for thing, name, value in kept:
            setattr(thing, name, value)


class SpokenWords:
    """A command or group whose help, usage line and --help are said in the commands' language,
    Thai unless --language or LEC_CLI_LANGUAGE says otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", _l("[OPTIONS]"))
        super().__init__(*args, **kwargs)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with cli_speaking(ctx), said_now(self, *self.get_params(ctx)):
            super().format_help(ctx, formatter)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Also the usage line above a refusal, which click writes after the context closed."""
        with cli_speaking(ctx), said_now(self, *self.get_params(ctx)):
            super().format_usage(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with said_now(self):
            return super().get_short_help_str(limit)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """click writes the --help option's help once per process, in its first use's
        language: say it again in the language chosen now."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = gettext.gettext(HELP_OPTION_HELP)
        return option


class SpokenCommand(SpokenWords, click.Command):
    """A `lec` command: its words in the commands' language."""


class SpokenOption(click.Option):
    """An option whose help stays a lazy string until it is shown: click makes it text when the
    command is defined, before any language is chosen."""

    def __init__(self, *args: Any, help: Any = None, **kwargs: Any) -> None:  # noqa: A002
        super().__init__(*args, **kwargs)
        self.help = help


class SpokenArgument(click.Argument):
    """An argument whose placeholder in a refusal ("Missing argument 'FILE'") is said in the
    commands' language: click writes the refusal after the command's context has closed."""

    def get_error_hint(self, ctx: click.Context | None) -> str:
        if ctx is None:
            return super().get_error_hint(ctx)
        with cli_speaking(ctx), said_now(self):
            return super().get_error_hint(ctx)


def init_app(app: Flask) -> None:
    """Set up Babel, the template filters for BE dates and counts, and the pages' language."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path) + "/translations")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["be_date"] = be_date
    app.jinja_env.filters["thousands"] = thousands
    app.jinja_env.globals["be_year"] = be_year
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.install_gettext_callables(  # as Flask-Babel's, remembered per request
        gettext=remembered(lambda s: get_translations().ugettext(s)),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n))
    app.after_request(html_lang)
