import { redirect } from "next/navigation";
import { requireSession } from "@/server/auth/session";
import { listMyTenants } from "@/server/tenancy/service";

/** Home: your (first) tenant, or operations for engineers, or an explanation when you have no access yet. */
export default async function Home() {
  const user = await requireSession();
  const tenants = await listMyTenants({ userId: user.id, email: user.email });
  if (tenants[0]) redirect(`/t/${tenants[0].slug}`);
  if (user.isEngineer) redirect("/ops");
  return (
    <div className="max-w-xl">
      <h1 className="text-2xl font-semibold">No tenant access yet</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-400">
        You are signed in as {user.email}, but no tenant has given this address a role. Ask a tenant admin to add you; your
        access appears at your next sign-in.
      </p>
    </div>
  );
}
