import { reauthenticateAction } from "@/server/auth/actions";
import { requireSession } from "@/server/auth/session";

export default async function ReauthPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const user = await requireSession();
  const { callbackUrl } = await searchParams;
  return (
    <>
      <h1 className="text-xl font-semibold">Confirm it&apos;s you</h1>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
        This action needs a fresh sign-in. You will be asked for your credentials again as {user.email}.
      </p>
      <form action={reauthenticateAction} className="mt-6">
        <input type="hidden" name="callbackUrl" value={callbackUrl ?? "/"} />
        <button className="w-full rounded-md bg-sky-700 px-4 py-2 font-medium text-white hover:bg-sky-800">Re-authenticate</button>
      </form>
    </>
  );
}
