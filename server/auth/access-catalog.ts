// Who may reach each page, route handler and server action: the authorization matrix test
// (e2e/authorization-matrix.spec.ts) checks every one against the running console, and fails when a page, route
// or action exists that is not listed here. Permissions come from the one catalog in permissions.ts.
import type { Permission } from "./permissions";

export type AccessRule =
  | { kind: "public" }
  /** any signed-in person */
  | { kind: "signed-in" }
  /** engineers (the IdP group), whatever grants they hold */
  | { kind: "engineer" }
  /** a role in the URL's tenant (membership or break-glass grant) holding the permission; "member" = any role */
  | { kind: "tenant"; permission: Permission | "member" }
  /** the sign-in flow itself: exercised by the sign-in suite, not by calling it blind */
  | { kind: "auth-flow" }
  /** SCIM provisioning (/scim/v2): a tenant's SCIM bearer token, never a session; without one, 401 for everybody */
  | { kind: "scim-token" };

const tenant = (permission: Permission | "member"): AccessRule => ({ kind: "tenant", permission });
const PUBLIC: AccessRule = { kind: "public" };
const SIGNED_IN: AccessRule = { kind: "signed-in" };
const ENGINEER: AccessRule = { kind: "engineer" };
const AUTH_FLOW: AccessRule = { kind: "auth-flow" };
const SCIM_TOKEN: AccessRule = { kind: "scim-token" };

export const PAGES: Record<string, AccessRule> = {
  "/sign-in": PUBLIC,
  "/signed-out": PUBLIC,
  "/reauth": SIGNED_IN,
  "/": SIGNED_IN,
  "/ops": ENGINEER,
  "/ops/audit": ENGINEER,
  "/ops/audit/[seq]": ENGINEER,
  "/ops/break-glass/confirm": ENGINEER,
  "/t/[tenant]": tenant("member"),
  "/t/[tenant]/hold-queue": tenant("hold-queue.view"),
  "/t/[tenant]/hold-queue/[id]": tenant("hold-queue.view"),
  "/t/[tenant]/routers": tenant("routers.view"),
  "/t/[tenant]/retention": tenant("retention.view"),
  "/t/[tenant]/ae-titles": tenant("ae-titles.view"),
  "/t/[tenant]/members": tenant("members.view"),
  "/t/[tenant]/audit": tenant("audit.view"),
  "/t/[tenant]/audit/[seq]": tenant("audit.view"),
  "/t/[tenant]/break-glass": tenant("break-glass.view"),
  "/t/[tenant]/quarantine": tenant("quarantine.view"),
  "/t/[tenant]/quarantine/[id]": tenant("quarantine.view"),
  "/t/[tenant]/migrations": tenant("migrations.view"),
  "/t/[tenant]/migrations/[id]": tenant("migrations.view"),
  "/t/[tenant]/migrations/new": tenant("migrations.operate"),
  "/t/[tenant]/migrations/[id]/plan/edit": tenant("migrations.operate"),
  "/t/[tenant]/migrations/[id]/plan": tenant("migrations.view"),
  "/t/[tenant]/migrations/[id]/record": tenant("migrations.view"),
  "/t/[tenant]/migrations/[id]/spot-check": tenant("migrations.view"),
  "/t/[tenant]/migrations/[id]/reports/[reportId]": tenant("migrations.view"),
  "/t/[tenant]/webhooks": tenant("webhooks.view"),
};

export const ROUTES: Record<string, AccessRule> = {
  "/api/healthz": PUBLIC,
  "/api/auth/[...nextauth]": AUTH_FLOW,
  "/api/t/[tenant]/hold-queue": tenant("hold-queue.view"),
  "/api/t/[tenant]/audit/export": tenant("audit.view"),
  "/api/ops/audit/export": ENGINEER,
  "/api/ops/tenants/[slug]/audit/export": ENGINEER,
  "/api/t/[tenant]/quarantine/[id]/instances/[evidenceId]": tenant("quarantine.view"),
  "/api/t/[tenant]/migrations/[id]/dashboard": tenant("migrations.view"),
  "/api/t/[tenant]/migrations/[id]/closeout": tenant("migrations.view"),
  "/api/t/[tenant]/migrations/[id]/record/pdf": tenant("migrations.view"),
  "/api/t/[tenant]/migrations/[id]/spot-check/instance": tenant("migrations.view"),
  "/api/t/[tenant]/migrations/[id]/reports/[reportId]/pdf": tenant("migrations.view"),
  "/api/t/[tenant]/quarantine/[id]/instances/[evidenceId]/preview": tenant("quarantine.view"),
  "/scim/v2/Users": SCIM_TOKEN,
  "/scim/v2/Users/[id]": SCIM_TOKEN,
  "/scim/v2/Groups": SCIM_TOKEN,
  "/scim/v2/Groups/[id]": SCIM_TOKEN,
  "/scim/v2/ServiceProviderConfig": SCIM_TOKEN,
  "/scim/v2/ResourceTypes": SCIM_TOKEN,
  "/scim/v2/ResourceTypes/[id]": SCIM_TOKEN,
  "/scim/v2/Schemas": SCIM_TOKEN,
  "/scim/v2/Schemas/[id]": SCIM_TOKEN,
};

