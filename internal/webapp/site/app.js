// The Mint web wallet. It talks only to the API of the origin that served it; the session is the
// HttpOnly cookie the API sets, which this script never sees. Amounts are decimal strings and whole
// cents (integers) throughout: no amount is ever held in a floating-point number.

import { parseAmount, amountOf, formatCents } from "./money.js";

const $ = (id) => document.getElementById(id);
const PAGE = 20;
// SIGNED_IN remembers, in this browser, that a session cookie may be there, so that a first visit
// shows the sign-in form without asking the API (and logging its 401). It holds no credential.
const SIGNED_IN = "mint.signedIn";

const state = {
  user: null,
  stream: null,
  streamRetry: 0,
  txOffset: 0,
  txTotal: 0,
  txItems: new Map(), // id → transaction shown in the list
  historyOffset: 0,
  recipient: null, // {id, name}
  watch: new Map(), // transaction id → the form that sent it, to report its outcome there
  ended: new Map(), // transaction id → its terminal state, for an answer that comes after the stream's news
  latest: new Map(), // transaction id → the latest state the stream told, newer than a list read meanwhile
  txSeq: 0,
  walletRetry: null,
};

// ---- HTTP ------------------------------------------------------------------------------------

class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `The server answered ${status}.`);
    this.status = status;
    this.code = body && body.code;
    this.fields = (body && body.errors) || [];
    this.retryAfter = 0;
  }
}

// api calls the API; a JSON answer is parsed with every amount kept as its exact decimal text.
async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new Problem(0, { detail: "Mint cannot be reached. Check your connection and try again." });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text, keepAmounts);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const p = new Problem(res.status, data);
    p.retryAfter = Number(res.headers.get("Retry-After")) || 0;
    if (res.status === 401 && state.user && !path.startsWith("/api/v1/auth/")) signedOut("Your session has ended. Please sign in again.");
    throw p;
  }
  return data;
}

// keepAmounts is a JSON reviver: amount fields become their decimal text ("10.05"), read from the
// source where the browser offers it, else from the number's shortest round-trip form, which for a
// value of at most 15 significant digits is the text it was parsed from.
function keepAmounts(key, value, context) {
  if ((key === "amount" || key === "balance" || key === "balanceAfter") && typeof value === "number") {
    return context && typeof context.source === "string" ? context.source : String(value);
  }
  return value;
}

// ---- Forms and errors ------------------------------------------------------------------------

function formParts(form) {
  return { alert: form.querySelector(".alert"), status: form.querySelector(".status"), button: form.querySelector("button[type=submit]") };
}

function clearErrors(form) {
  for (const p of form.querySelectorAll(".error")) { p.hidden = true; p.textContent = ""; }
  for (const i of form.querySelectorAll("[aria-invalid]")) { i.removeAttribute("aria-invalid"); i.removeAttribute("aria-errormessage"); }
  const { alert } = formParts(form);
  if (alert) { alert.hidden = true; alert.textContent = ""; }
}

// fieldError shows message under the field named name (body.<name> in a problem) of form.
function fieldError(form, name, message) {
  const prefix = form.id.replace(/-form$/, "");
  const p = $(`${prefix}-${name}-error`);
  if (!p) return false;
  p.textContent = message;
  p.hidden = false;
  const input = $(`${prefix}-${name}`) || (name === "recipientId" ? $("send-search") : null);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-errormessage", p.id);
  }
  return true;
}

function formAlert(form, message) {
  const { alert } = formParts(form);
  alert.textContent = message;
  alert.hidden = false;
}

// showProblem puts each of a problem's field errors next to its field and the rest in the form's alert.
function showProblem(form, err) {
  if (err.code === "email_taken" && fieldError(form, "email", problemWords.email_taken)) {
    $(`${form.id.replace(/-form$/, "")}-email`).focus();
    return;
  }
  let placed = 0;
  for (const f of err.fields || []) {
    const name = String(f.field || "").replace(/^(body|query|header)\./, "");
    if (fieldError(form, name, capitalize(f.message))) placed++;
  }
  if (placed === 0 || placed < (err.fields || []).length) formAlert(form, plainProblem(err));
  const first = form.querySelector("[aria-invalid=true]");
  if (first) first.focus();
}

