// The /v1 REST API client: one error type, one JSON error shape, pagination followed.

const KEY_STORE_KEY = "grader.apiKey";
const PAGE_SIZE = 100;

export class ApiError extends Error {
  constructor(message, code, status, details) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORE_KEY) || "";
  } catch {
    return "";
  }
}

/** Remember a bearer key for this tab (servers started with GRADER_API_KEYS need one). */
export function setApiKey(key) {
  try {
    sessionStorage.setItem(KEY_STORE_KEY, key);
  } catch {
    // Without sessionStorage the key cannot be remembered; requests go without it.
  }
}

export async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, {
      method: options.method || "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(
      "The grading server cannot be reached. Check that `grader serve` is running, then try again.",
      "unavailable", 0, null);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body && body.error;
    if (error && error.message) {
      throw new ApiError(error.message, error.code, response.status, error.details);
    }
    const what = response.status >= 500
      ? "The grading server is unavailable or failed"
      : "The grading server refused the request";
    throw new ApiError(`${what} (HTTP ${response.status}). Try again in a moment.`,
      "http_error", response.status, null);
  }
  if (body === null) {
    throw new ApiError("The grading server sent a reply that is not JSON. Is this the right address?",
      "bad_reply", response.status, null);
  }
  return body;
}

/** Every question matching the filters, following the API's pages (``next_offset``). */
export async function fetchQuestions(filters = {}) {
  const found = [];
  let offset = 0;
  for (;;) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
    for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
    const page = await api(`v1/questions?${params}`);
    if (!Array.isArray(page.items)) {
      throw new ApiError("The question list from the server has an unexpected shape.",
        "bad_reply", 200, null);
    }
    found.push(...page.items);
    if (typeof page.next_offset !== "number" || page.next_offset <= offset) return found;
    offset = page.next_offset;
  }
}
