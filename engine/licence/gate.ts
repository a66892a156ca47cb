// The engine's view of its licence: read and verified at start-up and daily (a renewed file is picked up without a
// restart), and asked before new work. A missing, tampered or expired licence only ever refuses new work — new
// associations, starting or resuming migrations — and never touches what is held: results already received still
// reach routers until their TTL, and a running migration is paused, not aborted, so a renewal carries on from
// where it stood. Hosted engines need no licence and every question answers "allowed".
import { readFile } from "node:fs/promises";
import type { EngineDb } from "../store/db";
import type { Feature, LicencePayload } from "./format";
import { verifyLicence } from "./format";
import { licenceUsage, type LicenceUsage } from "./usage";

const DAY = 86_400_000;
/** How far ahead the console warns of expiry. */
export const WARN_DAYS = 30;
const WORK: Record<Feature, string> = { relay: "relay work (DICOM associations)", migration: "migration work" };

export type LimitName = keyof LicenceUsage;

/** Whole days left (the expiry day counts: valid through its end, UTC); ≤ 0 once expired; null if perpetual. */
export function daysToExpiry(p: Pick<LicencePayload, "expiresAt">, now: Date): number | null {
  if (!p.expiresAt) return null;
  return Math.ceil((Date.parse(`${p.expiresAt}T00:00:00Z`) + DAY - now.getTime()) / DAY);
}

const tb = (n: number) => (n >= 1 ? n.toFixed(2) : n.toPrecision(3)).replace(/\.?0+$/, "");

export class LicenceGate {
  private payload: LicencePayload | null = null;
  private problem: string | null = "the licence has not been checked yet";
  private checkedAt: Date | null = null;

  constructor(
    private readonly opts: {
      mode: "hosted" | "self-hosted";
      file?: string;
      /** the vendor's public key (raw base64), or the development override */
      trustedKey: string;
      /** when set, the licence must be issued for this deployment */
      deploymentId?: string;
      db: EngineDb;
      now: () => Date;
      log: (m: string) => void;
    },
  ) {}

  get required() {
    return this.opts.mode === "self-hosted";
  }

  /** Reads and verifies the licence file; the outcome is logged and kept until the next check. */
  async check() {
    if (!this.required) {
      if (this.opts.file) this.opts.log("ENGINE_LICENCE_FILE is ignored: hosted engines need no licence (ENGINE_MODE=self-hosted uses it)");
      return;
    }
    this.checkedAt = this.opts.now();
    const { payload, problem } = await this.read();
    this.payload = payload;
    this.problem = problem;
    if (problem) return this.opts.log(`licence refused: ${problem}. New relay and migration work is refused; held results are still delivered.`);
    const days = daysToExpiry(payload!, this.opts.now());
    const until = payload!.expiresAt ? `until ${payload!.expiresAt} (${days} day(s) left)` : "perpetual";
    this.opts.log(`licence: ${payload!.licensee}, deployment ${payload!.deploymentId}, ${payload!.features.join(" + ")}, ${until}`);
    if (days !== null && days <= 0) this.opts.log(this.refusal(payload!.features[0]!)!);
  }

  private async read(): Promise<{ payload: LicencePayload; problem: null } | { payload: null; problem: string }> {
    const file = this.opts.file;
    if (!file) return { payload: null, problem: "no licence file is configured (ENGINE_LICENCE_FILE)" };
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      return { payload: null, problem: `cannot read the licence file ${file}: ${e instanceof Error ? e.message : e}` };
    }
    const r = verifyLicence(text, this.opts.trustedKey);
    if (!r.ok) return { payload: null, problem: r.problem };
    if (r.payload.mode !== this.opts.mode) return { payload: null, problem: `the licence is for a ${r.payload.mode} deployment, this engine runs ${this.opts.mode}` };
    if (this.opts.deploymentId && r.payload.deploymentId !== this.opts.deploymentId)
      return { payload: null, problem: `the licence is for deployment "${r.payload.deploymentId}", this engine is "${this.opts.deploymentId}" (ENGINE_DEPLOYMENT_ID)` };
    return { payload: r.payload, problem: null };
  }

  /** Why new work of this feature is refused now, or null when it may go ahead. */
  refusal(feature: Feature): string | null {
    if (!this.required) return null;
    const p = this.payload;
    if (!p) return `Licence refused: ${this.problem}. New ${WORK[feature]} is not accepted; held results are still delivered.`;
    if (!p.features.includes(feature)) return `The licence does not include ${feature}: new ${WORK[feature]} is not accepted.`;
    const days = daysToExpiry(p, this.opts.now());
    if (days !== null && days <= 0)
      return `The licence expired on ${p.expiresAt}: new ${WORK[feature]} is not accepted until it is renewed; held results are still delivered and running migrations are paused, not aborted.`;
    return null;
  }

  /** Why adding one more of `limit` (a router, a tenant, more migrated bytes) is refused, naming limit and usage. */
  async limitRefusal(limit: LimitName): Promise<string | null> {
    const max = this.required ? this.payload?.limits[limit] : null;
    if (max === null || max === undefined) return null;
    const used = (await licenceUsage(this.opts.db))[limit];
    if (used < max) return null;
    if (limit === "routers") return `Licence limit reached: ${used} of ${max} routers are enrolled or have an enrolment code; revoke one or renew the licence with a higher router limit to enrol another.`;
    if (limit === "tenants") return `Licence limit reached: ${used} of ${max} tenants are configured; a licence with a higher tenant limit is needed for another.`;
    return `Licence limit reached: ${tb(used)} TB of ${max} TB migrated; migration work does not start until the licence allows more.`;
  }

  /** What GET /v1/licence reports: the licence, usage against its limits, days to expiry and any warning. */
  async status() {
    const usage = await licenceUsage(this.opts.db);
    const base = { mode: this.opts.mode, usage, checkedAt: this.checkedAt?.toISOString() ?? null };
    if (!this.required) return { ...base, status: "not_required" as const, message: "Hosted deployment: no licence file is needed.", warning: null, licence: null, daysToExpiry: null };
    const p = this.payload;
    if (!p) return { ...base, status: "invalid" as const, message: `Licence refused: ${this.problem}.`, warning: null, licence: null, daysToExpiry: null };
    const { format: _format, ...licence } = p;
    const days = daysToExpiry(p, this.opts.now());
    if (days !== null && days <= 0) return { ...base, status: "expired" as const, message: this.refusal(p.features[0]!)!, warning: null, licence, daysToExpiry: days };
    const message = `Licensed to ${p.licensee} (deployment ${p.deploymentId}) ${p.expiresAt ? `until ${p.expiresAt}` : "perpetually"}.`;
    const warning = days !== null && days <= WARN_DAYS ? `The licence expires in ${days} day(s), on ${p.expiresAt}: renew it before then, or new relay and migration work stops.` : null;
    return { ...base, status: "valid" as const, message, warning, licence, daysToExpiry: days };
  }
}