const problemWords = {
  email_taken: "An account with this email already exists. Sign in instead?",
  invalid_credentials: "The email or the password is wrong.",
  recipient_not_found: "We could not find that person. Pick someone from the search results.",
  self_transfer: "You cannot send money to yourself.",
  rate_limited: "Too many attempts. Please wait a moment and try again.",
  unavailable: "Mint is briefly unavailable. Please try again in a moment.",
  idempotency_in_progress: "This payment is still being processed.",
};

function plainProblem(err) {
  let msg = problemWords[err.code] || err.message;
  if (err.code === "rate_limited" && err.retryAfter) msg = `Too many attempts. Please try again in ${err.retryAfter} s.`;
  return msg;
}

const reasonWords = {
  insufficient_funds: "there is not enough money in your wallet",
  wallet_not_found: "the wallet does not exist yet",
};

function reasonText(reason) {
  return reasonWords[reason] || `it could not be completed (${reason || "unknown reason"})`;
}

function capitalize(s) {
  s = String(s || "");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

async function submitting(form, work) {
  clearErrors(form);
  const { button, status } = formParts(form);
  if (status) { status.textContent = ""; status.className = "status"; }
  button.disabled = true;
  try {
    await work();
  } catch (err) {
    if (err instanceof Problem) showProblem(form, err);
    else formAlert(form, "Something went wrong in this page. Reload it and try again.");
  } finally {
    button.disabled = false;
  }
}

// ---- Views -----------------------------------------------------------------------------------

const views = ["signin", "signup", "dashboard", "history", "profile"];

function show(view) {
  $("loading").hidden = true;
  for (const v of views) $(`view-${v}`).hidden = v !== view;
  $("nav").hidden = !state.user;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = { signin: "Sign in", signup: "Create account", dashboard: "Wallet", history: "Statement", profile: "Profile" }[view] + " · Mint";
}

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  if (!state.user) {
    show(hash === "signup" ? "signup" : "signin");
    return;
  }
  if (hash === "history") { show("history"); loadHistory(); return; }
  if (hash === "profile") { show("profile"); fillProfile(); return; }
  if (hash !== "") { location.hash = "#/"; return; }
  show("dashboard");
}

// signedIn shows the wallet of user; a wallet opened by this very signup is read a moment later,
// since it is opened by an event the wallet service receives just after.
async function signedIn(user, { newAccount = false } = {}) {
  localStorage.setItem(SIGNED_IN, "1");
  state.user = user;
  state.txOffset = 0;
  state.historyOffset = 0;
  $("greeting").textContent = `${user.firstName}’s balance`;
  route();
  openStream();
  if (newAccount) {
    $("wallet-note").textContent = "Your wallet is being opened…";
    $("wallet-note").hidden = false;
    state.walletRetry = setTimeout(loadWallet, 400);
    await loadTransactions();
    return;
  }
  await Promise.all([loadWallet(), loadTransactions()]);
}

function signedOut(message) {
  localStorage.removeItem(SIGNED_IN);
  closeStream();
  clearTimeout(state.walletRetry);
  Object.assign(state, { user: null, recipient: null, txItems: new Map(), watch: new Map(), ended: new Map(), latest: new Map() });
  for (const f of document.querySelectorAll("form")) { f.reset(); clearErrors(f); }
  for (const s of document.querySelectorAll(".status")) s.textContent = "";
  $("tx-list").replaceChildren();
  $("history-rows").replaceChildren();
  $("send-results").replaceChildren();
  $("send-picked").textContent = "";
  $("balance").textContent = "–";
  if (location.hash !== "#/signin") history.replaceState(null, "", "#/signin");
  show("signin");
  if (message) formAlert($("signin-form"), message);
  $("signin-email").focus();
}

// ---- Wallet ----------------------------------------------------------------------------------

