import { engineerHandler } from "@/server/api/handlers";
import { exportResponse } from "@/server/audit/export";
import { offboardedTenantChain } from "@/server/tenancy/offboarding";

export const dynamic = "force-dynamic";

/** An offboarded tenant's kept audit chain as JSON Lines or CSV, for engineers (the export is audited). */
export const GET = engineerHandler<{ slug: string }>(async (req, engineer, { slug }) => exportResponse(await offboardedTenantChain(engineer, slug), new URL(req.url)));
