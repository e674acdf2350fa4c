// The question list: grouped by area, easiest first, tried questions marked, and the next
// question not tried yet. Pure functions over the API's question summaries.

import { el } from "./dom.js";

// The bank's areas in their listed order, as AREAS in grader/rubric.py; others come after.
const AREA_ORDER = ["foundations", "optimisation", "regularisation", "normalisation",
  "architectures", "practice", "scale", "language-models"];
const DIFFICULTY_ORDER = ["basic", "intermediate", "advanced"];

function rank(order, value) {
  const index = order.indexOf(value);
  return index < 0 ? order.length : index;
}

function compareAreas(a, b) {
  return rank(AREA_ORDER, a) - rank(AREA_ORDER, b) || String(a).localeCompare(String(b));
}

/** "language-models" -> "Language models"; no area -> "Other". */
export function areaLabel(area) {
  return area ? area[0].toUpperCase() + area.slice(1).replace(/-/g, " ") : "Other";
}

/** The distinct areas of ``questions``, in the bank's order. */
export function areasOf(questions) {
  return [...new Set(questions.map((q) => q.area).filter(Boolean))].sort(compareAreas);
}

/** ``questions`` in the order the list shows them: by area, then difficulty, then id. */
export function ordered(questions) {
  return [...questions].sort((a, b) => compareAreas(a.area || "~", b.area || "~")
    || rank(DIFFICULTY_ORDER, a.difficulty) - rank(DIFFICULTY_ORDER, b.difficulty)
    || a.id.localeCompare(b.id));
}

/** Fill the list box: a placeholder, then one group per area; tried questions get a tick. */
export function fillQuestionList(select, questions, tried, placeholder) {
  select.replaceChildren(el("option", { value: "", disabled: true }, placeholder));
  let group = null;
  for (const question of ordered(questions)) {
    const label = areaLabel(question.area);
    if (!group || group.label !== label) {
      group = el("optgroup", { label });
      select.append(group);
    }
    const mark = tried.has(question.id) ? "✓ " : "";
    const difficulty = question.difficulty ? ` (${question.difficulty})` : "";
    group.append(el("option", { value: question.id }, `${mark}${question.question}${difficulty}`));
  }
}

/** The first question after ``currentId`` in list order without attempts (wrapping), or null. */
export function nextUntried(questions, tried, currentId) {
  const list = ordered(questions);
  const start = list.findIndex((q) => q.id === currentId) + 1;  // 0 when not in the list
  for (let step = 0; step < list.length; step += 1) {
    const question = list[(start + step) % list.length];
    if (!tried.has(question.id)) return question;
  }
  return null;
}
