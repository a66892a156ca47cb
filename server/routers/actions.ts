"use server";

import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { enrollRouter, revokeRouter } from "./service";

export type EnrollmentBundle = { routerId: string; name: string; fileName: string; bundle: string; command: string };

export async function enrollRouterAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("routers.manage"));
  return actionResult<EnrollmentBundle>(async () => {
    const e = await enrollRouter(ctx, { name: formFields(form).name ?? "" });
    // One JSON file with everything the agent needs; the private key exists only in this response.
    const bundle = JSON.stringify({ gatewayUrl: e.gatewayUrl, certificatePem: e.certificatePem, privateKeyPem: e.privateKeyPem, caCertificatePem: e.caCertificatePem }, null, 2);
    const fileName = `router-${ctx.tenantSlug}-${e.router.name.replace(/[^A-Za-z0-9_-]+/g, "-")}.json`;
    const command = `ROUTER_BUNDLE_FILE=${fileName} ROUTER_PACS_AE=<PACS AE title> ROUTER_PACS_HOST=<PACS host> ROUTER_PACS_PORT=<PACS port> npm run router-agent`;
    return { message: `Enrolled ${e.router.name}. Download the bundle now: its private key is not kept anywhere.`, data: { routerId: e.router.id, name: e.router.name, fileName, bundle, command } };
  });
}

export async function revokeRouterAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("routers.manage"));
  return actionResult(async () => {
    const r = await revokeRouter(ctx, id);
    return { message: `Revoked ${r.name}; its connections were closed.` };
  });
}
