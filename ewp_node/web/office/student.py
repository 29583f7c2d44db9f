"""``/office/student/<token>``: the incoming student's page, reached by a signed link, and the survey."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ewp_node.context import NodeContext
from ewp_node.office.student import (
    StudentLinks,
    SurveyInput,
    SurveyRefused,
    console_secret,
    course_catalogue,
    record_survey,
    student_view,
)
from ewp_node.web.office.auth import same_origin


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    links = StudentLinks(console_secret(ctx.settings.home))

    def _view(token: str):  # type: ignore[no-untyped-def]
        found = links.read(token)
        if found is None:
            abort(404)
        with ctx.sessions() as session:
            view = student_view(session, *found, ctx.settings.hei_ids, datetime.now(UTC).date())
        if view is None:
            abort(404)
        return view

    @blueprint.get("/student/<token>")
    def student(token: str) -> str:
        view = _view(token)
        return render_template("office/student.html", view=view, token=token, thanks=request.args.get("thanks"))

    @blueprint.get("/student/<token>/courses")
    def student_courses(token: str) -> str:
        view = _view(token)
        with ctx.sessions() as session:
            courses = course_catalogue(session, view.la.mobility.receiving.hei_id, g.office_lang)
        return render_template("office/student_courses.html", view=view, token=token, courses=courses)

    @blueprint.route("/student/<token>/survey", methods=["GET", "POST"])
    def survey(token: str) -> Response | tuple[str, int] | str:
        view = _view(token)
        if not view.survey_open:
            abort(404)
        form_key = links.form_key(token)
        if request.method == "GET":
            return render_template("office/survey.html", view=view, token=token, form_key=form_key, error=None)
        if not same_origin() or not hmac.compare_digest(request.form.get("form_key", "").encode(), form_key.encode()):
            abort(403)
        try:
            form = request.form
            answer = SurveyInput(overall=int(form.get("overall", 0)), courses=int(form.get("courses", 0)),
                                 support=int(form.get("support", 0)),
                                 recommend=form.get("recommend") == "yes", comment=form.get("comment"))
            mobility = view.la.mobility
            with ctx.sessions.begin() as session:
                record_survey(session, links.mobility_digest(mobility.sending.hei_id, mobility.omobility_id),
                              mobility.sending.hei_id, mobility.receiving_academic_year_id, answer)
        except (ValueError, SurveyRefused) as exc:
            return render_template("office/survey.html", view=view, token=token, form_key=form_key,
                                   error=str(exc)), 400
        return redirect(url_for("office.student", token=token, thanks=1, lang=g.office_lang))
