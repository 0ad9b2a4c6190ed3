// Customers (support and admin): the list, by RFM segment; a customer's figures, segment, timeline and the staff's
// notes and replies, with a form to add one (a reply is mailed to the customer, a note stays here). The segments'
// sizes and revenue (GET /admin/segments) are admin's.
import { useState } from "preact/hooks";
import { api, unwrap } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Button, Field, Loading, Notice, Page, Price, Problem, Select, TextArea, money, useAction, useAsync, when } from "../../ui/ui";
import { Facts, SEGMENTS, count, segmentLabel, useIsAdmin, usePaged, OpenById } from "../kit";

const TIMELINE: Record<string, string> = {
  registered: "Registered",
  "profile-updated": "Profile updated",
  "order-placed": "Order placed",
  "order-paid": "Order paid",
  "order-refunded": "Order refunded",
  "order-cancelled": "Order cancelled",
};

function Segments() {
  const seg = useAsync(() => unwrap(api().GET("/admin/segments")), []);
  const s = seg.data;
  return (
    <section aria-labelledby="segments-h">
      <h2 id="segments-h">Segments</h2>
      <Problem error={seg.error} />
      {seg.loading && !s ? <Loading what="Loading segments" /> : null}
      {s ? (
        <>
          <p>
            {count(s.customers, "customer")} known, {s.scored} with a paid order.{" "}
            {s.computedAt ? `Scored ${when(s.computedAt)}.` : "Not scored yet."}
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Segment</th>
                  <th scope="col" class="num">
                    Customers
                  </th>
                  <th scope="col" class="num">
                    Revenue
                  </th>
                  <th scope="col" class="num">
                    Share
                  </th>
                </tr>
              </thead>
              <tbody>
                {s.segments.map((x) => (
                  <tr key={x.segment}>
                    <td>
                      <a href={href("/customers", { segment: x.segment })}>{x.label || segmentLabel(x.segment)}</a>
                    </td>
                    <td class="num">{x.customers}</td>
                    <td class="num">
                      <Price value={x.revenue} />
                    </td>
                    <td class="num">{(x.share * 100).toFixed(1)}%</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}

export function CustomersPage({ route }: { route: Route }) {
  const segment = route.query.get("segment") ?? "";
  const admin = useIsAdmin();
  const query = (cursor?: string) => ({ limit: "50", ...(segment ? { segment } : {}), ...(cursor ? { cursor } : {}) });
  const list = useAsync(() => unwrap(api().GET("/admin/customers", { params: { query: query() } })), [segment]);
  const paged = usePaged(list.data, (cursor) => unwrap(api().GET("/admin/customers", { params: { query: query(cursor) } })));
  return (
    <Page title="Customers">
      <OpenById name="Open a customer by user id" label="User id" path="/customers" button="Open customer" />
      <div class="filters">
        <Select
          label="Segment"
          value={segment}
          onValue={(v) => navigate("/customers", { segment: v }, true)}
          options={[{ value: "", label: "Every customer" }, ...SEGMENTS]}
        />
      </div>
      <h2>{segment ? `${segmentLabel(segment)} customers` : "Every customer"}</h2>
      <Problem error={list.error} />
      {list.loading && !list.data ? <Loading what="Loading customers" /> : null}
      {list.data ? (
        paged.items.length ? (
          <>
            <p role="status">{count(paged.items.length, "customer")} shown.</p>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Customer</th>
                    <th scope="col">Email</th>
                    <th scope="col">Segment</th>
                    <th scope="col" class="num">
                      Paid orders
                    </th>
                    <th scope="col" class="num">
                      Lifetime value
                    </th>
                    <th scope="col">Last order</th>
                    <th scope="col">First seen</th>
                  </tr>
                </thead>
                <tbody>
                  {paged.items.map((c) => (
                    <tr key={c.userId}>
                      <td>
                        <a href={href(`/customers/${encodeURIComponent(c.userId)}`)}>{c.name || c.userId}</a>
                      </td>
                      <td>{c.email ?? ""}</td>
                      <td>{c.segment ? segmentLabel(c.segment) : <span class="muted">not scored</span>}</td>
                      <td class="num">{c.ordersPaid}</td>
                      <td class="num">
                        <Price value={c.lifetimeValue} />
                      </td>
                      <td>{when(c.lastOrderAt)}</td>
                      <td>{when(c.firstSeenAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {paged.button}
          </>
        ) : (
          <p>No customers{segment ? " in this segment" : ""}.</p>
        )
      ) : null}
      {admin ? <Segments /> : null}
    </Page>
  );
}

export function CustomerPage({ route }: { route: Route }) {
  const userId = route.parts[1] ?? "";
  const customer = useAsync(() => unwrap(api().GET("/admin/customers/{userId}", { params: { path: { userId } } })), [userId]);
  const c = customer.data;
  return (
    <Page title={c ? `Customer: ${c.name || c.email || c.userId}` : "Customer"}>
      <p>
        <a href={href("/customers")}>All customers</a>
      </p>
      <Problem error={customer.error} />
      {customer.loading && !c ? <Loading what="Loading the customer" /> : null}
      {c ? (
        <>
          <Facts
            items={[
              ["User id", <span class="mono">{c.userId}</span>],
              ["Email", c.email ?? ""],
              ["Name", c.name ?? ""],
              ["Phone", c.phone ?? ""],
              ["Locale", c.locale ?? ""],
              ["Registered", when(c.registeredAt)],
              ["First seen", when(c.firstSeenAt)],
              ["Segment", c.rfm ? `${segmentLabel(c.rfm.segment)} (RFM ${c.rfm.code})` : "not scored (no paid order yet)"],
              ["Lifetime value", <Price value={c.lifetimeValue} />],
              ["Orders placed", String(c.orders.placed)],
              ["Orders paid", String(c.orders.paid)],
              ["Orders cancelled", String(c.orders.cancelled)],
              ["Spent", <Price value={c.orders.spent} />],
              ["Refunded", <Price value={c.orders.refunded} />],
              ["Last order", when(c.orders.lastOrderAt)],
            ]}
          />
          {c.rfm ? (
            <p class="muted">
              Recency {c.rfm.r}/5, frequency {c.rfm.f}/5, monetary {c.rfm.m}/5{c.rfm.scoredAt ? `, scored ${when(c.rfm.scoredAt)}` : ""}.
            </p>
          ) : null}
          <div class="columns">
            <section aria-labelledby="contact-h">
              <h2 id="contact-h">Notes and replies</h2>
              <InteractionForm userId={c.userId} email={c.email} onDone={customer.reload} />
              {c.interactions.length ? (
                <ul class="messages">
                  {c.interactions.map((i) => (
                    <li key={i.interactionId} class={i.kind === "reply" ? "staff" : ""}>
                      <span class="who">{i.kind === "reply" ? "Reply sent" : "Note"}</span>{" "}
                      <span class="muted">
                        {when(i.at)} by <span class="mono">{i.by}</span>
                      </span>
                      {i.subject ? <div>Subject: {i.subject}</div> : null}
                      <p>{i.text}</p>
                    </li>
                  ))}
                </ul>
              ) : (
                <p>No notes or replies yet.</p>
              )}
            </section>
            <section aria-labelledby="timeline-h">
              <h2 id="timeline-h">Timeline</h2>
              {c.timeline.length ? (
                <ol class="timeline">
                  {c.timeline.map((t) => (
                    <li key={t.eventId}>
                      {when(t.at)}: {TIMELINE[t.kind] ?? t.kind}
                      {t.orderId ? (
                        <>
                          {" "}
                          <a class="mono" href={href(`/orders/${encodeURIComponent(t.orderId)}`)}>
                            {t.orderId}
                          </a>
                        </>
                      ) : null}
                      {t.amount ? `, ${money(t.amount)}` : ""}
                      {t.detail ? <span class="muted"> ({t.detail})</span> : null}
                    </li>
                  ))}
                </ol>
              ) : (
                <p>Nothing yet.</p>
              )}
            </section>
          </div>
        </>
      ) : null}
    </Page>
  );
}

function InteractionForm({ userId, email, onDone }: { userId: string; email: string | null; onDone: () => void }) {
  const [kind, setKind] = useState<"note" | "reply">("note");
  const [subject, setSubject] = useState("");
  const [text, setText] = useState("");
  const [sent, setSent] = useState("");
  const add = useAction(async () => {
    await unwrap(
      api().POST("/admin/customers/{userId}/interactions", {
        params: { path: { userId } },
        body: { kind, text: text.trim(), subject: kind === "reply" && subject.trim() ? subject.trim() : null },
      }),
    );
    setText("");
    setSubject("");
    setSent(kind === "reply" ? `Reply sent${email ? ` to ${email}` : ""}.` : "Note added.");
    onDone();
  });
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        setSent("");
        void add.run();
      }}
    >
      <Problem error={add.error} />
      {sent ? <Notice kind="success">{sent}</Notice> : null}
      <Select
        label="Kind"
        value={kind}
        onValue={(v) => setKind(v as "note" | "reply")}
        options={[
          { value: "note", label: "Note (staff only)" },
          { value: "reply", label: "Reply (sent to the customer)" },
        ]}
      />
      {kind === "reply" ? <Field label="Subject (optional)" maxLength={200} value={subject} onValue={setSubject} /> : null}
      <TextArea label={kind === "reply" ? "Message" : "Note"} required maxLength={5000} value={text} onValue={setText} />
      <Button type="submit" busy={add.busy}>
        {kind === "reply" ? "Send reply" : "Add note"}
      </Button>
    </form>
  );
}
