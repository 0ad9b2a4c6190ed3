// Support tickets (support and admin): the list by status, most recently changed first; a ticket's messages, a
// reply (the customer sees it on their ticket page and is told), its status and who has it.
import { useState } from "preact/hooks";
import { api, unwrap, type Schemas } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Button, Field, Loading, Notice, Page, Problem, Select, Status, TextArea, useAction, useAsync, useSession, when } from "../../ui/ui";
import { Facts, count, usePaged } from "../kit";

type Ticket = Schemas["TicketAnswer"];
type TicketStatus = Ticket["status"];

const STATUSES: { value: string; label: string }[] = [
  { value: "open,pending", label: "Open or pending" },
  { value: "open", label: "Open" },
  { value: "pending", label: "Pending" },
  { value: "closed", label: "Closed" },
  { value: "all", label: "Every status" },
];

export function TicketsPage({ route }: { route: Route }) {
  const chosen = route.query.get("status") ?? "open,pending";
  const status = chosen === "all" ? "" : chosen;
  const query = (cursor?: string) => ({ limit: "50", ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
  const list = useAsync(() => unwrap(api().GET("/admin/tickets", { params: { query: query() } })), [status]);
  const paged = usePaged(list.data, (cursor) => unwrap(api().GET("/admin/tickets", { params: { query: query(cursor) } })));
  return (
    <Page
      title="Support tickets"
      actions={
        <Button kind="secondary" type="button" busy={list.loading} onClick={list.reload}>
          Refresh
        </Button>
      }
    >
      <div class="filters">
        <Select label="Status" value={chosen} onValue={(v) => navigate("/tickets", { status: v }, true)} options={STATUSES} />
      </div>
      <Problem error={list.error} />
      {list.loading && !list.data ? <Loading what="Loading tickets" /> : null}
      {list.data ? (
        paged.items.length ? (
          <>
            <p role="status">{count(paged.items.length, "ticket")} shown, most recently changed first.</p>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Subject</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Messages
                    </th>
                    <th scope="col">Customer</th>
                    <th scope="col">Order</th>
                    <th scope="col">Assignee</th>
                    <th scope="col">Changed</th>
                  </tr>
                </thead>
                <tbody>
                  {paged.items.map((t) => (
                    <tr key={t.ticketId}>
                      <td>
                        <a href={href(`/tickets/${encodeURIComponent(t.ticketId)}`)}>{t.subject}</a>
                      </td>
                      <td>
                        <Status value={t.status} />
                      </td>
                      <td class="num">{t.messageCount}</td>
                      <td>
                        <a class="mono" href={href(`/customers/${encodeURIComponent(t.userId)}`)}>
                          {t.userId}
                        </a>
                      </td>
                      <td>
                        {t.orderId ? (
                          <a class="mono" href={href(`/orders/${encodeURIComponent(t.orderId)}`)}>
                            {t.orderId}
                          </a>
                        ) : (
                          ""
                        )}
                      </td>
                      <td class="mono">{t.assignee ?? ""}</td>
                      <td>{when(t.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {paged.button}
          </>
        ) : (
          <p>No tickets match.</p>
        )
      ) : null}
    </Page>
  );
}

export function TicketPage({ route }: { route: Route }) {
  const ticketId = route.parts[1] ?? "";
  const ticket = useAsync(() => unwrap(api().GET("/admin/tickets/{ticketId}", { params: { path: { ticketId } } })), [ticketId]);
  const t = ticket.data;
  return (
    <Page
      title={t ? `Ticket: ${t.subject}` : "Ticket"}
      actions={
        <Button kind="secondary" type="button" busy={ticket.loading} onClick={ticket.reload}>
          Refresh
        </Button>
      }
    >
      <p>
        <a href={href("/tickets")}>All tickets</a>
      </p>
      <Problem error={ticket.error} />
      {ticket.loading && !t ? <Loading what="Loading the ticket" /> : null}
      {t ? (
        <>
          <Facts
            items={[
              ["Status", <Status value={t.status} />],
              [
                "Customer",
                <a class="mono" href={href(`/customers/${encodeURIComponent(t.userId)}`)}>
                  {t.userId}
                </a>,
              ],
              [
                "Order",
                t.orderId ? (
                  <a class="mono" href={href(`/orders/${encodeURIComponent(t.orderId)}`)}>
                    {t.orderId}
                  </a>
                ) : (
                  ""
                ),
              ],
              ["Assignee", t.assignee ? <span class="mono">{t.assignee}</span> : "nobody"],
              ["Opened", when(t.createdAt)],
              ["Changed", when(t.updatedAt)],
            ]}
          />
          <div class="columns">
            <section aria-labelledby="messages-h">
              <h2 id="messages-h">Messages</h2>
              <ol class="messages">
                {t.messages.map((m) => (
                  <li key={m.messageId} class={m.by}>
                    <span class="who">{m.by === "staff" ? "Staff" : "Customer"}</span>{" "}
                    <span class="muted">
                      {when(m.at)}
                      {m.by === "staff" ? (
                        <>
                          {" "}
                          by <span class="mono">{m.authorId}</span>
                        </>
                      ) : null}
                    </span>
                    <p>{m.text}</p>
                  </li>
                ))}
              </ol>
              <ReplyForm ticket={t} onDone={ticket.reload} />
            </section>
            <StatusForm key={`${t.status}:${t.assignee}`} ticket={t} onDone={ticket.reload} />
          </div>
        </>
      ) : null}
    </Page>
  );
}

function ReplyForm({ ticket, onDone }: { ticket: Ticket; onDone: () => void }) {
  const [text, setText] = useState("");
  const [sent, setSent] = useState(false);
  const reply = useAction(async () => {
    await unwrap(
      api().POST("/admin/tickets/{ticketId}/messages", { params: { path: { ticketId: ticket.ticketId } }, body: { text: text.trim() } }),
    );
    setText("");
    setSent(true);
    onDone();
  });
  return (
    <form
      class="stack"
      aria-labelledby="reply-h"
      onSubmit={(e) => {
        e.preventDefault();
        setSent(false);
        void reply.run();
      }}
    >
      <h3 id="reply-h">Reply</h3>
      <Problem error={reply.error} />
      {sent ? <Notice kind="success">Reply sent: the customer sees it on their ticket.</Notice> : null}
      <TextArea label="Your reply" required maxLength={5000} value={text} onValue={setText} />
      <Button type="submit" busy={reply.busy}>
        Send reply
      </Button>
    </form>
  );
}

function StatusForm({ ticket, onDone }: { ticket: Ticket; onDone: () => void }) {
  const me = useSession().me;
  const [status, setStatus] = useState<TicketStatus>(ticket.status);
  const [assignee, setAssignee] = useState(ticket.assignee ?? "");
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    const a = assignee.trim();
    await unwrap(
      api().PUT("/admin/tickets/{ticketId}", {
        params: { path: { ticketId: ticket.ticketId } },
        body: { status: status !== ticket.status ? status : null, assignee: a && a !== ticket.assignee ? a : null },
      }),
    );
    setSaved(true);
    onDone();
  });
  return (
    <form
      class="stack panel"
      aria-labelledby="status-h"
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        void save.run();
      }}
    >
      <h2 id="status-h">Status and assignee</h2>
      <Problem error={save.error} />
      {saved ? <Notice kind="success">Ticket updated.</Notice> : null}
      <Select
        label="Status"
        value={status}
        onValue={(v) => setStatus(v as TicketStatus)}
        options={[
          { value: "open", label: "Open" },
          { value: "pending", label: "Pending (waiting for the customer)" },
          { value: "closed", label: "Closed" },
        ]}
      />
      <Field
        label="Assignee (a staff user id)"
        maxLength={128}
        pattern="[A-Za-z0-9_.:@\-]+"
        value={assignee}
        onValue={setAssignee}
        autocomplete="off"
      />
      {me && assignee !== me.userId ? (
        <p>
          <button class="linklike" type="button" onClick={() => setAssignee(me.userId)}>
            Assign to me
          </button>
        </p>
      ) : null}
      <Button type="submit" busy={save.busy}>
        Save
      </Button>
    </form>
  );
}
