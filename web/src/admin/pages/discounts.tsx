// Discount codes (admin): the list with their uses, a new code, a code's terms changed (at the version read) and
// its deactivation.
import { useState } from "preact/hooks";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Button, Field, Loading, Notice, Page, Problem, Select, money, useAction, useAsync, when } from "../../ui/ui";
import { Facts, count, fromMinor, toMinor, usePaged, invalid } from "../kit";

type Discount = Schemas["DiscountAnswer"];

const terms = (d: Discount) => (d.percentOff ? `${d.percentOff}% off` : d.amountOff ? `${money(d.amountOff)} off` : "");

/** An ISO time → the value of a datetime-local input (the visitor's time), and back. */
function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocalInput(v: string): string | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function DiscountsPage() {
  const query = (cursor?: string) => ({ limit: 50, ...(cursor ? { cursor } : {}) });
  const list = useAsync(() => unwrap(api().GET("/admin/discounts", { params: { query: query() } })), []);
  const paged = usePaged(list.data, (cursor) => unwrap(api().GET("/admin/discounts", { params: { query: query(cursor) } })));
  return (
    <Page title="Discount codes">
      <div class="columns">
        <section aria-labelledby="codes-h">
          <h2 id="codes-h">Codes</h2>
          <Problem error={list.error} />
          {list.loading && !list.data ? <Loading what="Loading discount codes" /> : null}
          {list.data ? (
            paged.items.length ? (
              <>
                <p role="status">{count(paged.items.length, "code")} shown.</p>
                <div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Code</th>
                        <th scope="col">Terms</th>
                        <th scope="col">Active</th>
                        <th scope="col" class="num">
                          Used
                        </th>
                        <th scope="col">Until</th>
                      </tr>
                    </thead>
                    <tbody>
                      {paged.items.map((d) => (
                        <tr key={d.code}>
                          <td>
                            <a class="mono" href={href(`/discounts/${encodeURIComponent(d.code)}`)}>
                              {d.code}
                            </a>
                          </td>
                          <td>{terms(d)}</td>
                          <td>{d.active ? "yes" : "no"}</td>
                          <td class="num">
                            {d.used}
                            {d.usageLimit ? ` of ${d.usageLimit}` : ""}
                          </td>
                          <td>{d.validUntil ? when(d.validUntil) : "no end"}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                {paged.button}
              </>
            ) : (
              <p>No discount codes yet.</p>
            )
          ) : null}
        </section>
        <section aria-labelledby="new-code-h">
          <h2 id="new-code-h">New code</h2>
          <DiscountForm discount={null} onSaved={(d) => navigate(`/discounts/${encodeURIComponent(d.code)}`, { saved: "created" })} />
        </section>
      </div>
    </Page>
  );
}

export function DiscountPage({ route }: { route: Route }) {
  const code = route.parts[1] ?? "";
  const saved = route.query.get("saved");
  const discount = useAsync(() => unwrap(api().GET("/admin/discounts/{code}", { params: { path: { code } } })), [code]);
  const d = discount.data;
  const deactivate = useAction(async () => {
    await unwrap(api().DELETE("/admin/discounts/{code}", { params: { path: { code } } }));
    navigate(`/discounts/${encodeURIComponent(code)}`, { saved: "deactivated" }, true);
    discount.reload();
  });
  return (
    <Page title={`Discount code ${code.toUpperCase()}`}>
      <p>
        <a href={href("/discounts")}>All discount codes</a>
      </p>
      <Problem error={discount.error} />
      {discount.loading && !d ? <Loading what="Loading the code" /> : null}
      {saved === "created" ? <Notice kind="success">Code created.</Notice> : null}
      {saved === "saved" ? <Notice kind="success">Changes saved.</Notice> : null}
      {saved === "deactivated" ? <Notice kind="success">Code deactivated: checkouts refuse it from now on.</Notice> : null}
      {d ? (
        <>
          <Facts
            items={[
              ["Terms", terms(d)],
              ["Active", d.active ? "yes" : "no"],
              ["Used", String(d.used)],
              ["Uses left", d.remaining === null ? "no limit" : String(d.remaining)],
              ["Minimum subtotal", d.minSubtotal ? money(d.minSubtotal) : ""],
              ["Valid from", d.validFrom ? when(d.validFrom) : "no start"],
              ["Valid until", d.validUntil ? when(d.validUntil) : "no end"],
              ["Changed", when(d.updatedAt)],
            ]}
          />
          <h2>Change</h2>
          <DiscountForm
            key={d.version}
            discount={d}
            onReload={discount.reload}
            onSaved={() => {
              navigate(`/discounts/${encodeURIComponent(code)}`, { saved: "saved" }, true);
              discount.reload();
            }}
          />
          {d.active ? (
            <section aria-labelledby="deactivate-h">
              <h2 id="deactivate-h">Deactivate</h2>
              <Problem error={deactivate.error} />
              <Button kind="danger" type="button" busy={deactivate.busy} onClick={() => void deactivate.run()}>
                Deactivate code
              </Button>
            </section>
          ) : null}
        </>
      ) : null}
    </Page>
  );
}

function DiscountForm({ discount, onSaved, onReload }: { discount: Discount | null; onSaved: (d: Discount) => void; onReload?: () => void }) {
  const [code, setCode] = useState(discount?.code ?? "");
  const [kind, setKind] = useState(discount?.amountOff ? "amount" : "percent");
  const [percent, setPercent] = useState(discount?.percentOff ? String(discount.percentOff) : "10");
  const [amount, setAmount] = useState(discount?.amountOff ? fromMinor(discount.amountOff) : "");
  const [currency] = useState(discount?.amountOff?.currency ?? discount?.minSubtotal?.currency ?? "GBP");
  const [minSubtotal, setMinSubtotal] = useState(discount?.minSubtotal ? fromMinor(discount.minSubtotal) : "");
  const [validFrom, setValidFrom] = useState(toLocalInput(discount?.validFrom ?? null));
  const [validUntil, setValidUntil] = useState(toLocalInput(discount?.validUntil ?? null));
  const [usageLimit, setUsageLimit] = useState(discount?.usageLimit ? String(discount.usageLimit) : "");
  const [active, setActive] = useState(discount ? (discount.active ? "yes" : "no") : "yes");
  const save = useAction(async () => {
    let percentOff: number | null = null;
    let amountOff: { amount: number; currency: string } | null = null;
    if (kind === "percent") {
      percentOff = Number(percent);
      if (!Number.isInteger(percentOff) || percentOff < 1 || percentOff > 100) throw invalid("The percentage is a whole number from 1 to 100.");
    } else {
      const a = toMinor(amount, currency);
      if (!a) throw invalid(`The amount off is an amount in ${currency}, like 5.00.`);
      amountOff = { amount: a, currency };
    }
    let min: { amount: number; currency: string } | null = null;
    if (minSubtotal.trim()) {
      const m = toMinor(minSubtotal, currency);
      if (m === null) throw invalid(`The minimum subtotal is an amount in ${currency}, like 30.00.`);
      min = { amount: m, currency };
    }
    const limit = usageLimit.trim() ? Number(usageLimit) : null;
    if (limit !== null && (!Number.isInteger(limit) || limit < 1)) throw invalid("The usage limit is a whole number, 1 or more (or empty).");
    const body = {
      percentOff,
      amountOff,
      validFrom: fromLocalInput(validFrom),
      validUntil: fromLocalInput(validUntil),
      usageLimit: limit,
      minSubtotal: min,
      active: active === "yes",
    };
    const d = discount
      ? await unwrap(
          api().PUT("/admin/discounts/{code}", {
            params: { path: { code: discount.code } },
            body: { ...body, code: discount.code, version: discount.version, used: null, remaining: null, createdAt: null, updatedAt: null },
          }),
        )
      : await unwrap(api().POST("/admin/discounts", { body: { ...body, code: code.trim() } }));
    onSaved(d);
  });
  const stale = save.error instanceof ApiError && save.error.status === 409 && discount;
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <Problem error={save.error} />
      {stale && onReload ? (
        <Notice kind="warning">
          Someone changed this code since you opened it.{" "}
          <button class="linklike" type="button" onClick={onReload}>
            Load the current terms
          </button>{" "}
          and make your change again.
        </Notice>
      ) : null}
      {discount ? null : (
        <Field
          label="Code"
          required
          minLength={3}
          maxLength={32}
          pattern="[A-Za-z0-9][A-Za-z0-9_\-]{2,31}"
          hint="3 to 32 letters, digits, '_' or '-'; kept in capitals."
          value={code}
          onValue={setCode}
          autocomplete="off"
        />
      )}
      <Select
        label="Discount"
        value={kind}
        onValue={setKind}
        options={[
          { value: "percent", label: "A percentage off" },
          { value: "amount", label: "An amount off" },
        ]}
      />
      {kind === "percent" ? (
        <Field label="Percent off" type="number" min={1} max={100} step={1} required value={percent} onValue={setPercent} />
      ) : (
        <Field label={`Amount off (${currency})`} inputMode="decimal" required value={amount} onValue={setAmount} />
      )}
      <Field label={`Minimum subtotal (${currency}, optional)`} inputMode="decimal" value={minSubtotal} onValue={setMinSubtotal} />
      <Field label="Valid from (optional)" type="datetime-local" value={validFrom} onValue={setValidFrom} />
      <Field label="Valid until (optional)" type="datetime-local" value={validUntil} onValue={setValidUntil} />
      <Field label="Usage limit (optional)" type="number" min={1} step={1} value={usageLimit} onValue={setUsageLimit} hint="Orders that may use it; empty: no limit." />
      <Select
        label="Active"
        value={active}
        onValue={setActive}
        options={[
          { value: "yes", label: "Yes: checkouts accept it" },
          { value: "no", label: "No" },
        ]}
      />
      <Button type="submit" busy={save.busy}>
        {discount ? "Save changes" : "Create code"}
      </Button>
    </form>
  );
}
