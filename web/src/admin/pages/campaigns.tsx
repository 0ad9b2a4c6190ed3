// Campaigns (admin): send one to an RFM segment, then follow its delivery counts and attributed orders. The API has
// no list of campaigns, so this tab remembers the ones it sent (in memory: gone on reload), and any campaign can be
// opened by its id.
import { useEffect, useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Button, Field, Loading, Page, Price, Problem, Select, TextArea, useAction, useAsync, when } from "../../ui/ui";
import { Facts, SEGMENTS, count, segmentLabel, type Segment, invalid, OpenById } from "../kit";

type Campaign = Schemas["CampaignAnswer"];
type Channel = Schemas["CampaignIn"]["channels"][number];

/** The campaigns this tab sent, newest first. */
const sentHere: Campaign[] = [];

const CHANNELS: { value: Channel; label: string }[] = [
  { value: "email", label: "Email" },
  { value: "sms", label: "SMS" },
  { value: "push", label: "Push" },
];

export function CampaignsPage() {
  return (
    <Page title="Campaigns">
      <div class="columns">
        <section aria-labelledby="new-h">
          <h2 id="new-h">New campaign</h2>
          <CampaignForm />
        </section>
        <section aria-labelledby="sent-h">
          <h2 id="sent-h">Sent from this console</h2>
          {sentHere.length ? (
            <ul>
              {sentHere.map((c) => (
                <li key={c.campaignId}>
                  <a href={href(`/campaigns/${encodeURIComponent(c.campaignId)}`)}>{c.name}</a> to {segmentLabel(c.segment)},{" "}
                  {when(c.createdAt)}
                </li>
              ))}
            </ul>
          ) : (
            <p>None yet in this session (the list lives in this tab only).</p>
          )}
          <OpenById name="Open a campaign by id" label="Campaign id" path="/campaigns" button="Open campaign" />
        </section>
      </div>
    </Page>
  );
}

function CampaignForm() {
  const segments = useAsync(() => unwrap(api().GET("/admin/segments")).catch(() => null), []);
  const [name, setName] = useState("");
  const [segment, setSegment] = useState<Segment>("champions");
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const [channels, setChannels] = useState<Channel[]>(["email"]);
  const [discountCode, setDiscountCode] = useState("");
  const [windowDays, setWindowDays] = useState("14");
  const send = useAction(async () => {
    if (!channels.length) throw invalid("Choose at least one channel.");
    const days = Number(windowDays);
    if (!Number.isInteger(days) || days < 1 || days > 90) throw invalid("The attribution window is 1 to 90 days.");
    const c = await unwrap(
      api().POST("/admin/campaigns", {
        body: {
          name: name.trim(),
          segment,
          subject,
          body,
          channels,
          discountCode: discountCode.trim() || null,
          attributionWindowDays: days,
        },
      }),
    );
    sentHere.unshift(c);
    navigate(`/campaigns/${encodeURIComponent(c.campaignId)}`);
  });
  const sizes = new Map((segments.data?.segments ?? []).map((s) => [s.segment, s.customers]));
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void send.run();
      }}
    >
      <Problem error={send.error} />
      <Field label="Name" required maxLength={100} value={name} onValue={setName} hint="For you: the customers do not see it." />
      <Select
        label="Segment"
        value={segment}
        onValue={(v) => setSegment(v as Segment)}
        options={SEGMENTS.map((s) => ({
          value: s.value,
          label: sizes.has(s.value) ? `${s.label} (${count(sizes.get(s.value) ?? 0, "customer")})` : s.label,
        }))}
      />
      <Field
        label="Subject"
        required
        maxLength={200}
        value={subject}
        onValue={setSubject}
        hint="May use {{ first_name }}, {{ name }} and {{ discount_code }}."
      />
      <TextArea label="Message (plain text; the same variables)" required maxLength={20000} value={body} onValue={setBody} />
      <fieldset class="checks">
        <legend>Channels</legend>
        {CHANNELS.map((c) => (
          <label key={c.value}>
            <input
              type="checkbox"
              checked={channels.includes(c.value)}
              onChange={(e) =>
                setChannels(e.currentTarget.checked ? [...channels, c.value] : channels.filter((x) => x !== c.value))
              }
            />
            {c.label}
          </label>
        ))}
      </fieldset>
      <Field
        label="Discount code (optional)"
        maxLength={32}
        pattern="[A-Za-z0-9][A-Za-z0-9_\-]{2,31}"
        value={discountCode}
        onValue={setDiscountCode}
        hint="An existing code, offered in the message and counted for attribution."
        autocomplete="off"
      />
      <Field label="Attribution window (days)" type="number" min={1} max={90} step={1} required value={windowDays} onValue={setWindowDays} />
      <p class="muted">Customers who have not agreed to marketing are skipped (counted as suppressed).</p>
      <Button type="submit" busy={send.busy}>
        Send campaign
      </Button>
    </form>
  );
}

