"""Thai-first language choice and Buddhist-Era dates (SPEC §1: BE years, Thai by default)."""

from datetime import UTC, date, datetime
from typing import Any

from babel import support
from flask import Flask, Response, current_app, has_request_context, request, session
from flask_babel import Babel, format_date, get_locale

from clock import BANGKOK, be_year

babel = Babel()

def select_locale() -> str:
    """Thai unless the user picked English with the language switch."""
    chosen = session.get("lang") if has_request_context() else None
    return chosen if chosen in current_app.config["LANGUAGES"] else "th"


def be_date(value: date | datetime | None) -> str:
    """A date as `21 พ.ย. 2569` (or `21 Nov 2569` in English); datetimes in Bangkok time.

    A naive datetime is UTC: SQLite hands stored timestamps back without their zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(BANGKOK)
        return f"{format_date(value.date(), 'd MMM')} {be_year(value.year)} {value:%H:%M}"
    return f"{format_date(value, 'd MMM')} {be_year(value.year)}"


class WTFormsTranslations:
    """WTForms' own messages ('This field is required.') from our Thai `wtforms` catalog."""

    def _catalog(self) -> Any:
        if not request:
            return support.NullTranslations()
        cached = getattr(request, "lec_wtforms_translations", None)
        if cached is None:
            folder = current_app.extensions["babel"].translation_directories[0]
            cached = support.Translations.load(folder, [get_locale()], domain="wtforms")
            request.lec_wtforms_translations = cached
        return cached

    def gettext(self, string: str) -> str:
        return self._catalog().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog().ungettext(singular, plural, n)


wtforms_translations = WTFormsTranslations()


def html_lang(response: Response) -> Response:
    """Flask-Admin's base template writes a bare `<html>`: name the page's language."""
    if (response.mimetype == "text/html" and not response.is_streamed
            and not response.direct_passthrough):
        head = response.get_data(as_text=True)[:200]
        if "<html>" in head:
            text = response.get_data(as_text=True)
            response.set_data(text.replace("<html>", f'<html lang="{get_locale()}">', 1))
    return response


def init_app(app: Flask) -> None:
    """Set up Babel, the template filters for BE dates and the pages' language."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path) + "/translations")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["be_date"] = be_date
    app.jinja_env.globals["be_year"] = be_year
    app.jinja_env.globals["get_locale"] = get_locale
    app.after_request(html_lang)