/** Server actions by `file#export`. */
export const ACTIONS: Record<string, AccessRule> = {
  "server/auth/actions.ts#signInAction": AUTH_FLOW,
  "server/auth/actions.ts#reauthenticateAction": AUTH_FLOW,
  "server/auth/actions.ts#signOutAction": AUTH_FLOW,
  "server/hold-queue/actions.ts#purgeResultAction": tenant("hold-queue.purge"),
  "server/hold-queue/actions.ts#renotifyResultAction": tenant("hold-queue.purge"),
  "server/routers/actions.ts#enrollRouterAction": tenant("routers.manage"),
  "server/routers/actions.ts#revokeRouterAction": tenant("routers.manage"),
  "server/retention/actions.ts#previewRetentionAction": tenant("retention.view"),
  "server/retention/actions.ts#updateRetentionAction": tenant("retention.update"),
  "server/retention/actions.ts#retentionStatusAction": tenant("retention.view"),
  "server/ae-titles/actions.ts#addAeTitleAction": tenant("ae-titles.update"),
  "server/ae-titles/actions.ts#removeAeTitleAction": tenant("ae-titles.update"),
  "server/ae-titles/actions.ts#testAeTitleAction": tenant("ae-titles.view"),
  "server/ae-titles/actions.ts#addPrivateSopClassAction": tenant("ae-titles.update"),
  "server/ae-titles/actions.ts#removePrivateSopClassAction": tenant("ae-titles.update"),
  "server/audit/actions.ts#verifyTenantAuditAction": tenant("audit.view"),
  "server/audit/actions.ts#checkpointTenantAuditAction": tenant("audit.checkpoint"),
  "server/audit/actions.ts#verifyGlobalAuditAction": ENGINEER,
  "server/audit/actions.ts#checkpointGlobalAuditAction": ENGINEER,
  "server/break-glass/actions.ts#prepareGrantAction": ENGINEER,
  "server/break-glass/actions.ts#confirmGrantAction": ENGINEER,
  "server/break-glass/actions.ts#endGrantAction": ENGINEER,
  "server/break-glass/actions.ts#approveGrantAction": tenant("break-glass.manage"),
  "server/break-glass/actions.ts#denyGrantAction": tenant("break-glass.manage"),
  "server/break-glass/actions.ts#revokeGrantAction": tenant("break-glass.manage"),
  "server/break-glass/actions.ts#updatePolicyAction": tenant("break-glass.manage"),
  "server/quarantine/actions.ts#claimItemAction": tenant("quarantine.decide"),
  "server/quarantine/actions.ts#releaseItemAction": tenant("quarantine.decide"),
  "server/quarantine/actions.ts#decideItemAction": tenant("quarantine.decide"),
  "server/quarantine/actions.ts#countersignItemAction": tenant("quarantine.decide"),
  "server/quarantine/actions.ts#decideBatchAction": tenant("quarantine.decide"),
  "server/quarantine/actions.ts#previewPatchAction": tenant("quarantine.decide"),
  "server/quarantine/actions.ts#setReviewPolicyAction": tenant("quarantine.policy"),
  "server/migrations/actions.ts#pauseMigrationAction": tenant("migrations.control"),
  "server/migrations/actions.ts#resumeMigrationAction": tenant("migrations.control"),
  "server/migrations/actions.ts#updateMigrationSettingsAction": tenant("migrations.control"),
  "server/migrations/actions.ts#rollbackMigrationAction": tenant("migrations.control"),
  "server/migrations/actions.ts#generateReportAction": tenant("migrations.report"),
  "server/migrations/plan-form-actions.ts#createPlanAction": tenant("migrations.operate"),
  "server/migrations/plan-form-actions.ts#savePlanVersionAction": tenant("migrations.operate"),
  "server/migrations/plan-form-actions.ts#testConnectionAction": tenant("migrations.operate"),
  "server/migrations/plan-form-actions.ts#previewTransformsAction": tenant("migrations.operate"),
  "server/migrations/plan-form-actions.ts#discoverAction": tenant("migrations.operate"),
  "server/migrations/plan-form-actions.ts#startAction": tenant("migrations.operate"),
  "server/migrations/approval-actions.ts#approveVersionAction": tenant("migrations.approve"),
  "server/tenancy/actions.ts#createTenantAction": ENGINEER,
  "server/tenancy/actions.ts#suspendTenantAction": ENGINEER,
  "server/tenancy/actions.ts#reactivateTenantAction": ENGINEER,
  "server/tenancy/actions.ts#requestOffboardingAction": ENGINEER,
  "server/tenancy/actions.ts#cancelOffboardingAction": ENGINEER,
  "server/tenancy/actions.ts#completeOffboardingAction": ENGINEER,
  "server/tenancy/actions.ts#inviteMemberAction": tenant("members.manage"),
  "server/tenancy/actions.ts#changeRoleAction": tenant("members.manage"),
  "server/tenancy/actions.ts#removeMemberAction": tenant("members.manage"),
  "server/scim/actions.ts#createScimTokenAction": tenant("members.manage"),
  "server/scim/actions.ts#revokeScimTokenAction": tenant("members.manage"),
  "server/migrations/approval-actions.ts#setApprovalPolicyAction": tenant("migrations.policy"),
  "server/migrations/approval-actions.ts#signOffAction": tenant("migrations.approve"),
  "server/migrations/approval-actions.ts#sampleVerifyAction": tenant("migrations.approve"),
  "server/migrations/spot-check-actions.ts#createSpotCheckListAction": tenant("migrations.approve"),
  "server/migrations/spot-check-actions.ts#signSpotCheckAction": tenant("quarantine.decide"),
  "server/webhooks/actions.ts#createWebhookAction": tenant("webhooks.manage"),
  "server/webhooks/actions.ts#removeWebhookAction": tenant("webhooks.manage"),
  "server/webhooks/actions.ts#sendTestWebhookAction": tenant("webhooks.manage"),
};
