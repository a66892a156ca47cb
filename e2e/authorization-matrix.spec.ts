// The authorization matrix: every page, route handler and server action of the built console × every kind of
// person (tenant admin, clinical and senior reviewer, engineer without a grant, with a read-only grant, with a read-write
// grant, signed out) × their own tenant and another one. The list of pages, routes and actions is read from the
// app directory and from the build's server-action manifest, so a new one without an entry in
// server/auth/access-catalog.ts fails here; every cell must match that catalog and the permissions catalog.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext, type Browser } from "@playwright/test";
import { ACTIONS, PAGES, ROUTES, type AccessRule } from "../server/auth/access-catalog";
import { can, type AccessRole } from "../server/auth/permissions";
import { startOrthanc } from "../test/orthanc";
import { openGrant, signIn, webUrl } from "./helpers";
import { importFolder, makeCtStudy, migrateFolder, quarantineItems } from "./quarantine-fixture";

const ROOT = path.resolve(import.meta.dirname, "..");
const OWN = "northside";
const OTHER = "lakeview";

/** Route patterns of every file named `file` under app/, without route groups: /t/[tenant]/hold-queue. */
function routesOf(file: "page.tsx" | "route.ts") {
  const found: string[] = [];
  const walk = (dir: string, parts: string[]) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name), /^\(.*\)$/.test(e.name) ? parts : [...parts, e.name]);
      else if (e.name === file) found.push(`/${parts.join("/")}`);
    }
  };
  walk(path.join(ROOT, "app"), []);
  return found.sort();
}

function builtActions() {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, ".next/server/server-reference-manifest.json"), "utf8"));
  return Object.entries(manifest.node as Record<string, { filename: string; exportedName: string; workers: Record<string, unknown> }>).map(([id, a]) => {
    // Posted to a page that uses the action (Next answers an action it cannot place with an empty 200), always
    // in the own tenant, so a refusal can only come from the action's own check.
    const worker = Object.keys(a.workers).find((w) => w.startsWith("app/(console)/")) ?? Object.keys(a.workers)[0]!;
    const page = worker.replace(/^app/, "").replace(/\/\([^)]*\)/g, "").replace(/\/page$/, "").replace("[tenant]", OWN).replace("[seq]", "1").replace("[id]", "00000000-0000-4000-8000-000000000000") || "/";
    return { id, key: `${a.filename}#${a.exportedName}`, page };
  });
}

type Identity = { name: string; signedIn: boolean; engineer: boolean; roles: Record<string, AccessRole[]> };
const IDENTITIES: Record<string, Identity> = {
  admin: { name: "tenant admin", signedIn: true, engineer: false, roles: { [OWN]: ["tenant_admin"] } },
  reviewer: { name: "clinical reviewer", signedIn: true, engineer: false, roles: { [OWN]: ["clinical_reviewer"] } },
  senior: { name: "senior reviewer", signedIn: true, engineer: false, roles: { [OWN]: ["senior_reviewer"] } },
  lead: { name: "migration operator", signedIn: true, engineer: false, roles: { [OWN]: ["migration_operator"] } },
  engineer: { name: "engineer without a grant", signedIn: true, engineer: true, roles: {} },
  engineerRead: { name: "engineer, read-only grant", signedIn: true, engineer: true, roles: { [OWN]: ["engineer_read_only"] } },
  engineerWrite: { name: "engineer, read-write grant", signedIn: true, engineer: true, roles: { [OWN]: ["engineer_read_write"] } },
  anonymous: { name: "signed out", signedIn: false, engineer: false, roles: {} },
};

function allowed(rule: AccessRule, who: Identity, tenant: string) {
  switch (rule.kind) {
    case "public":
      return true;
    case "signed-in":
      return who.signedIn;
    case "engineer":
      return who.engineer;
    case "tenant": {
      const roles = who.roles[tenant] ?? [];
      return rule.permission === "member" ? roles.length > 0 : can(roles, rule.permission);
    }
    case "auth-flow":
      return true;
    case "scim-token":
      // a session (any) is not a SCIM token: 401 for everybody (the SCIM suite checks the tokens themselves)
      return false;
  }
}

/** Sample arguments for calling each action directly, as a client could: the tenant first, then nonsense. */
function actionArgs(key: string, tenant: string): unknown[] {
  const name = key.split("#")[1]!;
  if (/Global|prepareGrant/.test(name)) return [];
  if (/confirmGrant|endGrant/.test(name)) return ["not-a-token"];
  if (/AeTitle/.test(name)) return [tenant, "called"];
  return [tenant, "not-an-id"];
}

