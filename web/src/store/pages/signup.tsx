import { useState } from "preact/hooks";
import { api, unwrap } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Field, Notice, Page, useAction } from "../../ui/ui";
import { ActionForm, CodeField, EmailField, NewPasswordField } from "../components";

/** Create an account: a code is mailed, and the confirm page takes it. */
export function SignUp() {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction(async () => {
    const answer = await unwrap(
      api().POST("/auth/signup", { body: { email: email.trim(), password, name: name.trim() || null } }),
    );
    if (answer.status === "CONFIRMED") navigate("/signin", { email: answer.email });
    else navigate("/confirm", { email: answer.email, to: answer.codeDelivery?.destination });
  });
  return (
    <Page title="Create an account">
      <ActionForm onSubmit={() => void action.run()} error={action.error} busy={action.busy} submit="Create account">
        <EmailField value={email} onValue={setEmail} />
        <Field label="Your name (optional)" autocomplete="name" maxLength={100} value={name} onValue={setName} />
        <NewPasswordField label="Password" value={password} onValue={setPassword} />
      </ActionForm>
      <p>
        Have an account? <a href={href("/signin")}>Sign in</a>.
      </p>
    </Page>
  );
}

/** Confirm the address with the mailed code, then sign in. */
export function Confirm({ route }: { route: Route }) {
  const [email, setEmail] = useState(route.query.get("email") ?? "");
  const [code, setCode] = useState("");
  const to = route.query.get("to");
  const action = useAction(async () => {
    await unwrap(api().POST("/auth/confirm", { body: { email: email.trim(), code: code.trim() } }));
    navigate("/signin", { email: email.trim(), confirmed: "1" });
  });
  return (
    <Page title="Confirm your email">
      <Notice>We have mailed a 6-digit code{to ? ` to ${to}` : ""}. Type it here to finish making your account.</Notice>
      <ActionForm onSubmit={() => void action.run()} error={action.error} busy={action.busy} submit="Confirm">
        <EmailField value={email} onValue={setEmail} />
        <CodeField value={code} onValue={setCode} />
      </ActionForm>
    </Page>
  );
}
