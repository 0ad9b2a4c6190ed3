import { useState } from "preact/hooks";
import { signIn } from "../auth";
import { Button, Field, Page, Problem, useAction } from "../ui/ui";

export function AdminSignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction(() => signIn(email.trim(), password));
  return (
    <Page title="Staff sign in">
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run();
        }}
      >
        <Problem error={action.error} />
        <Field label="Email" type="email" autocomplete="username" required value={email} onValue={setEmail} />
        <Field label="Password" type="password" autocomplete="current-password" required value={password} onValue={setPassword} />
        <Button type="submit" busy={action.busy}>
          Sign in
        </Button>
      </form>
    </Page>
  );
}