async function loadWallet(attempt = 0) {
  clearTimeout(state.walletRetry);
  const note = $("wallet-note");
  try {
    const w = await api("GET", "/api/v1/wallet/user");
    const cents = amountOf(w.balance);
    $("balance").textContent = formatCents(cents);
    $("balance").dataset.cents = String(cents);
    $("currency").textContent = w.currency;
    note.hidden = true;
  } catch (err) {
    if (!(err instanceof Problem) || !state.user) return;
    if (err.status === 404 && attempt < 8) {
      // A new account's wallet is opened by an event a moment after signup.
      note.textContent = "Your wallet is being opened…";
      note.hidden = false;
      state.walletRetry = setTimeout(() => loadWallet(attempt + 1), 250 * 2 ** Math.min(attempt, 4));
      return;
    }
    note.textContent = err.status === 404 ? "Your wallet is not open yet. Reload the page in a minute." : plainProblem(err);
    note.hidden = false;
  }
}

// ---- Transactions ----------------------------------------------------------------------------

function txFilters() {
  const q = new URLSearchParams({ limit: String(PAGE), offset: String(state.txOffset) });
  for (const name of ["type", "direction", "status"]) {
    const v = $(`tx-${name}`).value;
    if (v) q.set(name, v);
  }
  return q;
}

const stage = { pending: 0, processing: 1, completed: 2, failed: 2 };

// newest returns whichever of a listed transaction and the stream's latest word on it is further on.
function newest(listed) {
  const told = state.latest.get(listed.id);
  return told && stage[told.status] > stage[listed.status] ? told : listed;
}

async function loadTransactions() {
  const alert = $("tx-alert");
  const seq = ++state.txSeq;
  try {
    const page = await api("GET", `/api/v1/transactions?${txFilters()}`);
    if (seq !== state.txSeq) return; // a later read is on its way
    alert.hidden = true;
    state.txTotal = page.total;
    state.txItems = new Map(page.transactions.map((t) => [t.id, newest(t)]));
    renderTransactions();
  } catch (err) {
    if (!(err instanceof Problem) || !state.user) return;
    alert.textContent = plainProblem(err);
    alert.hidden = false;
  }
}

function renderTransactions() {
  const list = $("tx-list");
  list.replaceChildren(...[...state.txItems.values()].map(txRow));
  $("tx-empty").hidden = state.txItems.size > 0;
  showPager("tx", state.txOffset, state.txItems.size, state.txTotal);
}

// showPager shows which of total a page starting at offset holds, and which way it can turn.
function showPager(prefix, offset, shown, total) {
  $(`${prefix}-range`).textContent = `${total === 0 ? 0 : offset + 1}–${offset + shown} of ${total}`;
  $(`${prefix}-prev`).disabled = offset === 0;
  $(`${prefix}-next`).disabled = offset + PAGE >= total;
}

