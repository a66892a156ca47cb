// The development OpenID Connect provider (`npm run dev-idp`; the launcher starts it when AUTH_OIDC_ISSUER is unset).
import { z } from "zod";
import { startDevIdp } from "./dev-idp/provider";

const Env = z.object({
  DEV_IDP_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  AUTH_OIDC_CLIENT_ID: z.string().min(1).default("imaging-console"),
  AUTH_OIDC_CLIENT_SECRET: z.string().min(1),
  AUTH_URL: z.url(),
});

async function main() {
  const parsed = Env.safeParse(process.env);
  if (!parsed.success) {
    console.error(`dev IdP: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    process.exit(2);
  }
  const env = parsed.data;
  const app = env.AUTH_URL.replace(/\/$/, "");
  const idp = await startDevIdp({
    port: env.DEV_IDP_PORT,
    clients: [
      {
        clientId: env.AUTH_OIDC_CLIENT_ID,
        clientSecret: env.AUTH_OIDC_CLIENT_SECRET,
        redirectUris: [`${app}/api/auth/callback/oidc`],
        postLogoutRedirectUris: [`${app}/signed-out`, `${app}/`],
      },
    ],
  });
  console.log(`development identity provider (not for production) at ${idp.issuer}`);
  const stop = () => void idp.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // Started by the launcher in a process group of its own: if the launcher is gone without stopping us (killed,
  // its terminal closed), nothing else would, and the next start would find the port taken.
  const launcher = Number(process.env.LAUNCHER_PID);
  if (launcher > 0) setInterval(() => (alive(launcher) ? undefined : stop()), 1000).unref();
}

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

void main();