export function CampaignPage({ route }: { route: Route }) {
  const campaignId = route.parts[1] ?? "";
  const campaign = useAsync(() => unwrap(api().GET("/admin/campaigns/{campaignId}", { params: { path: { campaignId } } })), [campaignId]);
  const [auto, setAuto] = useState(true);
  const c = campaign.data;
  useEffect(() => {
    if (!auto) return;
    const t = setInterval(() => campaign.reload(), 4000);
    return () => clearInterval(t);
  }, [auto, campaign.reload]);
  return (
    <Page
      title={c ? `Campaign: ${c.name}` : "Campaign"}
      actions={
        <Button kind="secondary" type="button" busy={campaign.loading} onClick={campaign.reload}>
          Refresh
        </Button>
      }
    >
      <p>
        <a href={href("/campaigns")}>Campaigns</a>
      </p>
      <label>
        <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} /> Refresh the counts every 4 seconds
      </label>
      <Problem error={campaign.error} />
      {campaign.loading && !c ? <Loading what="Loading the campaign" /> : null}
      {c ? <CampaignView c={c} /> : null}
    </Page>
  );
}

function CampaignView({ c }: { c: Campaign }) {
  const k = c.counts;
  const channels = Object.entries(k.byChannel);
  return (
    <>
      <Facts
        items={[
          ["Campaign id", <span class="mono">{c.campaignId}</span>],
          ["Status", c.status === "launching" ? "launching (sending in batches)" : "launched"],
          ["Segment", segmentLabel(c.segment)],
          ["Channels", c.channels.join(", ")],
          ["Targeted", k.targeted ?? c.targeted ?? "counting…"],
          ["Batches", c.batches ?? ""],
          ["Created", `${when(c.createdAt)} by ${c.createdBy}`],
          ["Launched", when(c.launchedAt)],
          ["Discount code", c.discountCode ?? ""],
          ["Attribution window", `${c.attributionWindowDays} days`],
        ]}
      />
      <h2>Delivery</h2>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Delivery counts">
        <table>
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col" class="num">
                Sent
              </th>
              <th scope="col" class="num">
                Delivered
              </th>
              <th scope="col" class="num">
                Suppressed
              </th>
              <th scope="col" class="num">
                Failed
              </th>
            </tr>
          </thead>
          <tbody>
            {channels.map(([ch, n]) => (
              <tr key={ch}>
                <th scope="row">{ch}</th>
                <td class="num">{n.sent}</td>
                <td class="num">{n.delivered}</td>
                <td class="num">{n.suppressed}</td>
                <td class="num">{n.failed}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">All channels</th>
              <td class="num">{k.sent}</td>
              <td class="num">{k.delivered}</td>
              <td class="num">{k.suppressed}</td>
              <td class="num">{k.failed}</td>
            </tr>
          </tfoot>
        </table>
      </div>
      <h2>Attribution</h2>
      <p>
        {count(c.attribution.orders, "order")} paid by recipients within {c.attributionWindowDays} days
        {c.discountCode ? ` or with the code ${c.discountCode}` : ""}: <Price value={c.attribution.revenue} />.
      </p>
      <h2>Message</h2>
      <div class="panel">
        <p>
          <strong>Subject:</strong> {c.subject}
        </p>
        <p class="pre">{c.body}</p>
      </div>
    </>
  );
}