function txRow(t) {
  const li = document.createElement("li");
  li.dataset.id = t.id;
  li.dataset.status = t.status;
  const incoming = t.type === "transfer" && t.recipientId === state.user.id;
  const cents = amountOf(t.amount);
  const what = t.type === "topup" ? "Top-up" : incoming ? "Received" : "Sent";
  li.append(
    el("span", "what", t.description ? `${what} · ${t.description}` : what),
    el("span", "amt" + (incoming || t.type === "topup" ? " in" : ""), `${incoming || t.type === "topup" ? "+" : "−"}${formatCents(cents)} ${t.currency}`),
    el("span", "when", new Date(t.createdAt).toLocaleString()),
  );
  const st = el("span", "st");
  st.append(el("span", `badge ${t.status}`, t.status));
  li.append(st);
  if (t.status === "failed") li.append(el("span", "reason", `Failed: ${reasonText(t.failureReason)}.`));
  return li;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function matchesFilters(t) {
  const type = $("tx-type").value, status = $("tx-status").value, direction = $("tx-direction").value;
  if (type && t.type !== type) return false;
  if (status && t.status !== status) return false;
  const sent = t.userId === state.user.id;
  if (direction === "sent" && !sent) return false;
  if (direction === "received" && (t.type !== "transfer" || t.recipientId !== state.user.id)) return false;
  return true;
}

// soon runs fn once a burst of calls has passed: many changes heard together cost one read.
const scheduled = new Map();
function soon(fn) {
  if (scheduled.has(fn)) return;
  scheduled.set(fn, setTimeout(() => { scheduled.delete(fn); fn(); }, 150));
}

// onChange applies one transaction's new state from the stream: its row, the balance when it is
// terminal, and the outcome in the form that sent it.
function onChange(t) {
  state.latest.set(t.id, t);
  if (state.latest.size > 200) state.latest.delete(state.latest.keys().next().value);
  if (state.txItems.has(t.id)) {
    if (matchesFilters(t)) state.txItems.set(t.id, t);
    else state.txItems.delete(t.id);
    renderTransactions();
  } else if (state.txOffset === 0 && matchesFilters(t)) {
    soon(loadTransactions); // a new one on the first page: the page's order and total come from the server
  }
  if (t.status === "completed" || t.status === "failed") {
    soon(loadWallet);
    if (!$("view-history").hidden) soon(loadHistory);
    const sent = state.watch.get(t.id);
    if (sent) {
      state.watch.delete(t.id);
      reportOutcome(sent, t);
    } else {
      state.ended.set(t.id, t);
      if (state.ended.size > 50) state.ended.delete(state.ended.keys().next().value);
    }
  }
}

function reportOutcome({ form, recipient }, t) {
  const { status } = formParts(form);
  const amount = `${formatCents(amountOf(t.amount))} ${t.currency}`;
  if (t.status === "completed") {
    status.className = "status ok";
    status.textContent = t.type === "topup" ? `Your top-up of ${amount} is complete.` : `${amount} sent to ${recipient || "your recipient"}.`;
  } else {
    status.className = "status failed";
    status.textContent = `${t.type === "topup" ? "Your top-up" : "Your payment"} of ${amount} failed: ${reasonText(t.failureReason)}.`;
  }
}

// ---- The status stream -----------------------------------------------------------------------

function openStream() {
  closeStream();
  const es = new EventSource("/api/v1/transactions/stream");
  state.stream = es;
  es.addEventListener("open", () => {
    if (state.streamRetry > 0) { loadTransactions(); loadWallet(); } // changes while away are not replayed
    state.streamRetry = 0;
  });
  es.addEventListener("transaction", (e) => {
    try {
      onChange(JSON.parse(e.data, keepAmounts));
    } catch {
      /* a malformed event changes nothing shown */
    }
  });
  es.addEventListener("error", () => {
    if (es.readyState !== EventSource.CLOSED || state.stream !== es || !state.user) return;
    // The server refused or ended the stream for good (too many open, signed out): try again later.
    state.streamRetry++;
    const wait = Math.min(30000, 1000 * 2 ** Math.min(state.streamRetry, 5));
    setTimeout(() => { if (state.user && state.stream === es) openStream(); }, wait);
  });
}

function closeStream() {
  if (state.stream) state.stream.close();
  state.stream = null;
}

// ---- History ---------------------------------------------------------------------------------

const entryWords = { opening: "Wallet opened", topup: "Top-up", transfer_out: "Sent", transfer_in: "Received", reversal: "Returned (payment failed)" };

async function loadHistory() {
  const alert = $("history-alert");
  try {
    const page = await api("GET", `/api/v1/wallet/history?limit=${PAGE}&offset=${state.historyOffset}`);
    alert.hidden = true;
    const rows = page.entries.map((e) => {
      const tr = document.createElement("tr");
      const cents = amountOf(e.amount);
      tr.append(
        el("td", "", new Date(e.at).toLocaleString()),
        el("td", "", entryWords[e.type] || capitalize(e.type)),
        el("td", "num" + (cents > 0 ? " in" : ""), `${cents > 0 ? "+" : cents < 0 ? "−" : ""}${formatCents(Math.abs(cents))}`),
        el("td", "num", formatCents(amountOf(e.balanceAfter))),
      );
      return tr;
    });
    $("history-rows").replaceChildren(...rows);
    $("history-empty").hidden = rows.length > 0;
    showPager("history", state.historyOffset, rows.length, page.total);
  } catch (err) {
    if (!(err instanceof Problem) || !state.user) return;
    alert.textContent = plainProblem(err);
    alert.hidden = false;
  }
}

// ---- Profile ---------------------------------------------------------------------------------

function fillProfile() {
  const u = state.user;
  $("profile-email").value = u.email;
  $("profile-firstName").value = u.firstName;
  $("profile-middleName").value = u.middleName || "";
  $("profile-lastName").value = u.lastName;
}

// ---- Recipient search ------------------------------------------------------------------------

let searchTimer = null;
let searchSeq = 0;

function onSearchInput() {
  const q = $("send-search").value.trim();
  state.recipient = null;
  $("send-picked").textContent = "";
  clearTimeout(searchTimer);
  if ([...q].length < 2) { $("send-results").hidden = true; return; }
  searchTimer = setTimeout(() => search(q), 250);
}

// search looks people up by name or email. The API matches one name or an email prefix, so for a
// full name ("Ben Brook") it asks for the longest word and keeps those whose whole name holds q.
async function search(q) {
  const seq = ++searchSeq;
  const results = $("send-results");
  const words = q.split(/\s+/);
  const term = words.reduce((a, b) => ([...b].length > [...a].length ? b : a));
  const whole = q.toLocaleLowerCase().replace(/\s+/g, " ");
  try {
    const res = await api("GET", `/api/v1/users/search?q=${encodeURIComponent(term)}`);
    if (seq !== searchSeq) return;
    const people = res.users.filter((u) => u.id !== state.user.id && (words.length === 1 ||
      [u.firstName, u.middleName, u.lastName].filter(Boolean).join(" ").toLocaleLowerCase().includes(whole)));
    if (people.length === 0) {
      results.replaceChildren(el("li", "none", "Nobody matches."));
    } else {
      results.replaceChildren(...people.map((u) => {
        const li = document.createElement("li");
        const b = el("button", "", `${u.firstName} ${u.lastName}${u.email ? ` — ${u.email}` : ""}`);
        b.type = "button";
        b.addEventListener("click", () => pick(u));
        li.append(b);
        return li;
      }));
    }
    results.hidden = false;
  } catch (err) {
    if (seq !== searchSeq || !(err instanceof Problem)) return;
    results.replaceChildren(el("li", "none", plainProblem(err)));
    results.hidden = false;
  }
}

function pick(u) {
  state.recipient = { id: u.id, name: `${u.firstName} ${u.lastName}` };
  $("send-search").value = state.recipient.name;
  $("send-picked").textContent = `Sending to ${state.recipient.name}${u.email ? ` (${u.email})` : ""}.`;
  $("send-results").hidden = true;
  const err = $("send-recipientId-error");
  err.hidden = true;
  $("send-search").removeAttribute("aria-invalid");
  $("send-amount").focus();
}

// ---- Money forms -----------------------------------------------------------------------------

// amountField reads a form's amount, showing what is wrong with it next to the field.
function amountField(form, id) {
  const parsed = parseAmount($(id).value);
  if (parsed.error) {
    fieldError(form, "amount", parsed.error);
    $(id).focus();
    return null;
  }
  return parsed.text;
}

async function sendMoney(form, path, body, key, describe) {
  const status = formParts(form).status;
  const t = await api("POST", path, body, { "Idempotency-Key": key });
  status.className = "status";
  status.textContent = `${describe} — processing…`;
  form.dataset.key = "";
  const sent = { form, recipient: state.recipient && state.recipient.name };
  const ended = state.ended.get(t.id) || (t.status === "completed" || t.status === "failed" ? t : null);
  if (ended) reportOutcome(sent, ended); // the stream told of its end before the POST was answered
  else state.watch.set(t.id, sent);
}

// Each form keeps its Idempotency-Key until the server has answered, so a retry after a lost
// answer cannot pay twice; a new entry gets a new key.
function keyFor(form) {
  if (!form.dataset.key) form.dataset.key = crypto.randomUUID();
  return form.dataset.key;
}

function wire() {
  window.addEventListener("hashchange", route);

  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    submitting(form, async () => {
      const user = await api("POST", "/api/v1/auth/login", { email: $("signin-email").value.trim(), password: $("signin-password").value });
      form.reset();
      history.replaceState(null, "", "#/");
      await signedIn(user);
    });
  });

  $("signup-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    submitting(form, async () => {
      if ([...$("signup-password").value].length < 8) {
        fieldError(form, "password", "Use at least 8 characters.");
        $("signup-password").focus();
        return;
      }
      if ($("signup-password").value !== $("signup-passwordConfirm").value) {
        fieldError(form, "passwordConfirm", "The two passwords differ.");
        return;
      }
      const body = {};
      for (const name of ["firstName", "lastName", "email", "password", "passwordConfirm"]) body[name] = $(`signup-${name}`).value;
      body.email = body.email.trim();
      const user = await api("POST", "/api/v1/auth/signup", body);
      form.reset();
      history.replaceState(null, "", "#/");
      await signedIn(user, { newAccount: true });
    });
  });

  $("logout").addEventListener("click", async () => {
    closeStream();
    try {
      await api("POST", "/api/v1/auth/logout");
    } catch {
      /* the session is gone from this page either way */
    }
    signedOut();
  });

  $("topup-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    submitting(form, async () => {
      const amount = amountField(form, "topup-amount");
      if (!amount) return;
      const body = { amount };
      const description = $("topup-description").value.trim();
      if (description) body.description = description;
      await sendMoney(form, "/api/v1/transactions/topup", body, keyFor(form), `Top-up of ${formatCents(amountOf(amount))}`);
      form.reset();
    });
  });
  for (const id of ["topup-amount", "topup-description"]) $(id).addEventListener("input", () => { $("topup-form").dataset.key = ""; });

  $("send-search").addEventListener("input", onSearchInput);
  $("send-search").addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      const first = $("send-results").querySelector("button");
      if (first) { e.preventDefault(); first.focus(); }
    }
  });
  $("send-results").addEventListener("keydown", (e) => {
    const buttons = [...$("send-results").querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === "ArrowDown" && i < buttons.length - 1) { e.preventDefault(); buttons[i + 1].focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? buttons[i - 1] : $("send-search")).focus(); }
    if (e.key === "Escape") { $("send-results").hidden = true; $("send-search").focus(); }
  });

  $("send-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    submitting(form, async () => {
      if (!state.recipient) {
        fieldError(form, "recipientId", "Search for the person and pick them from the list.");
        $("send-search").focus();
        return;
      }
      const amount = amountField(form, "send-amount");
      if (!amount) return;
      const body = { recipientId: state.recipient.id, amount };
      const description = $("send-description").value.trim();
      if (description) body.description = description;
      await sendMoney(form, "/api/v1/transactions/transfer", body, keyFor(form), `${formatCents(amountOf(amount))} to ${state.recipient.name}`);
      $("send-amount").value = "";
      $("send-description").value = "";
    });
  });
  for (const id of ["send-search", "send-amount", "send-description"]) $(id).addEventListener("input", () => { $("send-form").dataset.key = ""; });

  $("tx-filters").addEventListener("change", () => { state.txOffset = 0; loadTransactions(); });
  $("tx-filters").addEventListener("submit", (e) => e.preventDefault());
  $("tx-prev").addEventListener("click", () => { state.txOffset = Math.max(0, state.txOffset - PAGE); loadTransactions(); });
  $("tx-next").addEventListener("click", () => { state.txOffset += PAGE; loadTransactions(); });
  $("history-prev").addEventListener("click", () => { state.historyOffset = Math.max(0, state.historyOffset - PAGE); loadHistory(); });
  $("history-next").addEventListener("click", () => { state.historyOffset += PAGE; loadHistory(); });

  $("profile-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    submitting(form, async () => {
      const body = {};
      for (const name of ["firstName", "middleName", "lastName"]) body[name] = $(`profile-${name}`).value.trim();
      state.user = await api("PATCH", "/api/v1/users/me", body);
      $("greeting").textContent = `${state.user.firstName}’s balance`;
      fillProfile();
      const { status } = formParts(form);
      status.className = "status ok";
      status.textContent = "Saved.";
    });
  });
}

async function start() {
  wire();
  if (!localStorage.getItem(SIGNED_IN)) {
    route();
    return;
  }
  try {
    const user = await api("GET", "/api/v1/auth/user");
    await signedIn(user);
  } catch {
    state.user = null;
    route();
  }
}

start();
