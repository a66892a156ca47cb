"use server";

import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { enrollRouter, revokeRouter } from "./service";

export type EnrollmentBundle = { name: string; code: string; expiresAt: string; fileName: string; bundle: string; command: string };

export async function enrollRouterAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("routers.manage"));
  return actionResult<EnrollmentBundle>(async () => {
    const f = formFields(form);
    const e = await enrollRouter(ctx, { name: f.name ?? "", calledAeTitles: f.calledAeTitles ?? "" });
    // What the router needs for its first start: where the gateway is, the CA to trust it by, and the code. The
    // router makes its key and CSR itself; the code is shown only now (the engine keeps its hash).
    const bundle = JSON.stringify({ gatewayUrl: e.gatewayUrl, enrolmentCode: e.code, caCertificatePem: e.caCertificatePem }, null, 2);
    const fileName = `router-${ctx.tenantSlug}-${e.enrolment.name.replace(/[^A-Za-z0-9_-]+/g, "-")}.json`;
    const command = `ROUTER_BUNDLE_FILE=${fileName} ROUTER_PACS_AE=<PACS AE title> ROUTER_PACS_HOST=<PACS host> ROUTER_PACS_PORT=<PACS port> npm run router-agent`;
    return {
      message: `Enrolment code for ${e.enrolment.name}, valid until ${e.enrolment.expiresAt.replace("T", " ").slice(0, 16)} UTC and usable once. It is shown only now.`,
      data: { name: e.enrolment.name, code: e.code, expiresAt: e.enrolment.expiresAt, fileName, bundle, command },
    };
  });
}

export async function revokeRouterAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("routers.manage"));
  return actionResult(async () => {
    const r = await revokeRouter(ctx, id);
    return { message: `Revoked ${r.name}; its connections were closed.` };
  });
}