test.describe("authorization matrix", () => {
  test("every page, route handler and server action is in the access catalog", () => {
    expect(routesOf("page.tsx")).toEqual(Object.keys(PAGES).sort());
    expect(routesOf("route.ts")).toEqual(Object.keys(ROUTES).sort());
    expect(builtActions().map((a) => a.key).sort()).toEqual(Object.keys(ACTIONS).sort());
  });

  test("every cell matches the catalog", async ({ browser }) => {
    test.setTimeout(300_000);
    // Concrete values for the dynamic segments: a result of each tenant (sent by a vendor now), audit entry 1.
    const resultIds: Record<string, string> = {};
    const engineApi = (p: string) => fetch(`${process.env.E2E_ENGINE_ADMIN_URL}${p}`, { headers: { authorization: `Bearer ${process.env.E2E_ENGINE_ADMIN_TOKEN}` } });
    for (const [slug, ae] of [[OWN, "NORTHSIDE"], [OTHER, "LAKEVIEW"]] as const) {
      await expect.poll(async () => (await engineApi(`/v1/tenants/${slug}`)).status, { timeout: 30_000 }).toBe(200); // config applied
      execFileSync("storescu", ["-aet", "MATRIX", "-aec", ae, "localhost", process.env.E2E_ENGINE_DICOM_PORT!, "/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small.dcm"]);
      const list = await engineApi(`/v1/tenants/${slug}/results?limit=1`).then((r) => r.json());
      resultIds[slug] = list.results[0].id;
    }
    // A quarantined study of each tenant (a character set that does not exist), with one of its evidence instances.
    const quarantined: Record<string, { id: string; evidenceId: string }> = {};
    const stops: (() => Promise<void>)[] = [];
    for (const slug of [OWN, OTHER]) {
      makeCtStudy(path.join(importFolder(slug, "matrix"), "s"), 1, { extra: ["-i", "(0008,0005)=ISO_IR 999"] });
      const m = await migrateFolder(slug, "matrix");
      stops.push(m.target.stop);
      const [item] = await quarantineItems(slug, m.id);
      const detail = (await engineApi(`/v1/tenants/${slug}/quarantine/${item!.id}`).then((r) => r.json())) as { instances: { id: string }[] };
      quarantined[slug] = { id: item!.id, evidenceId: detail.instances[0]!.id };
    }
    // A migration of each tenant (an archive that answers C-ECHO is all a plan needs), and a report on it.
    const archive = await startOrthanc({ aeTitle: "MATRIXPACS" });
    const migrationIds: Record<string, string> = {};
    const reportIds: Record<string, string> = {};
    for (const [slug, email] of [[OWN, "admin@northside.test"], [OTHER, "admin@lakeview.test"]] as const) {
      const peer = { kind: "dicom", aeTitle: "MATRIXPACS", host: "127.0.0.1", port: archive.port };
      const created = await fetch(`${process.env.E2E_ENGINE_ADMIN_URL}/v1/tenants/${slug}/migrations`, {
        method: "POST",
        headers: { authorization: `Bearer ${process.env.E2E_ENGINE_ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `matrix ${slug}`, sources: [{ ...peer, id: "legacy" }], target: peer, filters: { studyDateFrom: "2020-01-01", studyDateTo: "2020-12-31" } }),
      }).then((r) => r.json());
      migrationIds[slug] = created.id;
      const admin = await browser.newPage();
      await signIn(admin, email, "demo", `/t/${slug}/migrations/${created.id}`);
      await admin.getByRole("button", { name: "Generate report now" }).click();
      const link = admin.getByTestId("report-row").getByRole("link", { name: "page" });
      await expect(link).toBeVisible({ timeout: 60_000 });
      reportIds[slug] = (await link.getAttribute("href"))!.split("/").at(-1)!;
      await admin.close();
    }
    await archive.stop();
    const url = (pattern: string, tenant: string) => {
      const id = pattern.includes("/migrations/[id]") ? migrationIds[tenant]! : resultIds[tenant]!;
      const u = pattern
        .replace("[tenant]", tenant)
        .replace("[slug]", "harbourview") // the demo's offboarded tenant (db/seed-offboarded.ts)
        .replace("[seq]", "1")
        .replace("/quarantine/[id]", `/quarantine/${quarantined[tenant]!.id}`)
        .replace("[evidenceId]", quarantined[tenant]!.evidenceId)
        .replace("[id]", id)
        .replace("[reportId]", reportIds[tenant]!)
        .replace("/confirm", "/confirm?draft=x");
      return u.endsWith("/closeout") ? `${u}?part=reconciliation&format=json` : u;
    };
    const actions = builtActions().filter((a) => ACTIONS[a.key]!.kind !== "auth-flow");

    const failures: string[] = [];
    const check = (cell: string, ok: boolean) => void (ok || failures.push(cell));

    async function run(who: Identity, request: APIRequestContext) {
      for (const tenant of [OWN, OTHER]) {
        for (const [pattern, rule] of Object.entries(PAGES)) {
          if (!pattern.includes("[tenant]") && tenant === OTHER) continue;
          const res = await request.get(webUrl() + url(pattern, tenant), { maxRedirects: 0 });
          const status = res.status();
          const expectOk = allowed(rule, who, tenant);
          const cell = `${who.name} GET ${url(pattern, tenant)} → ${status}, expected ${expectOk ? "allowed" : "denied"}`;
          // Allowed: the page, or its own redirect onward (the console root; sign-in when already signed in).
          if (expectOk) check(cell, status === 200 || (status === 307 && !/\/sign-in/.test(res.headers().location ?? "")));
          else check(cell, who.signedIn ? status === 404 : status === 307 && /\/sign-in/.test(res.headers().location ?? ""));
        }
        for (const [pattern, rule] of Object.entries(ROUTES)) {
          if (rule.kind === "auth-flow" || (!pattern.includes("[tenant]") && tenant === OTHER)) continue;
          const res = await request.get(webUrl() + url(pattern, tenant), { maxRedirects: 0 });
          const status = res.status();
          const expectOk = allowed(rule, who, tenant);
          const cell = `${who.name} GET ${url(pattern, tenant)} → ${status}, expected ${expectOk ? "allowed" : "denied"}`;
          // The record of a migration nobody signed off yet, or an instance of a study on no spot-check list, is a
          // 409 for those who may read the migration.
          const answered = status === 200 || ((pattern.endsWith("/record/pdf") || pattern.endsWith("/spot-check/instance")) && status === 409);
          check(cell, expectOk ? answered : status === (who.signedIn && rule.kind !== "scim-token" ? 404 : 401));
        }
        for (const a of actions) {
          const rule = ACTIONS[a.key]!;
          if (rule.kind !== "tenant" && tenant === OTHER) continue;
          const res = await request.post(`${webUrl()}${a.page}`, {
            headers: { "next-action": a.id, "content-type": "text/plain;charset=UTF-8", accept: "text/x-component" },
            data: JSON.stringify(actionArgs(a.key, tenant)),
            maxRedirects: 0,
          });
          const status = res.status();
          const expectOk = allowed(rule, who, tenant);
          const cell = `${who.name} action ${a.key}(${tenant}) → ${status}, expected ${expectOk ? "allowed" : "denied"}`;
          if (expectOk) check(cell, status === 200 || status === 303);
          // Signed out, the proxy sends the caller to sign in before any action runs.
          else check(cell, who.signedIn ? status === 404 : [303, 307].includes(status) && /sign-in/.test(res.headers()["x-action-redirect"] ?? res.headers().location ?? ""));
        }
      }
    }

    const signedIn = async (b: Browser, email: string) => {
      const page = await b.newPage();
      await signIn(page, email);
      return page;
    };
    for (const [key, email] of [["admin", "admin@northside.test"], ["reviewer", "reviewer@northside.test"], ["senior", "senior@northside.test"], ["lead", "lead@northside.test"]] as const) {
      const page = await signedIn(browser, email);
      await run(IDENTITIES[key]!, page.request);
      await page.close();
    }
    const anonymous = await browser.newPage();
    await run(IDENTITIES.anonymous!, anonymous.request);
    await anonymous.close();

    const engineer = await signedIn(browser, "engineer@vendor.test");
    await run(IDENTITIES.engineer!, engineer.request);
    for (const [key, scope] of [["engineerRead", "read_only"], ["engineerWrite", "read_write"]] as const) {
      await openGrant(engineer, scope);
      await run(IDENTITIES[key]!, engineer.request);
      await engineer.getByTestId("end-grant").click();
      await expect(engineer).toHaveURL(/\/ops\?ended=1/);
    }
    await engineer.close();
    for (const stop of stops) await stop();
    expect(failures, failures.join("\n")).toEqual([]);
  });
});
