// Inventory: the SKUs at or below their threshold, a SKU's figures with its ledger, a restock (goods in), and an
// adjustment of the stock or the low-stock threshold (with a reason).
import { useMemo, useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../../api/client";
import { href, type Route } from "../../router";
import { Button, Field, Loading, Notice, Page, Problem, useAction, useAsync, when } from "../../ui/ui";
import { Facts, count, usePaged, invalid, OpenById } from "../kit";

type Stock = Schemas["StockLedgerAnswer"];

const level = (l: string) => ({ in_stock: "in stock", low: "low", out: "out of stock" })[l] ?? l;

function SkuLookup({ initial = "" }: { initial?: string }) {
  return <OpenById name="Look up a SKU" label="SKU" path="/inventory" button="Look up" initial={initial} />;
}

export function InventoryPage() {
  const query = (cursor?: string) => ({ limit: "50", ...(cursor ? { cursor } : {}) });
  const low = useAsync(() => unwrap(api().GET("/inventory/low-stock", { params: { query: query() } })), []);
  const paged = usePaged(low.data, (cursor) => unwrap(api().GET("/inventory/low-stock", { params: { query: query(cursor) } })));
  return (
    <Page
      title="Inventory"
      actions={
        <Button kind="secondary" type="button" busy={low.loading} onClick={low.reload}>
          Refresh
        </Button>
      }
    >
      <SkuLookup />
      <h2>Low stock</h2>
      <Problem error={low.error} />
      {low.loading && !low.data ? <Loading what="Loading low stock" /> : null}
      {low.data ? (
        paged.items.length ? (
          <>
            <p role="status">{count(paged.items.length, "SKU")} at or below the threshold.</p>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">SKU</th>
                    <th scope="col">Level</th>
                    <th scope="col" class="num">
                      Available
                    </th>
                    <th scope="col" class="num">
                      On hand
                    </th>
                    <th scope="col" class="num">
                      Reserved
                    </th>
                    <th scope="col" class="num">
                      Threshold
                    </th>
                    <th scope="col">Changed</th>
                  </tr>
                </thead>
                <tbody>
                  {paged.items.map((s) => (
                    <tr key={s.sku}>
                      <td>
                        <a class="mono" href={href(`/inventory/${encodeURIComponent(s.sku)}`)}>
                          {s.sku}
                        </a>
                      </td>
                      <td>{level(s.level)}</td>
                      <td class="num">{s.available}</td>
                      <td class="num">{s.onHand}</td>
                      <td class="num">{s.reserved}</td>
                      <td class="num">{s.threshold}</td>
                      <td>{when(s.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {paged.button}
          </>
        ) : (
          <p>No SKU is low on stock.</p>
        )
      ) : null}
    </Page>
  );
}

export function SkuPage({ route }: { route: Route }) {
  const sku = route.parts[1] ?? "";
  const stock = useAsync(() => unwrap(api().GET("/inventory/{sku}", { params: { path: { sku }, query: { limit: "25" } } })), [sku]);
  const [done, setDone] = useState("");
  const s = stock.data;
  const firstPage = useMemo(() => (s ? { items: s.movements, nextCursor: s.nextCursor } : undefined), [s]);
  const more = usePaged(
    firstPage,
    (cursor) =>
      unwrap(api().GET("/inventory/{sku}", { params: { path: { sku }, query: { limit: "25", cursor } } })).then((p) => ({
        items: p.movements,
        nextCursor: p.nextCursor,
      })),
  );
  const changed = (what: string) => {
    setDone(what);
    stock.reload();
  };
  return (
    <Page title={`Stock of ${sku}`}>
      <p>
        <a href={href("/inventory")}>Inventory</a>
      </p>
      <SkuLookup initial={sku} />
      <Problem error={stock.error} />
      {stock.loading && !s ? <Loading what="Loading the stock" /> : null}
      {done ? <Notice kind="success">{done}</Notice> : null}
      {s ? (
        <>
          <Facts
            items={[
              ["Level", level(s.level)],
              ["Available", String(s.available)],
              ["On hand", String(s.onHand)],
              ["Reserved", String(s.reserved)],
              ["Low-stock threshold", String(s.threshold)],
              ["Product", s.productId ? <a href={href(`/catalog/${encodeURIComponent(s.productId)}`)}>{s.productId}</a> : ""],
              ["Changed", when(s.updatedAt)],
            ]}
          />
          <h2>Change the stock</h2>
          <div class="actions-grid">
            <RestockForm stock={s} onDone={changed} />
            <AdjustForm stock={s} onDone={changed} />
          </div>
          <h2>Ledger</h2>
          {more.items.length ? (
            <>
              <div class="table-wrap" tabIndex={0} role="region" aria-label="Ledger">
                <table>
                  <caption class="visually-hidden">Stock movements, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Kind</th>
                      <th scope="col" class="num">
                        On hand ±
                      </th>
                      <th scope="col" class="num">
                        Reserved ±
                      </th>
                      <th scope="col" class="num">
                        Available after
                      </th>
                      <th scope="col">Reference</th>
                      <th scope="col">Reason</th>
                      <th scope="col">By</th>
                    </tr>
                  </thead>
                  <tbody>
                    {more.items.map((m, i) => (
                      <tr key={`${m.at}-${i}`}>
                        <td>{when(m.at)}</td>
                        <td>{m.kind}</td>
                        <td class="num">{signed(m.onHandDelta)}</td>
                        <td class="num">{signed(m.reservedDelta)}</td>
                        <td class="num">{m.availableAfter}</td>
                        <td class="mono">{m.reference}</td>
                        <td>{m.reason}</td>
                        <td class="mono">{m.actor ?? ""}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {more.button}
            </>
          ) : (
            <p>No movements yet.</p>
          )}
        </>
      ) : null}
    </Page>
  );
}

const signed = (n: number) => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : "0");

function RestockForm({ stock, onDone }: { stock: Stock; onDone: (what: string) => void }) {
  const [quantity, setQuantity] = useState("");
  const [reference, setReference] = useState("");
  const restock = useAction(async () => {
    const q = Number(quantity);
    if (!Number.isInteger(q) || q < 1) throw invalid("The quantity is a whole number of units, 1 or more.");
    const r = await unwrap(
      api().POST("/inventory/{sku}/restock", { params: { path: { sku: stock.sku } }, body: { quantity: q, reference: reference.trim() || null } }),
    );
    setQuantity("");
    setReference("");
    onDone(`Restocked ${q}: ${r.available} available now.`);
  });
  return (
    <form
      class="panel"
      aria-labelledby="restock-h"
      onSubmit={(e) => {
        e.preventDefault();
        void restock.run();
      }}
    >
      <h3 id="restock-h">Restock</h3>
      <Problem error={restock.error} />
      <Field label="Units received" type="number" min={1} max={1000000} step={1} required value={quantity} onValue={setQuantity} />
      <Field
        label="Reference (optional)"
        hint="A delivery note or PO number: letters, digits and _ . / : -"
        maxLength={100}
        pattern="[A-Za-z0-9][A-Za-z0-9_.\/:\-]*"
        value={reference}
        onValue={setReference}
      />
      <Button type="submit" busy={restock.busy}>
        Restock
      </Button>
    </form>
  );
}

function AdjustForm({ stock, onDone }: { stock: Stock; onDone: (what: string) => void }) {
  const [target, setTarget] = useState(String(stock.onHand));
  const [threshold, setThreshold] = useState(String(stock.threshold));
  const [reason, setReason] = useState("");
  const adjust = useAction(async () => {
    const onHand = Number(target);
    const th = Number(threshold);
    if (!Number.isInteger(onHand) || onHand < 0) throw invalid("Units on hand is a whole number, 0 or more.");
    if (!Number.isInteger(th) || th < 0) throw invalid("The threshold is a whole number, 0 or more.");
    const delta = onHand - stock.onHand;
    if (delta !== 0 && !reason.trim()) throw invalid("Say why the stock changes (a count, damage, …).");
    if (delta === 0 && th === stock.threshold) throw invalid("Nothing to change.");
    const r = await unwrap(
      api().PUT("/inventory/{sku}", {
        params: { path: { sku: stock.sku } },
        body: {
          delta: delta !== 0 ? delta : null,
          reason: delta !== 0 ? reason.trim() : null,
          threshold: th !== stock.threshold ? th : null,
          productId: null,
        },
      }),
    );
    setReason("");
    onDone(`Stock set: ${r.onHand} on hand, ${r.available} available, threshold ${r.threshold}.`);
  });
  return (
    <form
      class="panel"
      aria-labelledby="adjust-h"
      onSubmit={(e) => {
        e.preventDefault();
        void adjust.run();
      }}
    >
      <h3 id="adjust-h">Set stock</h3>
      <Problem error={adjust.error} />
      <Field
        label="Units on hand"
        type="number"
        min={0}
        step={1}
        required
        value={target}
        onValue={setTarget}
        hint={`Now ${stock.onHand}; ${stock.reserved} of them reserved for orders.`}
      />
      <Field label="Low-stock threshold" type="number" min={0} max={1000000} step={1} required value={threshold} onValue={setThreshold} />
      <Field label="Reason (needed to change the units)" maxLength={200} value={reason} onValue={setReason} />
      <Button type="submit" busy={adjust.busy}>
        Save stock
      </Button>
    </form>
  );
}
