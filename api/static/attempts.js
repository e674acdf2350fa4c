// Attempts, their scores and the answers written, kept in this browser's localStorage; the
// progress table, and the earlier answers to the current question.

import { el } from "./dom.js";

const STORE_KEY = "grader.attempts.v1";
const MAX_ATTEMPTS_PER_QUESTION = 50;
// The text of only the latest answers to each question is kept: localStorage holds about five
// million characters per site, and an answer may hold twenty thousand.
const MAX_ANSWERS_KEPT_PER_QUESTION = 10;

let storageWorks = true;

function loadAttempts() {
  try {
    const parsed = JSON.parse(localStorage.getItem(STORE_KEY) || "{}");
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
  } catch {
    storageWorks = false;
    return {};
  }
}

export function saveAttempt(question, result, answer) {
  const attempts = loadAttempts();
  const entry = attempts[question.id] || { question: question.question, attempts: [] };
  entry.question = question.question;
  entry.attempts.push({
    at: new Date().toISOString(),
    score: result.score,
    verdict: result.verdict,
    words: result.signals ? result.signals.answer_words : null,
    answer,
  });
  entry.attempts = entry.attempts.slice(-MAX_ATTEMPTS_PER_QUESTION);
  entry.attempts.slice(0, -MAX_ANSWERS_KEPT_PER_QUESTION).forEach((a) => delete a.answer);
  attempts[question.id] = entry;
  store(attempts);
}

/** Save, dropping the oldest answer texts (never the scores) while the browser says it is full. */
function store(attempts) {
  for (;;) {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(attempts));
      return;
    } catch {
      const oldest = Object.values(attempts).flatMap((entry) => entry.attempts)
        .filter((a) => typeof a.answer === "string")
        .sort((a, b) => (a.at || "").localeCompare(b.at || ""))[0];
      if (!oldest) {
        storageWorks = false;
        return;
      }
      delete oldest.answer;
    }
  }
}

/** Fill ``box`` with the answers kept for question ``currentId``, newest first. */
export function renderPastAnswers(box, currentId) {
  box.replaceChildren();
  const entry = currentId ? loadAttempts()[currentId] : null;
  const kept = entry && Array.isArray(entry.attempts)
    ? entry.attempts.map((attempt, index) => ({ attempt, number: index + 1 }))
      .filter(({ attempt }) => typeof attempt.answer === "string").reverse() : [];
  if (!kept.length) return;
  const list = el("ul", { className: "past-answers" });
  for (const { attempt, number } of kept) {
    const when = new Date(attempt.at);
    const day = Number.isNaN(when.getTime()) ? "" : when.toLocaleString("en", {
      dateStyle: "medium", timeStyle: "short" });
    list.append(el("li", {},
      el("details", {},
        el("summary", {}, `Attempt ${number} `,
          el("span", { className: `pill verdict-${attempt.verdict}` },
            String(Math.round(attempt.score))), day ? ` ${day}` : ""),
        el("p", { className: "past-answer-text" }, attempt.answer))));
  }
  box.append(el("h3", {}, "Your answers to this question"), list);
}

/** The ids of every question with at least one attempt stored in this browser. */
export function triedIds() {
  const attempts = loadAttempts();
  return new Set(Object.keys(attempts).filter(
    (id) => attempts[id] && Array.isArray(attempts[id].attempts) && attempts[id].attempts.length));
}

export function clearAttempts() {
  try {
    localStorage.removeItem(STORE_KEY);
  } catch {
    storageWorks = false;
  }
}

/** Fill ``box`` with a table of every question tried; returns how many questions it lists. */
export function renderProgress(box, currentId) {
  box.replaceChildren();
  const attempts = loadAttempts();
  const ids = Object.keys(attempts).filter((id) => attempts[id].attempts && attempts[id].attempts.length);
  if (!storageWorks) {
    box.append(el("p", { className: "hint" },
      "This browser does not let the page store attempts, so progress is not kept."));
    return 0;
  }
  if (ids.length === 0) {
    box.append(el("p", { className: "hint" }, "No attempts yet. Grade an answer to start."));
    return 0;
  }
  const table = el("table", { className: "progress-table" });
  table.append(el("caption", { className: "visually-hidden" }, "Scores per question"));
  const head = el("tr");
  for (const title of ["Question", "Attempts", "Best", "Scores, oldest first"]) {
    head.append(el("th", { scope: "col" }, title));
  }
  table.append(el("thead", {}, head));
  const body = el("tbody");
  ids.sort((a, b) => lastAt(attempts[b]).localeCompare(lastAt(attempts[a])));
  for (const id of ids) {
    const entry = attempts[id];
    const scores = entry.attempts.map((a) => Math.round(a.score));
    const best = entry.attempts.reduce((x, y) => (y.score > x.score ? y : x));
    const row = el("tr", { className: id === currentId ? "current" : "" });
    const link = el("a", { href: `#q=${encodeURIComponent(id)}` }, entry.question || id);
    row.append(
      el("th", { scope: "row" }, link),
      el("td", { className: "num" }, String(entry.attempts.length)),
      el("td", { className: "num" }, el("span", { className: `pill verdict-${best.verdict}` },
        String(Math.round(best.score)))),
      el("td", { className: "trend" }, scores.slice(-8).join(" → ")),
    );
    body.append(row);
  }
  table.append(body);
  box.append(table);
  return ids.length;
}

function lastAt(entry) {
  return entry.attempts[entry.attempts.length - 1].at || "";
}
