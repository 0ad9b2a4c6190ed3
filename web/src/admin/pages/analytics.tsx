// Analytics (admin): sales over time (a chart and its table), the top products, and the revenue and orders
// forecast with its interval. Every chart has its numbers in a table beside it.
import { useState } from "preact/hooks";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { href } from "../../router";
import { Button, Field, Loading, Notice, Page, Price, Problem, Select, money, useAsync, when } from "../../ui/ui";
import { ForecastChart, SeriesChart, type Point } from "../charts";
import { Facts, fullDate, isoDay } from "../kit";

type Sales = Schemas["SalesAnswer"];
type Bucket = Schemas["Bucket"];
type Granularity = Sales["granularity"];

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-11-27" → "27 Nov", "2026-W48" → "W48", "2026-11" → "Nov 26". */
function shortPeriod(p: string): string {
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(p);
  if (m) return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]}`;
  m = /^\d{4}-(W\d{2})$/.exec(p);
  if (m) return m[1]!;
  m = /^(\d{2})(\d{2})-(\d{2})$/.exec(p);
  if (m) return `${MONTHS[Number(m[3]) - 1]} ${m[2]}`;
  return p;
}

function longPeriod(p: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(p)) return fullDate(p);
  const w = /^(\d{4})-W(\d{2})$/.exec(p);
  if (w) return `Week ${Number(w[2])} of ${w[1]}`;
  const m = /^(\d{4})-(\d{2})$/.exec(p);
  if (m) return `${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
  return p;
}

/** An axis label: £12, £1.5K, £2.3M (whole units while small; pence only where the ticks need them). */
const compactMoney = (currency: string) => (minor: number) => {
  const units = minor / 100;
  if (Math.abs(units) < 1000)
    return new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: Number.isInteger(units) ? 0 : 2 }).format(units);
  return new Intl.NumberFormat(undefined, { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 }).format(units);
};
const plainNumber = (v: number) => new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 }).format(v);

type Metric = "revenue" | "orders" | "units" | "averageOrderValue" | "refunds";
const METRICS: { value: Metric; label: string; money: boolean }[] = [
  { value: "revenue", label: "Revenue", money: true },
  { value: "orders", label: "Orders", money: false },
  { value: "units", label: "Units sold", money: false },
  { value: "averageOrderValue", label: "Average order value", money: true },
  { value: "refunds", label: "Refunds", money: true },
];

function metricValue(b: Bucket, m: Metric): number {
  const v = b[m];
  return typeof v === "number" ? v : v.amount;
}

export function AnalyticsPage() {
  return (
    <Page title="Analytics">
      <p>
        Jump to: <a href="#sales-h" onClick={jump}>Sales</a>, <a href="#top-h" onClick={jump}>Top products</a>,{" "}
        <a href="#forecast-h" onClick={jump}>Forecast</a>
      </p>
      <SalesSection />
      <TopProductsSection />
      <ForecastSection />
    </Page>
  );
}

/** In-page links: the hash is the route, so move focus to the heading instead of changing it. */
function jump(e: MouseEvent) {
  e.preventDefault();
  const id = (e.currentTarget as HTMLAnchorElement).getAttribute("href")!.slice(1);
  const el = document.getElementById(id);
  el?.scrollIntoView();
  el?.focus();
}

