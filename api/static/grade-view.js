// Showing a grade, most useful first: score and summary, wrong claims with their corrections,
// what to add, then the answer with its evidence highlighted and the key points.

import { $, el } from "./dom.js";

const FLAG_TEXT = {
  empty: "The answer is empty.",
  restates_question: "The answer mostly restates the question.",
  off_topic: "The answer seems to be about something else.",
  injection_suspected: "The answer contains text that looks like instructions to the grader.",
};

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Where an evidence sentence sits in the answer, as [start, end], or null. */
export function locate(answer, sentence) {
  const exact = answer.indexOf(sentence);
  if (exact >= 0) return [exact, exact + sentence.length];
  // The grader joins short pieces with one space and drops list bullets, so match loosely.
  const words = sentence.trim().split(/\s+/).filter(Boolean).map(escapeRegExp);
  if (!words.length) return null;
  const pattern = new RegExp(words.join("\\s+(?:(?:[-*\\u2022]|\\d+[.)])\\s*)?"));
  const match = pattern.exec(answer);
  return match ? [match.index, match.index + match[0].length] : null;
}

function annotate(answer, result) {
  const spans = new Map();
  const add = (sentence, kind, label, text) => {
    if (!sentence) return;
    const where = locate(answer, sentence);
    if (!where) return;
    const key = where.join(":");
    if (!spans.has(key)) {
      spans.set(key, { start: where[0], end: where[1], kinds: new Set(), labels: [], notes: [] });
    }
    const span = spans.get(key);
    span.kinds.add(kind);
    span.labels.push({ text: label, kind });
    span.notes.push(text);
  };
  result.criteria.forEach((criterion, index) => {
    if (criterion.status === "missed") return;
    const kind = criterion.status === "contradicted" ? "wrong" : criterion.status;
    add(criterion.evidence, kind, String(index + 1), `key point ${index + 1} ${criterion.status}`);
  });
  result.misconceptions.forEach((wrong, index) => {
    add(wrong.evidence, "wrong", `✗${index + 1}`, `wrong claim ${index + 1}`);
  });
  const ordered = [...spans.values()].sort((a, b) => a.start - b.start || b.end - a.end);
  const box = $("annotated");
  box.replaceChildren();
  if (!answer.trim()) {
    box.append(el("p", { className: "hint" }, "(empty answer)"));
    return;
  }
  let cursor = 0;
  for (const span of ordered) {
    if (span.start < cursor) continue; // overlaps an earlier highlight
    box.append(answer.slice(cursor, span.start));
    const kind = span.kinds.has("wrong") ? "wrong" : span.kinds.has("met") ? "met" : "partial";
    const mark = el("mark", { className: `mark-${kind}`, title: span.notes.join("; ") },
      answer.slice(span.start, span.end));
    const labels = el("sup", { className: "labels" });
    span.labels.forEach(({ text, kind: labelKind }, index) => {
      if (index) labels.append(",");
      labels.append(el("span", { className: `label-${labelKind}` }, text));
    });
    box.append(mark, labels,
      el("span", { className: "visually-hidden" }, ` (${span.notes.join("; ")})`));
    cursor = span.end;
  }
  box.append(answer.slice(cursor));
}

export function renderResult(result, answer) {
  const section = $("result");
  section.hidden = false;
  section.dataset.verdict = result.verdict;
  const score = Math.round(result.score);
  $("score").textContent = String(score);
  $("score").dataset.digits = String(String(score).length);  // "100" gets a smaller size
  $("score").className = `score verdict-${result.verdict}`;
  $("score").setAttribute("aria-label", `Score ${score} out of 100`);
  $("verdict").textContent = result.verdict;
  $("verdict").className = `verdict pill verdict-${result.verdict}`;
  $("summary").textContent = result.feedback.summary;
  const notes = (result.flags || []).map((flag) => FLAG_TEXT[flag] || flag);
  if (result.needs_review) notes.push("This grade is uncertain; a person should review it.");
  $("flags").textContent = notes.join(" ");
  $("flags").hidden = notes.length === 0;

  annotate(answer, result);

  const list = $("criteria");
  list.replaceChildren();
  const quoted = new Map(); // evidence sentence -> number of the first point that quoted it
  result.criteria.forEach((criterion, index) => {
    const item = el("li", { className: `criterion status-${criterion.status}` },
      el("span", { className: `pill status-pill status-${criterion.status}` },
        criterion.status),
      " ",
      el("span", { className: "criterion-text" }, criterion.description));
    if (criterion.evidence && criterion.status !== "missed") {
      if (quoted.has(criterion.evidence)) {
        item.append(el("span", { className: "evidence" },
          `Shown by the same sentence as point ${quoted.get(criterion.evidence)}.`));
      } else {
        quoted.set(criterion.evidence, index + 1);
        item.append(el("q", { className: "evidence" }, criterion.evidence));
      }
    }
    if (criterion.reason) item.append(el("p", { className: "reason" }, criterion.reason));
    list.append(item);
  });

  const wrong = $("misconceptions");
  wrong.replaceChildren();
  result.misconceptions.forEach((item, index) => {
    wrong.append(el("li", { className: "misconception" },
      el("p", {}, el("strong", {}, `✗${index + 1} You said: `), el("q", { className: "evidence" }, item.evidence)),
      el("p", {}, el("strong", {}, "The wrong idea: "), item.claim),
      el("p", { className: "correction" }, el("strong", {}, "Correction: "), item.why_wrong)));
  });
  $("misconceptions-block").hidden = result.misconceptions.length === 0;

  // Each thing once: what is right shows under "Key points" (met, with the sentence that made
  // it), and the corrections under "Wrong claims"; here only what to add, hints first.
  const feedback = $("feedback");
  const missing = result.feedback.missing || [];
  feedback.replaceChildren(el("ul", { className: "missing" },
    ...missing.map((text) => el("li", {}, text))));
  $("feedback-block").hidden = missing.length === 0;

  $("reference").open = false;
  const critic = result.critic || {};
  let criticText = critic.kind === "llm" ? `Graded with the LLM critic${critic.model ? ` (${critic.model})` : ""}.`
    : "Graded with the offline critic.";
  if (critic.fallback_reason) criticText += ` The LLM critic was not used: ${critic.fallback_reason}`;
  $("critic-info").textContent = criticText;
}
