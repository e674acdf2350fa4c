// Attempts and their scores, kept in this browser's localStorage, and the progress table.

import { el } from "./dom.js";

const STORE_KEY = "grader.attempts.v1";
const MAX_ATTEMPTS_PER_QUESTION = 50;

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

export function saveAttempt(question, result) {
  const attempts = loadAttempts();
  const entry = attempts[question.id] || { question: question.question, attempts: [] };
  entry.question = question.question;
  entry.attempts.push({
    at: new Date().toISOString(),
    score: result.score,
    verdict: result.verdict,
    words: result.signals ? result.signals.answer_words : null,
  });
  entry.attempts = entry.attempts.slice(-MAX_ATTEMPTS_PER_QUESTION);
  attempts[question.id] = entry;
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(attempts));
  } catch {
    storageWorks = false;
  }
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
