// Exact money for the page: amounts travel as decimal text ("10.05") and are held as whole cents in
// integers; nothing here multiplies or rounds a floating-point number.

export const MAX_CENTS = 100000000; // 1,000,000.00, the most one transaction may move

// parseAmount reads what a person typed ("10", "10.5", "1,000.05") as {text, cents} or {error}.
export function parseAmount(input) {
  const s = String(input).trim().replace(/[\s,]/g, "");
  if (s === "") return { error: "Enter an amount." };
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) {
    return /^\d*\.\d{3,}$/.test(s) ? { error: "Use at most two decimals (cents)." } : { error: "Enter an amount like 10.50." };
  }
  const whole = m[1].replace(/^0+(?=\d)/, "");
  if (whole.length > 7) return { error: "The most one transaction can move is 1,000,000.00." };
  const cents = Number(whole) * 100 + Number((m[2] || "").padEnd(2, "0")); // integers: exact
  if (cents <= 0) return { error: "The amount must be more than 0." };
  if (cents > MAX_CENTS) return { error: "The most one transaction can move is 1,000,000.00." };
  return { text: centsText(cents), cents };
}

// amountOf turns the API's exact decimal text ("15.05", "-3", "0.1") into whole cents.
export function amountOf(text) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(text));
  if (!m) throw new Error(`not an amount: ${text}`);
  const cents = Number(m[2]) * 100 + Number((m[3] || "").padEnd(2, "0"));
  return m[1] ? -cents : cents;
}

// centsText is the plain decimal text of cents: 1505 → "15.05".
export function centsText(cents) {
  const sign = cents < 0 ? "-" : "";
  const a = Math.abs(cents);
  return `${sign}${Math.trunc(a / 100)}.${String(a % 100).padStart(2, "0")}`;
}

// formatCents shows cents for reading: 123456 → "1,234.56".
export function formatCents(cents) {
  const sign = cents < 0 ? "−" : "";
  const a = Math.abs(cents);
  const whole = String(Math.trunc(a / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${whole}.${String(a % 100).padStart(2, "0")}`;
}
