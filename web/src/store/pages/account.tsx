import { useEffect, useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../../api/client";
import { session } from "../../session";
import { Field, Notice, Page, useAction, useAsync, when } from "../../ui/ui";
import { SignedIn } from "../common";
import { ActionForm, CodeField, DataTable, LoadState } from "../components";
import { MoreButton, usePages } from "../../ui/paging";

type Channel = "email" | "sms" | "push";
type Kind = "orderUpdates" | "support" | "marketing" | "alerts";
const KINDS: [Kind, string][] = [
  ["orderUpdates", "Order updates"],
  ["support", "Support replies"],
  ["alerts", "Account alerts"],
  ["marketing", "Offers and news"],
];
const CHANNELS: [Channel, string][] = [
  ["email", "Email"],
  ["sms", "Text message"],
  ["push", "Push"],
];
const STATE_WORDS: Record<string, string> = {
  sending: "Sending",
  sent: "Sent",
  delivered: "Delivered",
  failed: "Failed",
  suppressed: "Not sent",
};

/** My account: name and phone, which messages come how, and the messages the shop sent. */
export function Account() {
  return (
    <SignedIn title="Your account" path="/account">
      {() => (
        <Page title="Your account">
          <Profile />
          <Preferences />
          <NotificationLog />
        </Page>
      )}
    </SignedIn>
  );
}

function Profile() {
  const me = useAsync(() => unwrap(api().GET("/me")), []);
  const [name, setName] = useState("");
  const [phone, setPhone] = useState("");
  const [code, setCode] = useState("");
  const [saved, setSaved] = useState("");
  const [current, setCurrent] = useState<Schemas["MeAnswer"] | undefined>(undefined);
  useEffect(() => {
    if (me.data) {
      setCurrent(me.data);
      setName(me.data.name ?? "");
      setPhone(me.data.pendingPhone ?? me.data.phone ?? "");
    }
  }, [me.data]);
  const save = useAction(async () => {
    // a field left out stays as it is (the schema's defaults make the generated type ask for all of them)
    const body: Partial<Schemas["UpdateMeRequest"]> = { name: name.trim() || null };
    const wanted = phone.trim() || null;
    if (wanted !== (current?.phone ?? null) && wanted !== (current?.pendingPhone ?? null)) body.phone = wanted;
    const answer = await unwrap(api().PATCH("/me", { body: body as Schemas["UpdateMeRequest"] }));
    setCurrent(answer);
    session.setMe(answer);
    setSaved(answer.pendingPhone ? "Saved. We have sent a code by text message to the new number." : "Saved.");
  });
  const confirm = useAction(async () => {
    const answer = await unwrap(api().POST("/me/phone/confirm", { body: { code: code.trim() } }));
    setCurrent(answer);
    session.setMe(answer);
    setCode("");
    setSaved("Your phone number is confirmed.");
  });
  return (
    <section aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <LoadState state={me} />
      {current ? (
        <>
          <p>
            Signed in as <strong>{current.email}</strong>
            {current.createdAt ? `, since ${when(current.createdAt)}` : ""}.
          </p>
          <ActionForm
            onSubmit={() => {
              setSaved("");
              void save.run();
            }}
            error={save.error}
            busy={save.busy}
            submit="Save profile"
          >
            <Field label="Name" autocomplete="name" maxLength={100} value={name} onValue={setName} />
            <Field
              label="Mobile phone"
              type="tel"
              autocomplete="tel"
              hint={`International form, such as +447700900123. ${current.phone ? (current.phoneVerified ? "Confirmed." : "Not confirmed yet.") : ""}`}
              value={phone}
              onValue={setPhone}
            />
          </ActionForm>
          {current.pendingPhone ? (
            <ActionForm
              onSubmit={() => {
                setSaved("");
                void confirm.run();
              }}
              error={confirm.error}
              busy={confirm.busy}
              submit="Confirm the number"
            >
              <p>
                Type the code we texted to {current.pendingPhone}
                {current.phoneCodeExpiresAt ? ` (it works until ${when(current.phoneCodeExpiresAt)})` : ""}.
              </p>
              <CodeField label="Phone code" value={code} onValue={setCode} />
            </ActionForm>
          ) : null}
          {saved ? <Notice kind="success">{saved}</Notice> : null}
        </>
      ) : null}
    </section>
  );
}

function Preferences() {
  const loaded = useAsync(() => unwrap(api().GET("/me/notification-preferences")), []);
  const [channels, setChannels] = useState<Record<Kind, Channel[]> | null>(null);
  const [consent, setConsent] = useState(false);
  const [saved, setSaved] = useState(false);
  const [answer, setAnswer] = useState<Schemas["PreferencesAnswer"] | undefined>(undefined);
  useEffect(() => {
    if (loaded.data) show(loaded.data);
  }, [loaded.data]);
  function show(p: Schemas["PreferencesAnswer"]) {
    setAnswer(p);
    setChannels({ ...p.channels });
    setConsent(p.marketing.consent);
  }
  const save = useAction(async () => {
    if (!channels) return;
    const p = await unwrap(
      api().PUT("/me/notification-preferences", {
        body: { channels, marketing: { consent, source: "settings" } },
      }),
    );
    show(p);
    setSaved(true);
  });
  const toggle = (kind: Kind, channel: Channel, on: boolean) => {
    setSaved(false);
    setChannels((c) => {
      if (!c) return c;
      const now = c[kind].filter((x) => x !== channel);
      return { ...c, [kind]: on ? [...now, channel] : now };
    });
  };
  return (
    <section aria-labelledby="prefs-title">
      <h2 id="prefs-title">Messages we send you</h2>
      <LoadState state={loaded} />
      {channels ? (
        <>
        <ActionForm class="" onSubmit={() => void save.run()} error={save.error} busy={save.busy} submit="Save preferences">
          <div class="row">
            {KINDS.map(([kind, label]) => (
              <fieldset class="plain" key={kind}>
                <legend>{label}</legend>
                {CHANNELS.map(([channel, clabel]) => (
                  <label class="check radio" key={channel}>
                    <input
                      type="checkbox"
                      checked={channels[kind].includes(channel)}
                      onChange={(e) => toggle(kind, channel, (e.currentTarget as HTMLInputElement).checked)}
                    />
                    {clabel}
                  </label>
                ))}
              </fieldset>
            ))}
          </div>
          <label class="check radio">
            <input
              type="checkbox"
              checked={consent}
              onChange={(e) => {
                setSaved(false);
                setConsent((e.currentTarget as HTMLInputElement).checked);
              }}
            />
            Yes, send me offers and news
          </label>
          {answer?.marketing.consentGivenAt && answer.marketing.consent ? (
            <p class="muted">You agreed on {when(answer.marketing.consentGivenAt)}.</p>
          ) : null}
        </ActionForm>
        {saved ? <Notice kind="success">Your preferences are saved.</Notice> : null}
        </>
      ) : null}
    </section>
  );
}

function NotificationLog() {
  const first = useAsync(() => unwrap(api().GET("/me/notifications", { params: { query: { limit: "20" } } })), []);
  const pages = usePages<Schemas["NotificationAnswer"]>(first.data, (cursor) =>
    unwrap(api().GET("/me/notifications", { params: { query: { limit: "20", cursor } } })),
  );
  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title">Messages sent to you</h2>
      <LoadState state={first} />
      {first.data && pages.items.length === 0 ? <p>None yet.</p> : null}
      {pages.items.length ? (
        <DataTable
          caption="Message log"
          columns={["When", "About", "How", "State"]}
          items={pages.items}
          row={(n) => (
            <tr key={n.notificationId}>
              <td>{when(n.createdAt)}</td>
              <td>{n.subject}</td>
              <td>{CHANNELS.find(([c]) => c === n.channel)?.[1] ?? n.channel}</td>
              <td>
                {STATE_WORDS[n.state] ?? n.state}
                {n.reason ? <span class="muted"> ({n.reason})</span> : null}
              </td>
            </tr>
          )}
        />
      ) : null}
      <MoreButton pages={pages} label="Older messages" />
    </section>
  );
}
