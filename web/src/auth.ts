// Signing in and out, shared by both pages: the tokens go to the session (memory), the profile (roles) is read
// once after.
import { api, unwrap } from "./api/client";
import { session } from "./session";

session.useRefresher((refreshToken) => unwrap(api().POST("/auth/refresh", { body: { refreshToken } })));

/** Sign in: the profile (and so the roles) is read with the new token before the session starts, so no page ever
 * sees a signed-in visitor without roles. */
export async function signIn(email: string, password: string): Promise<void> {
  const tokens = await unwrap(api().POST("/auth/login", { body: { email, password } }));
  const me = await unwrap(api().GET("/me", { headers: { authorization: `Bearer ${tokens.accessToken}` } }));
  session.start(tokens, me);
}

export async function signOut(): Promise<void> {
  try {
    if (session.signedIn) await api().POST("/auth/logout", {});
  } finally {
    session.end();
  }
}
