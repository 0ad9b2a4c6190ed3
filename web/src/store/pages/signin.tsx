import { useState } from "preact/hooks";
import { signIn } from "../../auth";
import { href, navigate, type Route } from "../../router";
import { Field, Notice, Page, useAction } from "../../ui/ui";
import { ActionForm, EmailField } from "../components";

/** Sign in; back to where the visitor was going (``?next=``) after. */
export function SignIn({ route }: { route: Route }) {
  const [email, setEmail] = useState(route.query.get("email") ?? "");
  const [password, setPassword] = useState("");
  const action = useAction(async () => {
    await signIn(email.trim(), password);
    navigate(route.query.get("next") || "/", undefined, true);
  });
  return (
    <Page title="Sign in">
      {route.query.get("confirmed") === "1" ? <Notice kind="success">Your email is confirmed: sign in to start shopping.</Notice> : null}
      <ActionForm onSubmit={() => void action.run()} error={action.error} busy={action.busy} submit="Sign in">
        <EmailField autocomplete="username" value={email} onValue={setEmail} />
        <Field label="Password" type="password" autocomplete="current-password" required value={password} onValue={setPassword} />
      </ActionForm>
      <p>
        New here? <a href={href("/signup")}>Create an account</a>. <a href={href("/password")}>Forgot your password?</a>
      </p>
    </Page>
  );
}
