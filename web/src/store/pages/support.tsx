import { useEffect, useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Button, Field, Notice, Page, Select, Status, TextArea, useAction, useAsync, when } from "../../ui/ui";
import { SignedIn } from "../common";
import { ActionForm, DataTable, LoadState, NotYet } from "../components";

/** Support: my tickets, and a new one (about an order, if I say which). */
export function Support({ route }: { route: Route }) {
  return <SignedIn title="Support" path="/support">{() => <SupportView order={route.query.get("order") ?? ""} />}</SignedIn>;
}

function SupportView({ order }: { order: string }) {
  const tickets = useAsync(() => unwrap(api().GET("/support/tickets", { params: { query: { limit: "50" } } })), []);
  const orders = useAsync(() => unwrap(api().GET("/orders", { params: { query: { limit: "20" } } })), []);
  const [subject, setSubject] = useState("");
  const [message, setMessage] = useState("");
  const [orderId, setOrderId] = useState(order);
  useEffect(() => setOrderId(order), [order]);
  const open = useAction(async () => {
    const t = await unwrap(
      api().POST("/support/tickets", { body: { subject: subject.trim(), message: message.trim(), orderId: orderId || null } }),
    );
    navigate(`/support/${encodeURIComponent(t.ticketId)}`);
  });
  const orderOptions = [
    { value: "", label: "Not about an order" },
    ...(orders.data?.items ?? []).map((o) => ({ value: o.orderId, label: `${o.orderId} (${when(o.placedAt)})` })),
  ];
  if (orderId && !orderOptions.some((o) => o.value === orderId)) orderOptions.push({ value: orderId, label: orderId });
  const items: Schemas["TicketSummary"][] = tickets.data?.items ?? [];
  return (
    <Page title="Support">
      <section aria-labelledby="tickets-title">
        <h2 id="tickets-title">Your questions</h2>
        <LoadState state={tickets} />
        {tickets.data && items.length === 0 ? <p>You have not asked us anything yet.</p> : null}
        {items.length ? (
          <DataTable
            caption="Your support tickets"
            columns={["Subject", "Status", "Messages", "Last change"]}
            items={items}
            row={(t) => (
              <tr key={t.ticketId}>
                <td>
                  <a href={href(`/support/${encodeURIComponent(t.ticketId)}`)}>{t.subject}</a>
                </td>
                <td>
                  <Status value={t.status} />
                </td>
                <td>{t.messageCount}</td>
                <td>{when(t.updatedAt)}</td>
              </tr>
            )}
          />
        ) : null}
      </section>
      <section aria-labelledby="new-title">
        <h2 id="new-title">Ask a question</h2>
        <ActionForm onSubmit={() => void open.run()} error={open.error} busy={open.busy} submit="Send">
          <Field label="Subject" required maxLength={200} value={subject} onValue={setSubject} />
          <TextArea label="Message" required maxLength={5000} value={message} onValue={setMessage} />
          <Select label="Order (optional)" value={orderId} onValue={setOrderId} options={orderOptions} />
        </ActionForm>
      </section>
    </Page>
  );
}

/** One ticket: its messages, oldest first, and a reply. */
export function TicketPage({ route }: { route: Route }) {
  const id = route.parts[1] ?? "";
  return <SignedIn title="Support ticket" path={`/support/${id}`}>{() => <TicketView id={id} />}</SignedIn>;
}

function TicketView({ id }: { id: string }) {
  const loaded = useAsync(() => unwrap(api().GET("/support/tickets/{ticketId}", { params: { path: { ticketId: id } } })), [id]);
  const [ticket, setTicket] = useState<Schemas["TicketAnswer"] | undefined>(undefined);
  useEffect(() => {
    if (loaded.data) setTicket(loaded.data);
  }, [loaded.data]);
  const [text, setText] = useState("");
  const [sent, setSent] = useState(false);
  const reply = useAction(async () => {
    const t = await unwrap(
      api().POST("/support/tickets/{ticketId}/messages", { params: { path: { ticketId: id } }, body: { text: text.trim() } }),
    );
    setTicket(t);
    setText("");
    setSent(true);
  });
  if (!ticket) return <NotYet title="Support ticket" state={loaded} back={<a href={href("/support")}>All your questions</a>} />;
  return (
    <Page
      title={ticket.subject}
      actions={
        <Button kind="secondary" type="button" busy={loaded.loading} onClick={loaded.reload}>
          Check for replies
        </Button>
      }
    >
      <p>
        <Status value={ticket.status} /> Opened {when(ticket.createdAt)}
        {ticket.orderId ? (
          <>
            {" "}
            about order <a href={href(`/orders/${encodeURIComponent(ticket.orderId)}`)}>{ticket.orderId}</a>
          </>
        ) : null}
        .
      </p>
      <h2>Messages</h2>
      <ol class="messages">
        {ticket.messages.map((m) => (
          <li key={m.messageId} class={`by-${m.by}`}>
            <strong>{m.by === "staff" ? "Gears support" : "You"}</strong> <span class="muted">{when(m.at)}</span>
            <p>{m.text}</p>
          </li>
        ))}
      </ol>
      <h2>Reply</h2>
      <ActionForm
        onSubmit={() => {
          setSent(false);
          void reply.run();
        }}
        error={reply.error}
        busy={reply.busy}
        submit="Send reply"
      >
        <TextArea label="Your reply" required maxLength={5000} value={text} onValue={setText} />
      </ActionForm>
      {sent ? <Notice kind="success">Sent.</Notice> : null}
      <p>
        <a href={href("/support")}>All your questions</a>
      </p>
    </Page>
  );
}
