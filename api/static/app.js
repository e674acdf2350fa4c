// The practice page: choose a question, answer it, see the grade explained.
// Plain JavaScript modules over the /v1 REST API: no build step, no dependencies.

import { ApiError, api, apiKey, fetchQuestions, setApiKey } from "./api.js";
import {
  clearAttempts, renderPastAnswers, renderProgress, saveAttempt, triedIds,
} from "./attempts.js";
import { $, el } from "./dom.js";
import { renderResult } from "./grade-view.js";
import { areaLabel, areasOf, fillQuestionList, nextUntried } from "./question-list.js";

// Typing in the search box asks the server after this pause, not on every key.
const SEARCH_DELAY_MS = 250;

const state = { all: [], shown: [], current: null, drafts: new Map(), busy: false };
// Each filter request gets a number; a reply to an older one is dropped when it arrives late.
let filterRequest = 0;
let searchTimer = null;

// Errors the page words itself (api.js); every other message is the server's, written for
// operators (a setting to raise, a command to run), who have it in the API and the server's log.
const PAGE_ERRORS = new Set(["unavailable", "http_error", "bad_reply"]);
const TRY_AGAIN = "Try again in a moment; if it keeps failing, tell whoever runs this site.";

/** What to tell a candidate about a failed request, in a candidate's words. */
function describeError(error, { answerLength = null } = {}) {
  if (!(error instanceof ApiError)) return `Something went wrong in the page: ${error.message}`;
  if (PAGE_ERRORS.has(error.code)) return error.message;
  const details = error.details || {};
  if (error.status === 401) {
    $("api-key-settings").open = true;
    return 'This server needs an API key. Enter it under "API key" at the bottom of the page.';
  }
  switch (error.code) {
    case "unknown_question":
      return `There is no question "${details.question_id || ""}" here (the link may be old). ` +
        "Pick a question from the list.";
    case "invalid_answer":
      if (typeof details.max_answer_chars === "number") {
        const length = answerLength === null ? "" : ` is ${answerLength.toLocaleString("en")} characters;`;
        return `Your answer${length} the limit is ` +
          `${details.max_answer_chars.toLocaleString("en")} characters. Shorten it, then grade it again.`;
      }
      return "This answer cannot be graded as it is: remove any unusual characters and try again.";
    case "body_too_large":
      return "Your answer is too long to send. Shorten it, then grade it again.";
    case "not_ready":
      return "The grader is still starting. Try again in a few seconds.";
    default:
      return error.status >= 500 ? `The grader could not grade this just now. ${TRY_AGAIN}`
        : `The grader could not take this request. Reload the page. ${TRY_AGAIN}`;
  }
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function setStatus(message) {
  $("questions-status").textContent = message;
}

function fillSelect(select, options, placeholder, keep) {
  const previous = keep ? select.value : "";
  select.replaceChildren(el("option", { value: "" }, placeholder));
  for (const [value, label] of options) select.append(el("option", { value }, label));
  if (previous && options.some(([value]) => value === previous)) select.value = previous;
}

function fillFilters() {
  const tags = [...new Set(state.all.flatMap((q) => q.tags || []))].sort();
  fillSelect($("filter-tag"), tags.map((t) => [t, t]), "Any tag", true);
  const areas = areasOf(state.all);
  fillSelect($("filter-area"), areas.map((a) => [a, areaLabel(a)]), "Any area", true);
}

function fillQuestions() {
  const placeholder = state.shown.length ? "Pick a question…" : "No question matches these filters";
  fillQuestionList($("question-select"), state.shown, triedIds(), placeholder);
  if (state.current && state.shown.some((q) => q.id === state.current.id)) {
    $("question-select").value = state.current.id;
  }
  showCounts();
}

function showCounts() {
  const n = state.shown.length;
  const tried = triedIds();
  const untried = state.shown.filter((q) => !tried.has(q.id)).length;
  setStatus(`${n} question${n === 1 ? " matches" : "s match"}` +
    (n ? `, ${untried} not tried yet.` : ". Change a filter or the search."));
}

function filtersSet() {
  return ["filter-area", "filter-tag", "filter-difficulty", "filter-search"]
    .some((id) => $(id).value.trim() !== "");
}

async function applyFilters() {
  clearTimeout(searchTimer);
  const request = ++filterRequest;
  const filters = {
    area: $("filter-area").value,
    tag: $("filter-tag").value,
    difficulty: $("filter-difficulty").value,
    q: $("filter-search").value.trim(),
  };
  setStatus("Loading questions…");
  try {
    const shown = await fetchQuestions(filters);
    if (request !== filterRequest) return;
    state.shown = shown;
    fillQuestions();
  } catch (error) {
    if (request === filterRequest) setStatus(describeError(error));
  }
}

async function chooseQuestion(id, { focusAnswer = false } = {}) {
  if (!id) return;
  if (state.current) state.drafts.set(state.current.id, $("answer").value);
  showError("");
  let question;
  try {
    question = await api(`v1/questions/${encodeURIComponent(id)}`);
  } catch (error) {
    // The error alone: no empty question box above it.
    $("question-card").hidden = false;
    $("question-text").hidden = true;
    $("question-meta").hidden = true;
    $("answer-form").hidden = true;
    $("result").hidden = true;
    state.current = null;
    showError(describeError(error));
    return;
  }
  state.current = question;
  $("question-text").hidden = false;
  $("question-meta").hidden = false;
  $("answer-form").hidden = false;
  $("question-card").hidden = false;
  $("result").hidden = true;
  $("question-text").textContent = question.question;
  const meta = [];
  if (question.area) meta.push(areaLabel(question.area));
  if (question.difficulty) meta.push(question.difficulty);
  if (question.tags && question.tags.length) meta.push(`tags: ${question.tags.join(", ")}`);
  if (question.criteria) meta.push(`${question.criteria.length} key points to make`);
  $("question-meta").textContent = meta.join(" · ");
  $("answer").value = state.drafts.get(question.id) || "";
  updateCount();
  if ($("question-select").querySelector(`option[value="${CSS.escape(question.id)}"]`)) {
    $("question-select").value = question.id;
  }
  const hash = `#q=${encodeURIComponent(question.id)}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
  showProgress();
  if (focusAnswer) $("answer").focus();
}

function randomQuestion() {
  const pool = state.shown;
  if (!pool.length) {
    setStatus("No question matches these filters, so there is none to pick. Change a filter.");
    return;
  }
  const others = pool.filter((q) => !state.current || q.id !== state.current.id);
  const choices = others.length ? others : pool;
  const pick = choices[Math.floor(Math.random() * choices.length)];
  chooseQuestion(pick.id, { focusAnswer: true });
}

function nextUntriedQuestion() {
  if (!state.shown.length) {
    setStatus("No question matches these filters, so there is none to pick. Change a filter.");
    return;
  }
  const next = nextUntried(state.shown, triedIds(), state.current ? state.current.id : null);
  if (!next) {
    setStatus("You have tried every question that matches these filters. Change a filter, " +
      "or pick one to try again.");
    return;
  }
  chooseQuestion(next.id, { focusAnswer: true });
}

function questionFromHash() {
  const match = /^#q=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : "";
}

function updateCount() {
  const n = $("answer").value.length;
  $("answer-count").textContent = `${n.toLocaleString("en")} character${n === 1 ? "" : "s"}`;
}

async function submitAnswer(event) {
  if (event) event.preventDefault();
  if (state.busy || !state.current) return;
  const question = state.current;
  const answer = $("answer").value;
  if (!answer.trim()) {  // refused here: an empty answer is not an attempt, and not a 0
    $("result").hidden = true;
    showError("Write your answer first: the answer box is empty.");
    $("answer").focus();
    return;
  }
  state.busy = true;
  $("submit-button").disabled = true;
  $("busy").textContent = "Grading…";
  showError("");
  try {
    const result = await api("v1/grade", {
      method: "POST",
      body: { question_id: question.id, answer, critic: "auto" },
    });
    saveAttempt(question, result, answer);
    renderResult(result, answer);
    showProgress();
    fillQuestions();  // the tick and the count of questions not tried yet
    $("result").focus();
    loadReference(question.id);
  } catch (error) {
    $("result").hidden = true;
    showError(describeError(error, { answerLength: answer.length }));
  } finally {
    state.busy = false;
    $("submit-button").disabled = false;
    $("busy").textContent = "";
  }
}

async function loadReference(id) {
  const body = $("reference-body");
  body.replaceChildren(el("p", { className: "hint" }, "Loading the reference answer…"));
  try {
    const question = await api(`v1/questions/${encodeURIComponent(id)}?include=reference`);
    const answers = question.reference_answers || [];
    body.replaceChildren();
    answers.forEach((text, index) => {
      if (answers.length > 1) body.append(el("h4", {}, `Reference ${index + 1}`));
      body.append(el("p", { className: "reference-text" }, text));
    });
    if (!answers.length) body.append(el("p", { className: "hint" }, "This question has no reference answer."));
  } catch (error) {
    body.replaceChildren(el("p", { className: "error-inline" }, describeError(error)));
  }
}

function showProgress() {
  const currentId = state.current ? state.current.id : null;
  const listed = renderProgress($("progress"), currentId);
  renderPastAnswers($("past-answers"), currentId);
  $("clear-history").hidden = listed === 0;
}

function bind() {
  $("filter-area").addEventListener("change", applyFilters);
  $("filter-tag").addEventListener("change", applyFilters);
  $("filter-difficulty").addEventListener("change", applyFilters);
  $("filter-search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(applyFilters, SEARCH_DELAY_MS);
  });
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();  // Enter in the search box searches at once
    applyFilters();
  });
  $("question-select").addEventListener("change", (event) => chooseQuestion(event.target.value));
  $("next-untried-button").addEventListener("click", nextUntriedQuestion);
  $("random-button").addEventListener("click", randomQuestion);
  $("answer-form").addEventListener("submit", submitAnswer);
  $("answer").addEventListener("input", updateCount);
  $("answer").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) submitAnswer(event);
  });
  $("clear-history").addEventListener("click", () => {
    if (!window.confirm("Forget every attempt stored in this browser?")) return;
    clearAttempts();
    showProgress();
    fillQuestions();
  });
  $("api-key").value = apiKey();
  $("api-key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey($("api-key").value.trim());
    $("api-key-status").textContent = "Saved for this browser tab.";
    start();
  });
  window.addEventListener("hashchange", () => {
    const id = questionFromHash();
    if (id && (!state.current || state.current.id !== id)) chooseQuestion(id);
  });
}

async function start() {
  showProgress();
  setStatus("Loading questions…");
  try {
    state.all = await fetchQuestions();
    fillFilters();
    if (filtersSet()) {
      await applyFilters();  // filters kept from before (a new API key, a restored form)
    } else {
      filterRequest += 1;  // a filter reply still on its way is older than this list
      state.shown = state.all;
      fillQuestions();
    }
  } catch (error) {
    fillSelect($("question-select"), [], "Questions could not be loaded", false);
    setStatus(describeError(error));
    return;
  }
  const id = questionFromHash();
  if (id) chooseQuestion(id);
}

bind();
start();