function SalesSection() {
  const [from, setFrom] = useState(isoDay(-29));
  const [to, setTo] = useState(isoDay(0));
  const [granularity, setGranularity] = useState<Granularity>("day");
  const [by, setBy] = useState("");
  const [metric, setMetric] = useState<Metric>("revenue");
  const [asked, setAsked] = useState({ from, to, granularity, by });
  const sales = useAsync(
    () =>
      unwrap(
        api().GET("/admin/analytics/sales", {
          params: { query: { from: asked.from, to: asked.to, granularity: asked.granularity, ...(asked.by ? { by: asked.by } : {}) } },
        }),
      ),
    [asked],
  );
  const s = sales.data;
  const m = METRICS.find((x) => x.value === metric)!;
  const fmt = m.money ? compactMoney(s?.currency ?? "GBP") : plainNumber;
  const full = (v: number) => (m.money ? money({ amount: v, currency: s?.currency ?? "GBP" }) : plainNumber(v));
  const points: Point[] = (s?.buckets ?? []).map((b) => ({ label: b.period, value: metricValue(b, metric) }));
  const best = points.reduce<Point | null>((a, p) => (!a || p.value > a.value ? p : a), null);
  const total = points.reduce((a, p) => a + p.value, 0);
  return (
    <section aria-labelledby="sales-h">
      <h2 id="sales-h" tabIndex={-1}>
        Sales over time
      </h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked({ from, to, granularity, by });
        }}
      >
        <Field label="From" type="date" required value={from} onValue={setFrom} />
        <Field label="To" type="date" required value={to} onValue={setTo} />
        <Select
          label="Per"
          value={granularity}
          onValue={(v) => setGranularity(v as Granularity)}
          options={[
            { value: "day", label: "Day" },
            { value: "week", label: "Week" },
            { value: "month", label: "Month" },
          ]}
        />
        <Select
          label="Break down by"
          value={by}
          onValue={setBy}
          options={[
            { value: "", label: "Nothing" },
            { value: "category", label: "Category" },
            { value: "country", label: "Country" },
          ]}
        />
        <Button type="submit" busy={sales.loading}>
          Show
        </Button>
      </form>
      <Problem error={sales.error} />
      {sales.loading && !s ? <Loading what="Loading sales" /> : null}
      {s ? (
        <>
          <Facts
            items={[
              ["Revenue", <Price value={s.totals.revenue} />],
              ["Orders", String(s.totals.orders)],
              ["Average order", <Price value={s.totals.averageOrderValue} />],
              ["Units", String(s.totals.units)],
              ["Refunds", `${money(s.totals.refunds)} (${s.totals.refundCount})`],
              ["Carts started", String(s.totals.cartsStarted)],
              ["Orders placed", String(s.totals.ordersPlaced)],
              ["Conversion", s.totals.conversionRate === null ? "no carts" : `${(s.totals.conversionRate * 100).toFixed(1)}%`],
            ]}
          />
          <div class="filters">
            <Select label="Chart" value={metric} onValue={(v) => setMetric(v as Metric)} options={METRICS.map(({ value, label }) => ({ value, label }))} />
          </div>
          <SeriesChart
            points={points}
            kind={points.length > 60 ? "line" : "bar"}
            format={fmt}
            short={shortPeriod}
            label={`${m.label} per ${s.granularity}, ${fullDate(s.from)} to ${fullDate(s.to)}: ${points.length} periods, ${
              metric === "averageOrderValue" ? "" : `${full(total)} in all, `
            }highest ${best ? `${full(best.value)} in ${longPeriod(best.label)}` : "none"}. The table below has every value.`}
          />
          <details class="numbers" open>
            <summary>The numbers, per {s.granularity}</summary>
            <div class="table-wrap" tabIndex={0} role="region" aria-label={`Sales per ${s.granularity}`}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Period</th>
                    <th scope="col" class="num">
                      Revenue
                    </th>
                    <th scope="col" class="num">
                      Orders
                    </th>
                    <th scope="col" class="num">
                      Average order
                    </th>
                    <th scope="col" class="num">
                      Units
                    </th>
                    <th scope="col" class="num">
                      Refunds
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {s.buckets.map((b) => (
                    <tr key={b.period}>
                      <th scope="row">{longPeriod(b.period)}</th>
                      <td class="num">{money(b.revenue)}</td>
                      <td class="num">{b.orders}</td>
                      <td class="num">{money(b.averageOrderValue)}</td>
                      <td class="num">{b.units}</td>
                      <td class="num">
                        {money(b.refunds)}
                        {b.refundCount ? ` (${b.refundCount})` : ""}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
          {s.breakdown ? (
            <>
              <h3>By {asked.by}</h3>
              <div class="table-wrap" tabIndex={0} role="region" aria-label={`Sales by ${asked.by}`}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{asked.by === "country" ? "Country" : "Category"}</th>
                      <th scope="col" class="num">
                        Revenue
                      </th>
                      <th scope="col" class="num">
                        Orders
                      </th>
                      <th scope="col" class="num">
                        Units
                      </th>
                      <th scope="col" class="num">
                        Refunds
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.breakdown.map((r) => (
                      <tr key={r.key}>
                        <th scope="row">{r.key}</th>
                        <td class="num">{money(r.revenue)}</td>
                        <td class="num">{r.orders}</td>
                        <td class="num">{r.units}</td>
                        <td class="num">{money(r.refunds)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function TopProductsSection() {
  const [from, setFrom] = useState(isoDay(-29));
  const [to, setTo] = useState(isoDay(0));
  const [by, setBy] = useState("revenue");
  const [limit, setLimit] = useState("10");
  const [asked, setAsked] = useState({ from, to, by, limit });
  const top = useAsync(() => unwrap(api().GET("/admin/analytics/top-products", { params: { query: asked } })), [asked]);
  const t = top.data;
  return (
    <section aria-labelledby="top-h">
      <h2 id="top-h" tabIndex={-1}>
        Top products
      </h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked({ from, to, by, limit });
        }}
      >
        <Field label="From" type="date" required value={from} onValue={setFrom} />
        <Field label="To" type="date" required value={to} onValue={setTo} />
        <Select
          label="Ranked by"
          value={by}
          onValue={setBy}
          options={[
            { value: "revenue", label: "Revenue" },
            { value: "units", label: "Units sold" },
          ]}
        />
        <Field label="How many" type="number" min={1} max={100} step={1} required value={limit} onValue={setLimit} />
        <Button type="submit" busy={top.loading}>
          Show
        </Button>
      </form>
      <Problem error={top.error} />
      {top.loading && !t ? <Loading what="Loading top products" /> : null}
      {t ? (
        t.items.length ? (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">
                Top products by {t.by}, {fullDate(t.from)} to {fullDate(t.to)}
              </caption>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    Rank
                  </th>
                  <th scope="col">Product</th>
                  <th scope="col">SKU</th>
                  <th scope="col" class="num">
                    Revenue
                  </th>
                  <th scope="col" class="num">
                    Units
                  </th>
                  <th scope="col" class="num">
                    Orders
                  </th>
                </tr>
              </thead>
              <tbody>
                {t.items.map((p, i) => (
                  <tr key={p.productId}>
                    <td class="num">{i + 1}</td>
                    <td>
                      <a href={href(`/catalog/${encodeURIComponent(p.productId)}`)}>{p.title}</a>
                    </td>
                    <td class="mono">{p.sku}</td>
                    <td class="num">{money(p.revenue)}</td>
                    <td class="num">{p.units}</td>
                    <td class="num">{p.orders}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>No sales in this range.</p>
        )
      ) : null}
    </section>
  );
}

function ForecastSection() {
  const [days, setDays] = useState("14");
  const [level, setLevel] = useState("0.9");
  const [series, setSeries] = useState<"revenue" | "orders">("revenue");
  const [asked, setAsked] = useState({ days, level });
  const forecast = useAsync(() => unwrap(api().GET("/admin/analytics/forecast", { params: { query: asked } })), [asked]);
  // the last four weeks of actual sales, to draw the forecast after
  const history = useAsync(
    () =>
      unwrap(api().GET("/admin/analytics/sales", { params: { query: { from: isoDay(-28), to: isoDay(-1), granularity: "day" } } })).catch(
        () => null,
      ),
    [],
  );
  const f = forecast.data;
  const notEnough = forecast.error instanceof ApiError && (forecast.error.code === "not-enough-history" || forecast.error.status === 422);
  const currency = f?.revenue.points[0]?.mean.currency ?? "GBP";
  const isMoney = series === "revenue";
  const fmt = isMoney ? compactMoney(currency) : plainNumber;
  const full = (v: number) => (isMoney ? money({ amount: Math.round(v), currency }) : plainNumber(v));
  const band = f
    ? isMoney
      ? f.revenue.points.map((p) => ({ label: p.date, mean: p.mean.amount, lower: p.lower.amount, upper: p.upper.amount }))
      : f.orders.points.map((p) => ({ label: p.date, mean: p.mean, lower: p.lower, upper: p.upper }))
    : [];
  const past: Point[] = (history.data?.buckets ?? []).map((b) => ({ label: b.period, value: isMoney ? b.revenue.amount : b.orders }));
  const pct = f ? Math.round(f.level * 100) : 0;
  const sum = band.reduce((a, p) => a + p.mean, 0);
  return (
    <section aria-labelledby="forecast-h">
      <h2 id="forecast-h" tabIndex={-1}>
        Forecast
      </h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked({ days, level });
        }}
      >
        <Field label="Days ahead" type="number" min={1} max={90} step={1} required value={days} onValue={setDays} />
        <Select
          label="Interval"
          value={level}
          onValue={setLevel}
          options={[
            { value: "0.5", label: "50%" },
            { value: "0.8", label: "80%" },
            { value: "0.9", label: "90%" },
            { value: "0.95", label: "95%" },
            { value: "0.99", label: "99%" },
          ]}
        />
        <Select
          label="Of"
          value={series}
          onValue={(v) => setSeries(v as "revenue" | "orders")}
          options={[
            { value: "revenue", label: "Revenue" },
            { value: "orders", label: "Orders" },
          ]}
        />
        <Button type="submit" busy={forecast.loading}>
          Forecast
        </Button>
      </form>
      {notEnough ? (
        <Notice kind="warning">
          <strong>Not enough history to forecast yet.</strong> A forecast needs at least 14 days of sales, counted from the
          first day with a sale up to yesterday.
          {forecast.error instanceof ApiError && forecast.error.problem.detail ? ` ${forecast.error.problem.detail}` : ""}
        </Notice>
      ) : (
        <Problem error={forecast.error} />
      )}
      {forecast.loading && !f ? <Loading what="Forecasting" /> : null}
      {f ? (
        <>
          <p>
            {isMoney ? "Revenue" : "Orders"} for the next {f.days} days from {f.historyDays} days of history (model{" "}
            {isMoney ? f.revenue.model : f.orders.model}, made {when(f.generatedAt)}). The shaded band is the {pct}% interval.
          </p>
          <ForecastChart
            history={past}
            forecast={band}
            format={fmt}
            short={shortPeriod}
            label={`${isMoney ? "Revenue" : "Orders"} forecast for ${f.days} days from ${band[0] ? fullDate(band[0].label) : ""}: ${full(sum)} expected in all${
              band[0] ? `, ${full(band[0].mean)} on the first day (${pct}% interval ${full(band[0].lower)} to ${full(band[0].upper)})` : ""
            }${past.length ? `, after ${past.length} days of actual sales drawn as a solid line` : ""}. The table below has every day.`}
          />
          <details class="numbers" open>
            <summary>The forecast, day by day</summary>
            <div class="table-wrap" tabIndex={0} role="region" aria-label="Forecast per day">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Day</th>
                    <th scope="col" class="num">
                      Expected
                    </th>
                    <th scope="col" class="num">
                      Low ({pct}%)
                    </th>
                    <th scope="col" class="num">
                      High ({pct}%)
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {band.map((p) => (
                    <tr key={p.label}>
                      <th scope="row">{fullDate(p.label)}</th>
                      <td class="num">{full(p.mean)}</td>
                      <td class="num">{full(p.lower)}</td>
                      <td class="num">{full(p.upper)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      ) : null}
    </section>
  );
}
