import { useState } from "preact/hooks";
import { api, unwrap } from "../../api/client";
import { href, navigate, type Route } from "../../router";
import { Notice, Page, useAction } from "../../ui/ui";
import { ActionForm, CodeField, EmailField, NewPasswordField } from "../components";

/** Forgot the password: a code is mailed; with it, a new password. */
export function Password({ route }: { route: Route }) {
  const [email, setEmail] = useState(route.query.get("email") ?? "");
  const [sent, setSent] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const forgot = useAction(async () => {
    const answer = await unwrap(api().POST("/auth/password/forgot", { body: { email: email.trim() } }));
    setSent(answer.message);
  });
  const reset = useAction(async () => {
    await unwrap(api().POST("/auth/password/reset", { body: { email: email.trim(), code: code.trim(), newPassword: password } }));
    navigate("/signin", { email: email.trim() });
  });
  return (
    <Page title="Reset your password">
      {sent === null ? (
        <ActionForm onSubmit={() => void forgot.run()} error={forgot.error} busy={forgot.busy} submit="Send the code">
          <p>Type your email: we mail you a code to set a new password.</p>
          <EmailField value={email} onValue={setEmail} />
        </ActionForm>
      ) : (
        <>
          <Notice>{sent || "If the address has an account, a code is on its way."}</Notice>
          <ActionForm onSubmit={() => void reset.run()} error={reset.error} busy={reset.busy} submit="Set the new password">
            <EmailField value={email} onValue={setEmail} />
            <CodeField value={code} onValue={setCode} />
            <NewPasswordField label="New password" value={password} onValue={setPassword} />
          </ActionForm>
          <p>
            <button type="button" class="linklike" onClick={() => setSent(null)}>
              Send another code
            </button>
          </p>
        </>
      )}
      <p>
        <a href={href("/signin")}>Back to sign in</a>
      </p>
    </Page>
  );
}
