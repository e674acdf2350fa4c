"""The practice page end to end: real Chromium, real ``grader serve``, real embedding model."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from grader import QuestionBank, Rubric
from grader.rubric import AREAS, DIFFICULTIES

if TYPE_CHECKING:
    from tests.page.conftest import PageSession

pytestmark = [pytest.mark.server, pytest.mark.browser]

QUESTION = "adam-optimizer"
#: The list's questions, without its placeholder.
QUESTION_OPTIONS = "#question-select option:not([value=''])"
#: Makes some points only partly and one wrong claim (the rubric's ``no-learning-rate``).
#: Half an answer plus a wrong claim.
WEAK_ANSWER = (
    "Adam keeps a moving average of the gradient, like momentum, so the steps are smoother. "
    "Adam never needs a learning rate."
)
WRONG_SENTENCE = "Adam never needs a learning rate."
#: A fuller answer for the screenshots: points met, points partly made, one wrong claim.
SCREENSHOT_ANSWER = (
    "Adam keeps an exponential moving average of past gradients, like momentum. "
    "It also keeps a moving average of the squared gradients and divides each step by its "
    "square root, so every parameter gets its own step size. "
    "It is a popular default because it converges fast with little tuning. "
    "Adam never needs a learning rate."
)


def open_page(session: PageSession, fragment: str = "") -> Page:
    page = session.page
    page.goto(f"{session.url}/{fragment}")
    page.locator(QUESTION_OPTIONS).first.wait_for(state="attached")
    return page


def choose(page: Page, question_id: str) -> None:
    with page.expect_response(re.compile(rf"/v1/questions/{question_id}$")):
        page.select_option("#question-select", question_id)
    page.wait_for_selector("#answer-form", state="visible")


def grade_with_keyboard(page: Page, answer: str) -> tuple[int, str]:
    page.fill("#answer", answer)
    page.focus("#answer")
    with page.expect_response(re.compile(r"/v1/grade$")) as response:
        page.keyboard.press("Control+Enter")
    assert response.value.status == 200
    page.wait_for_selector("#submit-button:not([disabled])")
    page.wait_for_selector("#result", state="visible")
    score = int(page.text_content("#score") or "-1")
    verdict = page.get_attribute("#result", "data-verdict") or ""
    return score, verdict


def attempts_row(page: Page, question_text: str) -> list[str]:
    row = page.locator(".progress-table tbody tr", has_text=question_text)
    return [cell.strip() for cell in row.locator("th, td").all_inner_texts()]


def test_page_loads_lists_and_filters_questions(page_session: PageSession,
                                                bank: QuestionBank) -> None:
    page = open_page(page_session)
    assert "grader" in page.title()

    listed = page.eval_on_selector_all("#question-select option", "os => os.map(o => o.value)")
    total = httpx.get(f"{page_session.url}/v1/questions", params={"limit": 1}).json()["total"]
    assert len([value for value in listed if value]) == total == len(bank)
    tags = page.eval_on_selector_all("#filter-tag option", "os => os.map(o => o.value)")
    assert set(tags) - {""} == {tag for rubric in bank for tag in rubric.tags}

    advanced = sorted(rubric.id for rubric in bank.filter(difficulty="advanced"))
    assert advanced, "the bank needs an advanced question for this test"
    with page.expect_response(re.compile(r"/v1/questions\?.*difficulty=advanced")):
        page.select_option("#filter-difficulty", "advanced")
    expect(page.locator(QUESTION_OPTIONS)).to_have_count(len(advanced))
    shown = page.eval_on_selector_all("#question-select option", "os => os.map(o => o.value)")
    assert sorted(value for value in shown if value) == advanced

    # Every control has a label; the random button works from the keyboard and puts the
    # cursor in the answer box.
    unlabelled = page.evaluate("[...document.querySelectorAll('select, textarea, input')]"
                               ".filter(e => e.labels.length === 0).map(e => e.id)")
    assert unlabelled == []
    page.focus("#random-button")
    page.keyboard.press("Enter")
    expect(page.locator("#answer")).to_be_focused()
    chosen = page.input_value("#question-select")
    assert chosen in advanced
    assert page.text_content("#question-text") == bank.get(chosen).question
    assert page.locator("#result").is_hidden()


def test_good_and_weak_answers_are_graded_and_explained(page_session: PageSession,
                                                       bank: QuestionBank) -> None:
    rubric = bank.get(QUESTION)
    reference_requests: list[str] = []

    def watch(request: Request) -> None:
        if "include=reference" in request.url:
            reference_requests.append(request.url)

    page = open_page(page_session)
    page.on("request", watch)
    choose(page, QUESTION)
    assert page.text_content("#question-text") == rubric.question
    assert reference_requests == [], "the reference answer was fetched before grading"
    assert page.text_content("#reference-body") == ""

    # the concise model answer leaves out the trade-offs (a calibrated 67, borderline): with
    # them it makes every point
    good = rubric.reference_answers[0] + (
        " It is not always the best choice: well-tuned SGD with momentum often generalises "
        "better on vision tasks, and AdamW decouples weight decay from the adaptive step.")
    good_score, good_verdict = grade_with_keyboard(page, good)
    assert good_verdict == "pass"
    assert "verdict-pass" in (page.get_attribute("#score", "class") or "")
    assert page.locator("#criteria > li").count() == len(rubric.criteria)
    assert page.locator("#annotated mark.mark-met").count() >= 1
    assert page.locator("#misconceptions-block").is_hidden()
    # The reference answer arrives only now, behind a disclosure.
    page.locator("#reference-body .reference-text").first.wait_for(state="attached")
    assert len(reference_requests) == 1
    page.click("#reference summary")
    revealed = page.locator("#reference-body .reference-text").all_inner_texts()
    assert revealed == [answer.strip() for answer in rubric.reference_answers]

    weak_score, weak_verdict = grade_with_keyboard(page, WEAK_ANSWER)
    # Half an answer plus a wrong claim: the points it makes are credited, the rest missed.
    assert weak_verdict in ("fail", "borderline")
    assert good_score - weak_score >= 25, (good_score, weak_score)
    assert f"verdict-{weak_verdict}" in (page.get_attribute("#score", "class") or "")
    assert page.locator("#criteria > li.status-missed").count() >= 1
    # Every point shows one status. (The learned judge calls this answer's momentum point
    # missed, a false miss recorded with its other misses; the page renders what it is given.)
    statuses = page.locator("#criteria > li").evaluate_all(
        "items => items.map(li => [...li.classList].filter(c => c.startsWith('status-')).length)")
    assert statuses == [1] * len(rubric.criteria)
    # The wrong claim is highlighted in the answer and explained with the rubric's correction.
    assert page.locator("#annotated mark.mark-wrong").all_inner_texts() == [WRONG_SENTENCE]
    assert page.locator("#misconceptions-block").is_visible()
    why_wrong = next(m.why_wrong for m in rubric.misconceptions if m.id == "no-learning-rate")
    assert why_wrong in page.inner_text("#misconceptions")
    assert page.locator("#feedback li").count() >= 1
    # Issue 22: each thing is said once (a met point under "Key points" only, a correction
    # under "Wrong claims" only), and the most useful first: what to correct, what to add.
    shown = page.inner_text("#result")
    assert shown.count(why_wrong) == 1 and "You made the point" not in shown
    for met in page.locator("#criteria > li.status-met .criterion-text").all_inner_texts():
        assert shown.count(met) == 1, met
    order = page.eval_on_selector_all("#misconceptions-block, #feedback-block, #annotated, "
                                      "#criteria", "els => els.map(e => e.id)")
    assert order == ["misconceptions-block", "feedback-block", "annotated", "criteria"]

    # Both attempts are kept in the browser, with what was written, and survive a reload.
    assert attempts_row(page, rubric.question)[1:3] == ["2", str(good_score)]
    page.reload()
    page.wait_for_selector(".progress-table")
    assert attempts_row(page, rubric.question)[1:3] == ["2", str(good_score)]
    assert attempts_row(page, rubric.question)[3] == f"{good_score} → {weak_score}"
    page.wait_for_selector("#past-answers .past-answer-text", state="attached")
    assert page.locator("#past-answers .past-answer-text").all_text_contents() == [
        WEAK_ANSWER, good]  # newest first, as typed


def test_screenshots_after_grading_at_desktop_and_phone_width(page_session: PageSession) -> None:
    page = open_page(page_session)
    choose(page, QUESTION)
    grade_with_keyboard(page, SCREENSHOT_ANSWER)
    page.locator("#reference-body .reference-text").first.wait_for(state="attached")
    artifacts = page_session.artifacts
    artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artifacts / "page-desktop.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone screen"
    page.screenshot(path=str(artifacts / "page-phone.png"), full_page=True)


def test_over_long_answer_shows_the_limit(page_session: PageSession) -> None:
    # Chromium itself logs every 4xx response as a console error; this one is expected.
    page_session.log.allow(r"status of 4\d\d .*/v1/grade\)$")
    page = open_page(page_session)
    choose(page, QUESTION)
    page.fill("#answer", "gradient " * (page_session.max_answer_chars // 9 + 1))
    with page.expect_response(re.compile(r"/v1/grade$")) as response:
        page.click("#submit-button")
    assert 400 <= response.value.status < 500
    page.wait_for_selector("#error", state="visible")
    message = page.inner_text("#error")
    assert re.search(r"2,?000", message), message
    assert "GRADER_" not in message  # an operator's setting, not for candidates (issue 22)
    assert page.locator("#result").is_hidden()


def test_unknown_question_and_unreachable_server_show_readable_errors(
        page_session: PageSession) -> None:
    page_session.log.allow(r"status of 404 .*/v1/questions/no-such-question\)$")
    page_session.log.allow(r"net::ERR_CONNECTION_REFUSED .*/v1/grade\)$")
    page = open_page(page_session, "#q=no-such-question")
    page.wait_for_selector("#error", state="visible")
    assert "no-such-question" in page.inner_text("#error")
    # Issue 22: candidate words (no `grader questions`), and no empty question box above them.
    assert "grader questions" not in page.inner_text("#error")
    assert page.locator("#question-text").is_hidden() and page.locator("#answer-form").is_hidden()

    choose(page, QUESTION)
    assert page.locator("#error").is_hidden()
    page.route("**/v1/grade", lambda route: route.abort("connectionrefused"))
    page.fill("#answer", "Adam adapts the step size of every parameter.")
    page.click("#submit-button")
    page.wait_for_selector("#error", state="visible")
    assert "cannot be reached" in page.inner_text("#error")
    assert page.locator("#submit-button").is_enabled()


def test_every_evidence_sentence_of_a_list_answer_is_highlighted(
        page_session: PageSession) -> None:
    # Bullets, numbering and a short line the grader merges into its neighbour: the page must
    # still find each evidence sentence in the text as typed.
    answer = ("Adam, in short:\n"
              "- It keeps a moving average of past gradients, like momentum.\n"
              "-It also keeps a moving average of squared gradients, like RMSprop.\n"
              "1) Both averages are bias-corrected early on.\nFast.\n"
              "2) Adam never needs a learning rate.")
    page = open_page(page_session)
    choose(page, QUESTION)
    page.fill("#answer", answer)
    with page.expect_response(re.compile(r"/v1/grade$")) as response:
        page.click("#submit-button")
    result = response.value.json()
    page.wait_for_selector("#result", state="visible")
    evidence = {c["evidence"] for c in result["criteria"] if c["status"] != "missed"}
    evidence |= {m["evidence"] for m in result["misconceptions"]}
    evidence.discard(None)
    assert len(evidence) >= 2, result
    # Quotes are slices of the answer as typed, line breaks of a merged short line included.
    assert all(sentence in answer for sentence in evidence), evidence
    assert any("\n" in sentence for sentence in evidence), evidence
    marked = page.locator("#annotated mark").all_inner_texts()
    assert len(marked) == len(evidence)
    flat = [" ".join(text.split()) for text in marked]
    for sentence in evidence:
        assert any(sentence.split()[-1] in text for text in flat), (sentence, flat)
    # Apart from the labels, the annotated text is the answer exactly as typed.
    shown = page.eval_on_selector("#annotated", """box => {
        const copy = box.cloneNode(true);
        copy.querySelectorAll("sup, .visually-hidden").forEach(node => node.remove());
        return copy.textContent;
    }""")
    assert shown == answer


def test_progress_links_forget_and_api_key(page_session: PageSession, bank: QuestionBank) -> None:
    rubric = bank.get(QUESTION)
    page = open_page(page_session)
    # Attempts as an earlier visit left them in localStorage.
    stored = {QUESTION: {"question": rubric.question, "attempts": [
        {"at": "2026-01-01T10:00:00Z", "score": 41.2, "verdict": "fail", "words": 30},
        {"at": "2026-01-02T10:00:00Z", "score": 77.8, "verdict": "pass", "words": 80},
    ]}}
    page.evaluate("data => localStorage.setItem('grader.attempts.v1', JSON.stringify(data))",
                  stored)
    page.reload()
    page.wait_for_selector(".progress-table")
    assert attempts_row(page, rubric.question)[1:] == ["2", "78", "41 → 78"]

    # The row links to the question (a #q= deep link).
    with page.expect_response(re.compile(rf"/v1/questions/{QUESTION}$")):
        page.click(f".progress-table a[href='#q={QUESTION}']")
    expect(page.locator("#question-text")).not_to_be_empty()
    assert page.text_content("#question-text") == rubric.question

    # An API key entered on the page goes with every request as a bearer token.
    page.click("#api-key-settings summary")
    page.fill("#api-key", "practice-key")
    with page.expect_request(re.compile(r"/v1/questions\?")) as request:
        page.click("#api-key-form button")
    assert request.value.headers.get("authorization") == "Bearer practice-key"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#clear-history")
    page.wait_for_selector(".progress-table", state="detached")
    assert "No attempts yet" in page.inner_text("#progress")
    assert page.evaluate("localStorage.getItem('grader.attempts.v1')") is None


def list_order(rubrics: list[Rubric]) -> list[str]:
    """Ids in the order the page lists them: by area, then difficulty, then id."""
    return [r.id for r in sorted(rubrics, key=lambda r: (
        AREAS.index(r.area) if r.area else len(AREAS), DIFFICULTIES.index(r.difficulty), r.id))]


def listed_ids(page: Page) -> list[str]:
    values = page.eval_on_selector_all("#question-select option", "os => os.map(o => o.value)")
    return [value for value in values if value]


def wait_for_list(page: Page, count: int) -> None:
    expect(page.locator(QUESTION_OPTIONS)).to_have_count(count)


def store_attempts(page: Page, bank: QuestionBank, question_ids: list[str]) -> None:
    """Attempts as an earlier visit left them in localStorage, then a reload."""
    scores = [82.0, 64.0, 91.0, 45.0, 73.0]
    verdicts = {82.0: "pass", 64.0: "borderline", 91.0: "pass", 45.0: "fail", 73.0: "pass"}
    stored = {question_id: {"question": bank.get(question_id).question, "attempts": [
        {"at": f"2026-01-0{n % 9 + 1}T10:00:00Z", "score": scores[n % len(scores)],
         "verdict": verdicts[scores[n % len(scores)]], "words": 60}]}
        for n, question_id in enumerate(question_ids)}
    page.evaluate("data => localStorage.setItem('grader.attempts.v1', JSON.stringify(data))",
                  stored)
    page.reload()
    page.locator(QUESTION_OPTIONS).first.wait_for(state="attached")


def test_area_filter_and_search_narrow_the_list(page_session: PageSession,
                                               bank: QuestionBank) -> None:
    page = open_page(page_session)
    areas = page.eval_on_selector_all("#filter-area option", "os => os.map(o => o.value)")
    assert areas == ["", *AREAS]
    groups = page.eval_on_selector_all("#question-select optgroup", "gs => gs.map(g => g.label)")
    assert groups == ["Foundations", "Optimisation", "Regularisation", "Normalisation",
                      "Architectures", "Practice", "Scale", "Language models"]
    assert listed_ids(page) == list_order(list(bank))
    assert page.inner_text("#questions-status") == (
        f"{len(bank)} questions match, {len(bank)} not tried yet.")

    # An area narrows the list to that area's questions, fetched with ?area=.
    normalisation = list_order(bank.filter(area="normalisation"))
    with page.expect_response(re.compile(r"/v1/questions\?.*area=normalisation")):
        page.select_option("#filter-area", "normalisation")
    wait_for_list(page, len(normalisation))
    assert listed_ids(page) == normalisation and len(normalisation) < len(bank)

    # Search within the area, then over the whole bank; case does not matter.
    with page.expect_response(re.compile(r"/v1/questions\?.*q=LAYER")):
        page.fill("#filter-search", "LAYER")
    expected = list_order(bank.filter(area="normalisation", search="layer"))
    wait_for_list(page, len(expected))
    assert listed_ids(page) == expected == ["layer-norm-vs-batch-norm"]
    with page.expect_response(re.compile(r"/v1/questions\?(?!.*area=).*q=LAYER")):
        page.select_option("#filter-area", "")
    expected = list_order(bank.filter(search="layer"))
    wait_for_list(page, len(expected))
    assert listed_ids(page) == expected and len(expected) > 1

    with page.expect_response(re.compile(r"/v1/questions\?.*q=kv\+cache")):
        page.fill("#filter-search", "kv cache")
    wait_for_list(page, len(bank.filter(search="kv cache")))
    assert listed_ids(page) == ["attention-cost-and-kv-cache"]
    choose(page, "attention-cost-and-kv-cache")
    assert page.text_content("#question-text") == bank.get("attention-cost-and-kv-cache").question
    assert page.inner_text("#question-meta").startswith("Language models · advanced")

    with page.expect_response(re.compile(r"/v1/questions\?.*q=no\+question")):
        page.fill("#filter-search", "no question says this")
    wait_for_list(page, 0)
    assert page.inner_text("#question-select") == "No question matches these filters"
    assert page.inner_text("#questions-status").startswith("0 questions match.")


def test_next_untried_question_skips_questions_with_attempts(page_session: PageSession,
                                                            bank: QuestionBank) -> None:
    scale = list_order(bank.filter(area="scale"))
    assert len(scale) >= 3, "the test needs three questions in one area"
    untried = scale[1]
    page = open_page(page_session)
    store_attempts(page, bank, [q for q in scale if q != untried])
    with page.expect_response(re.compile(r"/v1/questions\?.*area=scale")):
        page.select_option("#filter-area", "scale")
    wait_for_list(page, len(scale))
    assert page.inner_text("#questions-status") == f"{len(scale)} questions match, 1 not tried yet."
    labels = page.eval_on_selector_all(QUESTION_OPTIONS, "os => os.map(o => o.textContent)")
    assert [label.startswith("✓ ") for label in labels] == [q != untried for q in scale]

    with page.expect_response(re.compile(rf"/v1/questions/{untried}$")):
        page.click("#next-untried-button")
    expect(page.locator("#answer")).to_be_focused()
    assert page.text_content("#question-text") == bank.get(untried).question
    assert page.input_value("#question-select") == untried

    # Grading it leaves nothing untried in the area: the button says so and stays put.
    grade_with_keyboard(page, "Mixed precision keeps fp32 master weights and scales the loss.")
    expect(page.locator("#questions-status")).to_contain_text("0 not tried yet")
    page.click("#next-untried-button")
    assert page.inner_text("#questions-status").startswith("You have tried every question")
    assert page.input_value("#question-select") == untried

    # Over the whole bank it moves on, in list order, to the next question without attempts.
    with page.expect_response(re.compile(r"/v1/questions\?limit=100&offset=0$")):
        page.select_option("#filter-area", "")
    wait_for_list(page, len(bank))
    order = list_order(list(bank))
    after = order[order.index(untried) + 1:] + order[: order.index(untried)]
    expected = next(q for q in after if q not in scale)
    with page.expect_response(re.compile(rf"/v1/questions/{expected}$")):
        page.click("#next-untried-button")
    assert page.input_value("#question-select") == expected


def test_screenshot_of_the_bank(page_session: PageSession, bank: QuestionBank) -> None:
    page = open_page(page_session)
    store_attempts(page, bank, ["adam-optimizer", "backpropagation", "dropout",
                                "batch-normalization", "activation-functions"])
    with page.expect_response(re.compile(r"/v1/questions/[a-z0-9-]+$")):
        page.click("#next-untried-button")
    expect(page.locator("#question-text")).not_to_be_empty()
    chosen = page.input_value("#question-select")
    assert chosen == next(q for q in list_order(list(bank)) if q not in {
        "adam-optimizer", "backpropagation", "dropout", "batch-normalization",
        "activation-functions"})
    page.evaluate("document.activeElement.blur()")
    artifacts = page_session.artifacts
    artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artifacts / "page-bank.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px phone screen"
    page.screenshot(path=str(artifacts / "page-bank-phone.png"), full_page=True)


def test_an_empty_answer_is_refused_before_grading(page_session: PageSession) -> None:
    """Issue 22: an empty answer was sent, graded 0 and saved as an attempt."""
    page = open_page(page_session)
    choose(page, QUESTION)
    graded: list[str] = []
    page.on("request", lambda request: graded.append(request.url)
            if request.url.endswith("/v1/grade") else None)
    for empty in ("", "  \n\t "):
        page.fill("#answer", empty)
        page.click("#submit-button")
        expect(page.locator("#error")).to_contain_text("the answer box is empty")
        page.fill("#answer", empty)
        page.focus("#answer")
        page.keyboard.press("Control+Enter")
    assert graded == [] and page.locator("#result").is_hidden()
    assert page.evaluate("localStorage.getItem('grader.attempts.v1')") is None


def test_on_a_phone_no_ctrl_enter_hint_and_100_fits_its_circle(
        browser: Browser, server_url: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)

        def full_marks(route: Route) -> None:  # a real grade, shown as a perfect one
            response = route.fetch()
            route.fulfill(response=response, json={**response.json(), "score": 100.0})

        page.route(re.compile(r".*/v1/grade$"), full_marks)
        page.goto(f"{server_url}/#q={QUESTION}")
        page.wait_for_selector("#answer-form", state="visible")
        assert page.locator("#answer-help").is_hidden()
        page.fill("#answer", WEAK_ANSWER)
        page.click("#submit-button")
        expect(page.locator("#score")).to_have_text("100")
        # The digits' box, corners included, lies inside the circle with room to spare.
        width, height, diameter = page.eval_on_selector("#score", """score => {
            const range = document.createRange();
            range.selectNodeContents(score);
            const box = range.getBoundingClientRect();
            return [box.width, box.height, score.clientWidth];
        }""")
        assert (width**2 + height**2) ** 0.5 <= 0.8 * diameter, (width, height, diameter)
    finally:
        context.close()
