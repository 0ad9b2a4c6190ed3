// Pieces the console's pages share: labels for the API's codes, money typed as text, a "more" button for paged
// lists, a list of facts, and the console's few extra styles.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError, type Schemas } from "../api/client";
import { navigate } from "../router";
import { Button, Field, useSession, type Money } from "../ui/ui";
import { MoreButton, usePages, type Page } from "../ui/paging";
import "./admin.css";

export type Segment = Schemas["CampaignIn"]["segment"];
export const SEGMENTS: { value: Segment; label: string }[] = [
  { value: "champions", label: "Champions" },
  { value: "loyal", label: "Loyal" },
  { value: "potential-loyalists", label: "Potential loyalists" },
  { value: "new", label: "New" },
  { value: "at-risk", label: "At risk" },
  { value: "cant-lose", label: "Can't lose" },
  { value: "hibernating", label: "Hibernating" },
  { value: "lost", label: "Lost" },
];
export const segmentLabel = (s: string | null | undefined) => SEGMENTS.find((x) => x.value === s)?.label ?? s ?? "";

export type OrderStatus = Schemas["OrderSummary"]["status"];
export const ORDER_STATUSES: OrderStatus[] = ["PENDING", "CONFIRMED", "AWAITING_PAYMENT", "PAID", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"];

export { CARRIERS, carrierLabel, type Carrier } from "../ui/words";

export const CANCEL_REASONS: Record<string, string> = {
  out_of_stock: "out of stock",
  payment_failed: "the payment failed",
  customer_request: "the customer asked",
  admin_request: "staff cancelled it",
};

/** How many decimals a currency's minor unit has (GBP 2, JPY 0). */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** "19.99" in GBP → 1999; null when the text is not an amount. */
export function toMinor(text: string, currency: string): number | null {
  const t = text.trim().replace(/,/g, "");
  const digits = minorDigits(currency);
  const re = digits ? new RegExp(`^\\d+(\\.\\d{1,${digits}})?$`) : /^\d+$/;
  if (!re.test(t)) return null;
  const [whole = "0", frac = ""] = t.split(".");
  return Number(whole) * 10 ** digits + Number((frac + "0".repeat(digits)).slice(0, digits) || "0");
}

/** 1999 GBP → "19.99" (for an input's value). */
export function fromMinor(m: Money): string {
  const digits = minorDigits(m.currency);
  return digits ? (m.amount / 10 ** digits).toFixed(digits) : String(m.amount);
}

/** A form's own refusal, shown by <Problem> like the API's: "Please check the form" and what to change. */
export const invalid = (detail: string) => new ApiError({ title: "Please check the form", status: 400, detail });

/** A new idempotency key for one attempt of a request. */
export const useIsAdmin = () => useSession().hasRole("admin");

/** Facts as a definition list: [["Status", <Status/>], ...]; empty values are left out. */
export function Facts({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {items
        .filter(([, v]) => v !== null && v !== undefined && v !== "")
        .map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

/** A paged list: the first page from ``first``, more on "Show more" (``more(cursor)``). */
export function usePaged<T>(first: Page<T> | undefined, more: (cursor: string) => Promise<Page<T>>) {
  const pages = usePages(first, more);
  const button = pages.next ? (
    <div class="more">
      <MoreButton pages={pages} label="Show more" />
    </div>
  ) : null;
  return { items: pages.items, button };
}

/** "3 orders" / "1 order". */
export const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const fullDate = (iso: string) => {
  const d = new Date(`${iso}T00:00:00`);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { dateStyle: "medium" });
};

/** Today (or ``days`` from today) as YYYY-MM-DD in the visitor's time zone. */
export function isoDay(days = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** A small search form that opens one record's page by its id (an order, a customer, a SKU, a campaign). */
export function OpenById({ label, path, button, name, initial = "" }: { label: string; path: string; button: string; name: string; initial?: string }) {
  const [value, setValue] = useState(initial);
  return (
    <form
      class="filters"
      role="search"
      aria-label={name}
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) navigate(`${path}/${encodeURIComponent(value.trim())}`);
      }}
    >
      <Field label={label} value={value} onValue={setValue} required autocomplete="off" />
      <Button type="submit" kind="secondary">
        {button}
      </Button>
    </form>
  );
}
